"""Start-up: the configuration made into running parts — back-end (or the embedded
simulator), outbox, devices, and the check-in journey — and their orderly shutdown.

``kiosk run``, ``kiosk demo`` and the UI tests all assemble the kiosk here, so the demo
runs the production code paths with simulated parts in place of real ones.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hardware.card_encoder import open_encoder
from hardware.card_encoder.simulator import SimEncoder
from hardware.config import DevicesConfig
from hardware.dispenser import open_dispenser
from hardware.dispenser.simulator import SimDispenser
from hardware.health import DeviceHealth
from hardware.payment import open_payment_terminal
from hardware.printer import open_printer
from kiosk.api.openability import OpenAbilityClient
from kiosk.api.pms import PmsClient
from kiosk.backends.factory import open_backend, open_client
from kiosk.config import KioskConfig
from kiosk.i18n import Catalogue
from kiosk.journeys.checkin import CheckinJourney
from kiosk.journeys.devices import Devices, SimCardPath
from kiosk.journeys.payment import SqlitePaymentLog
from kiosk.outbox import DirectOutbox
from kiosk.sim.demo import seed_demo
from kiosk.sim.server import Faults, SimServer

log = logging.getLogger("kiosk.runtime")


@dataclass
class Runtime:
    """The running kiosk core. ``demo`` is the seeded demo's description when embedded."""

    config: KioskConfig
    journey: CheckinJourney
    devices: Devices
    client: PmsClient | OpenAbilityClient
    sim: SimServer | None = None
    demo: dict[str, Any] | None = None
    _closers: list[Any] = field(default_factory=list)

    def health_sources(self) -> list[Callable[[], DeviceHealth]]:
        """Each device's ``health`` (the operator menu, ``kiosk doctor``, telemetry)."""
        parts = [self.devices.terminal, self.devices.dispenser, self.devices.encoder]
        if self.devices.printer is not None:
            parts.append(self.devices.printer)
        return [part.health for part in parts]

    async def aclose(self) -> None:
        await self.client.aclose()
        for close in reversed(self._closers):
            with contextlib.suppress(Exception):  # one device failing to close stops no other
                close()
        if self.sim is not None:
            self.sim.stop()
            self.sim.db.close()


def start_simulator(config: KioskConfig) -> tuple[SimServer, dict[str, Any]]:
    """The embedded property simulator of ``[sim]``, with the demo property seeded."""
    config.sim.db.parent.mkdir(parents=True, exist_ok=True)
    server = SimServer(
        config.sim.db,
        config.backend.token.get_secret_value(),
        host=config.sim.host,
        port=config.sim.port,
        faults=Faults(latency_ms=config.sim.latency_ms, failure_rate=config.sim.failure_rate),
    ).start()
    demo = seed_demo(server, seed=config.sim.seed, timezone=config.journey.timezone)
    return server, demo


def open_devices(config: DevicesConfig) -> tuple[Devices, list[Any]]:
    """The journey's devices from ``[devices]``, and their ``close`` calls.

    A simulated dispenser and a simulated encoder are joined into one card path (the
    encoder's field is the dispenser's RF position), as the hardware is on a kiosk.
    """
    closers: list[Any] = []
    terminal = open_payment_terminal(config.payment)
    closers.append(terminal.close)
    dispenser = open_dispenser(config.dispenser)
    closers.append(dispenser.close)
    encoder = open_encoder(config.encoder)
    closers.append(encoder.close)
    if isinstance(dispenser, SimDispenser) and isinstance(encoder, SimEncoder):
        dispenser = SimCardPath(dispenser, encoder)
        dispenser.open()
    printer = open_printer(config.printer)
    closers.append(printer.close)
    return Devices(
        terminal=terminal, dispenser=dispenser, encoder=encoder, printer=printer
    ), closers


async def start_runtime(config: KioskConfig) -> Runtime:
    """Everything the kiosk runs on; ``backend.base_url`` "" embeds the simulator."""
    sim, demo = None, None
    backend_config = config.backend
    if not backend_config.base_url:
        sim, demo = start_simulator(config)
        backend_config = backend_config.model_copy(update={"base_url": sim.url})
        log.info("embedded property simulator on %s", sim.url)
    client = open_client(backend_config)
    outbox = DirectOutbox.for_clients(**{backend_config.kind: client})
    backend = open_backend(backend_config, outbox, client=client)
    devices, closers = open_devices(config.devices)
    payment_log = SqlitePaymentLog(config.journey.payment_log)
    closers.append(payment_log.close)
    signing_key = config.qr.signing_key
    journey = CheckinJourney(
        backend,
        devices,
        config.journey,
        payment_log,
        Catalogue.load(tz=config.journey.timezone),
        signing_key=signing_key.get_secret_value().encode() if signing_key else None,
        qr_max_length=config.qr.max_length,
    )
    return Runtime(config, journey, devices, client, sim, demo, closers)

