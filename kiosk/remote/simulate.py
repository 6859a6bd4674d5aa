"""A simulated fleet (``kiosk fleet simulate``): N lightweight kiosks in one process, each
the real ``FleetAgent`` with its own MQTT connection, over a simulated kiosk instead of a
runtime. They publish status, telemetry and events in varied states and alerts (paper
low, card stock low, reject bin full, a device fault, an outbox backlog, out of service)
and answer every command. Demos, tests and the benchmark run on it.

Their command secrets come from ``[remote] fleet_key`` of the same config as the
operator's, so ``kiosk fleet`` (and a console) can command them. Never imported by the
kiosk itself.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hardware.health import DeviceHealth, HealthLevel
from kiosk.config import RemoteConfig
from kiosk.journeys.messages import Step
from kiosk.remote.agent import CommandFailed, FleetAgent, Handler, Outcome, Snapshot
from kiosk.remote.connection import Broker, tls_context
from kiosk.remote.schemas import JourneyCounts, OutboxDepth
from kiosk.remote.signing import kiosk_secret

log = logging.getLogger("kiosk.remote.simulate")

SCENARIOS = (
    "healthy",
    "healthy",
    "healthy",
    "paper_low",
    "card_stock_low",
    "reject_bin_full",
    "device_fault",
    "outbox_backlog",
    "out_of_service",
)
SCREENS = [Step.ATTRACT, Step.SCAN, Step.SUMMARY, Step.PAYMENT, Step.KEY_PROGRESS, Step.DONE]


@dataclass
class SimKiosk:
    """One simulated kiosk's state, changed by a random walk and by commands."""

    name: str
    scenario: str
    rng: random.Random
    in_service: bool = True
    screen: str = Step.ATTRACT.value
    journeys: JourneyCounts = field(default_factory=JourneyCounts)
    outbox_queued: int = 0
    settings: dict[str, Any] = field(default_factory=dict)
    agent: FleetAgent | None = None

    def __post_init__(self) -> None:
        self.in_service = self.scenario != "out_of_service"
        self.outbox_queued = 25 if self.scenario == "outbox_backlog" else 0

    def step(self) -> None:
        """A little life: a guest or two, the screen moving on, a journey ending."""
        if not self.in_service:
            self.screen = Step.OUT_OF_SERVICE.value
            return
        self.screen = self.rng.choice(SCREENS).value
        roll = self.rng.random()
        if roll < 0.2:
            self.journeys.completed += 1
            self._emit("checkin_completed", outcome="checked_in")
        elif roll < 0.25:
            reason = self.rng.choice(["payment_declined", "unknown_code", "wrong_day"])
            self.journeys.refused[reason] = self.journeys.refused.get(reason, 0) + 1
            self._emit("checkin_failed", outcome=f"refused:{reason}")
        elif roll < 0.27:
            self._emit("staff_requested", screen=Step.PAYMENT.value)

    def _emit(self, event: str, **detail: Any) -> None:
        if self.agent is not None:
            self.agent.emit(event, **detail)

    def devices(self) -> list[DeviceHealth]:
        paper, stock, reject = "ok", "ok", False
        printer = DeviceHealth("printer", HealthLevel.OK, "", {"paper": "ok", "online": True})
        if self.scenario == "paper_low":
            paper = "near_end"
            printer = DeviceHealth("printer", HealthLevel.WARNING, "paper near end")
        if self.scenario == "device_fault":
            printer = DeviceHealth("printer", HealthLevel.FAULT, "printer offline")
        printer.metrics.update(paper=paper, online=self.scenario != "device_fault")
        if self.scenario == "card_stock_low":
            stock = "low"
        level, detail = HealthLevel.OK, ""
        if stock == "low":
            level, detail = HealthLevel.WARNING, "card stock low"
        if self.scenario == "reject_bin_full":
            reject, level, detail = True, HealthLevel.FAULT, "reject bin full"
        dispenser = DeviceHealth(
            "dispenser", level, detail, {"stock": stock, "reject_bin_full": reject, "jammed": False}
        )
        return [
            DeviceHealth("payment", HealthLevel.OK, "terminal idle"),
            dispenser,
            DeviceHealth("encoder", HealthLevel.OK, "reader sim"),
            printer,
        ]


class SimPort:
    """``KioskPort`` of a simulated kiosk."""

    def __init__(self, kiosk: SimKiosk) -> None:
        self.kiosk = kiosk

    def snapshot(self) -> Snapshot:
        k = self.kiosk
        return Snapshot(
            screen=k.screen,
            in_service=k.in_service,
            devices=k.devices(),
            outbox=OutboxDepth(queued=k.outbox_queued, dead=1 if k.outbox_queued else 0),
            backend_reachable=True,
            journeys_today=k.journeys.model_copy(deep=True),
        )

    @property
    def handlers(self) -> Mapping[str, Handler]:
        return {
            "maintenance": self._maintenance,
            "restart": self._ok("restarting"),
            "reload_config": self._ok("valid"),
            "set_config": self._set_config,
            "self_test": self._self_test,
            "print_test": self._print_test,
            "outbox_list": self._outbox_list,
            "outbox_retry": self._outbox_retry,
            "screenshot": self._screenshot,
            "log_tail": self._log_tail,
        }

    def _ok(self, what: str) -> Handler:
        async def handler(_args: Any) -> Outcome:
            return Outcome({what: True})

        return handler

    async def _maintenance(self, args: Any) -> Outcome:
        self.kiosk.in_service = not args.on
        self.kiosk.screen = Step.OUT_OF_SERVICE.value if args.on else Step.ATTRACT.value
        return Outcome({"in_service": self.kiosk.in_service})

    async def _set_config(self, args: Any) -> Outcome:
        self.kiosk.settings[args.key] = args.value
        return Outcome({"key": args.key, "restart_required": True})

    async def _self_test(self, _args: Any) -> Outcome:
        checks = [d.as_dict() for d in self.kiosk.devices()]
        worst = max((c["level"] for c in checks), key=["ok", "warning", "fault"].index)
        return Outcome({"overall": worst, "checks": checks})

    async def _print_test(self, _args: Any) -> Outcome:
        if self.kiosk.scenario == "device_fault":
            raise CommandFailed("print test failed: PrinterOffline")
        return Outcome({"printed": True})

    async def _outbox_list(self, _args: Any) -> Outcome:
        entries = [
            {"id": i + 1, "operation": "cashier", "state": "pending", "attempts": 3}
            for i in range(self.kiosk.outbox_queued)
        ]
        return Outcome({"counts": {"pending": self.kiosk.outbox_queued}, "entries": entries})

    async def _outbox_retry(self, _args: Any) -> Outcome:
        made_due, self.kiosk.outbox_queued = self.kiosk.outbox_queued, 0
        return Outcome({"made_due": made_due})

    async def _screenshot(self, _args: Any) -> Outcome:
        png = await asyncio.to_thread(_picture, self.kiosk.name, self.kiosk.screen)
        return Outcome({"png_base64": base64.b64encode(png).decode(), "screen": self.kiosk.screen})

    async def _log_tail(self, args: Any) -> Outcome:
        lines = [f"INFO kiosk.service: guest journey ended: checked_in ({n})" for n in range(3)]
        return Outcome({"lines": lines[-args.lines :]})


def _picture(name: str, screen: str) -> bytes:
    """A small PNG standing in for the kiosk's screen: its name and the screen shown."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (270, 480), (24, 48, 96))
    draw = ImageDraw.Draw(image)
    draw.text((16, 200), f"{name}\n{screen}", fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def kiosk_names(count: int) -> list[str]:
    return [f"sim-{n:04d}" for n in range(1, count + 1)]


async def run_fleet(
    config: RemoteConfig,
    count: int,
    *,
    seed: int = 1,
    sites: int = 10,
    step_s: float = 5.0,
) -> None:
    """Run ``count`` simulated kiosks until cancelled (each says "offline" as it stops)."""
    rng = random.Random(seed)
    fleet_key = config.fleet_key.get_secret_value() if config.fleet_key else None
    if fleet_key is None:
        log.warning("no [remote] fleet_key: the simulated kiosks refuse every command")
    tls = tls_context(config) if any(Broker.parse(u).tls for u in config.brokers) else None
    kiosks: list[SimKiosk] = []
    for n, name in enumerate(kiosk_names(count)):
        site = f"site-{n % sites + 1:02d}"
        kiosk = SimKiosk(name, rng.choice(SCENARIOS), random.Random(rng.random()))
        kiosk_config = config.model_copy(update={"kiosk_id": name, "site": site, "username": ""})
        secret = kiosk_secret(fleet_key, name) if fleet_key else None
        kiosk.agent = FleetAgent(
            kiosk_config, SimPort(kiosk), kiosk_id=name, secret=secret, tls=tls
        )
        kiosks.append(kiosk)
    for kiosk in kiosks:
        assert kiosk.agent is not None
        kiosk.agent.start()
    log.info("%d simulated kiosks started", count)
    try:
        while True:
            await asyncio.sleep(step_s)
            for kiosk in kiosks:
                kiosk.step()
    finally:
        await asyncio.gather(*(k.agent.stop() for k in kiosks if k.agent), return_exceptions=True)
