"""The fleet agent wired to the real kiosk: what telemetry reads from the runtime (outbox,
back-end, devices) and the guest service (screen, service state, journeys), and the
command hooks the kiosk has.

``RemoteKiosk.start(runtime)`` runs at start-up (``Runtime.start_background``) when
``[remote] brokers`` names a broker; ``serve_kiosk`` then attaches the guest service, the
restart hook and the screenshot hook (``attach``). A command whose hook is not there (no
guest service under ``kiosk play``, no screen, no config file) is answered "not
available".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hardware.health import DeviceHealth, HealthLevel
from kiosk.journeys.amenity import AMENITY_DONE
from kiosk.journeys.checkin import CARD_NOT_TAKEN, CHECKED_IN
from kiosk.journeys.checkout import CHECKED_OUT
from kiosk.journeys.extend import EXTENDED
from kiosk.journeys.key_desk import KEY_ISSUED, KEY_REPLACED
from kiosk.journeys.messages import Action, ActionKind, Channel, Step, View, WatchedQueue
from kiosk.journeys.result import JourneyResult
from kiosk.offline import OfflineBackend
from kiosk.outbox import DEAD
from kiosk.remote.agent import (
    CommandFailed,
    FleetAgent,
    Handler,
    NotAvailable,
    Outcome,
    Snapshot,
    default_kiosk_id,
)
from kiosk.remote.logtail import LogTail
from kiosk.remote.schemas import JourneyCounts, OutboxDepth
from kiosk.service import collect_health

if TYPE_CHECKING:
    from kiosk.runtime import Runtime
    from kiosk.service import GuestService

log = logging.getLogger("kiosk.remote")

IDLE_STEPS = frozenset({Step.ATTRACT, Step.OUT_OF_SERVICE})  # no guest at the kiosk
# How each journey ends when the guest got what they came for.
COMPLETED = frozenset(
    {CHECKED_IN, CARD_NOT_TAKEN, CHECKED_OUT, EXTENDED, KEY_ISSUED, KEY_REPLACED, AMENITY_DONE}
)


class JourneyTally:
    """Today's journeys by outcome, in the property's day."""

    def __init__(self, today: Callable[[], Any]) -> None:
        self._today = today
        self._day = today()
        self.counts = JourneyCounts()

    def add(self, outcome: str, journey: str = "checkin") -> str | None:
        """Count ``outcome`` of a ``journey``; the event it makes, if any (the check-in's:
        the other journeys are counted, and raise no event of their own)."""
        if self._today() != self._day:
            self._day, self.counts = self._today(), JourneyCounts()
        c = self.counts
        checkin = journey == "checkin"
        if outcome in COMPLETED:
            c.completed += 1
            return "checkin_completed" if checkin else None
        if outcome.startswith("refused:"):
            reason = outcome.removeprefix("refused:")
            c.refused[reason] = c.refused.get(reason, 0) + 1
            return "checkin_failed" if checkin else None
        if outcome.startswith("failed"):
            c.failed += 1
            return "checkin_failed" if checkin else None
        c.abandoned += 1
        return None


class RemoteKiosk:
    """The agent and the kiosk's port to it."""

    def __init__(self, runtime: Runtime) -> None:
        remote = runtime.config.remote
        self.runtime = runtime
        self.config_path = runtime.config_path
        zone = runtime.config.journey.zone
        self.tally = JourneyTally(lambda: datetime.now(zone).date())
        self.screen = ""
        self.service: GuestService | None = None
        self.restart: Callable[[], Any] | None = None
        self.screenshot: Callable[[], Awaitable[bytes]] | None = None
        self.logs = LogTail(remote.log_tail_lines).install()
        secret = None
        if remote.command_secret is not None:
            secret = remote.command_secret.get_secret_value().encode()
        else:
            log.warning("[remote] command_secret unset: every fleet command will be refused")
        self.agent = FleetAgent(remote, self, kiosk_id=default_kiosk_id(remote), secret=secret)

    @classmethod
    def start(cls, runtime: Runtime) -> RemoteKiosk:
        kiosk = cls(runtime)
        kiosk.agent.start()
        return kiosk

    async def aclose(self) -> None:
        await self.agent.stop()
        self.logs.remove()

    # --- the guest service --------------------------------------------------------------

    def channel(self) -> Channel:
        """The guest service's channel, followed: the screen shown, a guest asking for staff."""
        return Channel(views=WatchedQueue(self._view), actions=WatchedQueue(self._action))

    def attach(
        self,
        service: GuestService,
        *,
        restart: Callable[[], Any] | None = None,
        screenshot: Callable[[], Awaitable[bytes]] | None = None,
    ) -> None:
        self.service = service
        self.restart = restart
        self.screenshot = screenshot

    def journey_ended(self, result: JourneyResult) -> None:
        event = self.tally.add(result.outcome, result.journey)
        if event is not None:
            self.agent.emit(event, outcome=result.outcome)

    def _view(self, view: View) -> None:
        self.screen = view.step.value

    def _action(self, action: Action) -> None:
        if action.kind is ActionKind.CHOOSE and action.value == "front_desk":
            self.staff_requested()

    def staff_requested(self) -> None:
        """A guest asked for staff (a refusal's choice, or "Call staff" on any screen)."""
        self.agent.emit("staff_requested", screen=self.screen)

    # --- KioskPort ----------------------------------------------------------------------

    def snapshot(self) -> Snapshot:  # a worker thread
        runtime = self.runtime
        counts = runtime.outbox.counts()
        backend = runtime.journey.backend
        devices = self.service.health() if self.service else _health(runtime)
        in_service = None
        if self.service is not None:  # taken out by staff, or out of order (a device missing)
            in_service = self.service.in_service and self.screen != Step.OUT_OF_SERVICE.value
        return Snapshot(
            screen=self.screen,
            in_service=in_service,
            devices=[d for d in devices if d.device != "backend"],
            outbox=OutboxDepth(queued=runtime.outbox.depth(), dead=counts.get(DEAD, 0)),
            backend_reachable=not backend.offline if isinstance(backend, OfflineBackend) else None,
            journeys_today=self.tally.counts.model_copy(deep=True),
        )

    @property
    def handlers(self) -> Mapping[str, Handler]:
        return {
            "maintenance": self._maintenance,
            "restart": self._restart,
            "reload_config": self._reload_config,
            "set_config": self._set_config,
            "self_test": self._self_test,
            "print_test": self._print_test,
            "outbox_list": self._outbox_list,
            "outbox_retry": self._outbox_retry,
            "screenshot": self._screenshot,
            "log_tail": self._log_tail,
        }

    async def _maintenance(self, args: Any) -> Outcome:
        if self.service is None:
            raise NotAvailable("no guest service in this process")
        self.service.set_out_of_service(args.on)
        return Outcome({"in_service": self.service.in_service})

    async def _restart(self, _args: Any) -> Outcome:
        if self.restart is None:
            raise NotAvailable("no restart hook in this process")
        # The kiosk stops as on SIGTERM (the journey in flight settles first); systemd's
        # Restart=always starts it again.
        return Outcome({"restarting": True}, then=self.restart)

    async def _reload_config(self, _args: Any) -> Outcome:
        """Settings are read at start-up: a valid file means a restart, a bad one nothing."""
        from pydantic import ValidationError

        from kiosk.config import ConfigFileError, config_errors, load_config

        if self.config_path is None or self.restart is None:
            raise NotAvailable("no config file or no restart hook in this process")
        try:
            await asyncio.to_thread(load_config, self.config_path)
        except ConfigFileError as exc:
            raise CommandFailed(str(exc)) from None
        except ValidationError as exc:
            raise CommandFailed("; ".join(config_errors(exc))) from None
        return Outcome({"valid": True, "restarting": True}, then=self.restart)

    async def _set_config(self, args: Any) -> Outcome:
        from kiosk.remote.settings_edit import SettingRefused, set_config_key

        if self.config_path is None:
            raise NotAvailable("the kiosk runs without a config file")
        try:
            await asyncio.to_thread(set_config_key, self.config_path, args.key, args.value)
        except SettingRefused as exc:
            raise CommandFailed(str(exc)) from None
        except OSError as exc:
            raise CommandFailed(f"cannot write {self.config_path}: {exc.strerror}") from None
        log.warning("setting %s changed by a fleet command (applies at the next start)", args.key)
        return Outcome({"key": args.key, "restart_required": True})

    async def _self_test(self, _args: Any) -> Outcome:
        """``kiosk doctor``'s checks in the running kiosk: its own devices (they are open
        here, so not opened again) and one bounded call to the back-end."""
        from kiosk.cli.doctor import check_backend  # the doctor's own probe, one source

        runtime = self.runtime
        reports = await asyncio.to_thread(_health, runtime)
        reports.append(await asyncio.to_thread(check_backend, runtime.config.backend))
        worst = "ok"
        for report in reports:
            if report.level is HealthLevel.FAULT:
                worst = "fault"
            elif report.level is HealthLevel.WARNING and worst == "ok":
                worst = "warning"
        return Outcome({"overall": worst, "checks": [r.as_dict() for r in reports]})

    async def _print_test(self, _args: Any) -> Outcome:
        from kiosk.cli.hw_devices import sample_receipt
        from kiosk.journeys.checkin import utc_now

        printer = self.runtime.devices.printer
        if printer is None:
            raise NotAvailable("no receipt printer configured")
        if self.screen and Step(self.screen) not in IDLE_STEPS:
            raise CommandFailed("a guest is at the kiosk: try again when it is idle")
        try:
            await asyncio.to_thread(printer.print_receipt, sample_receipt(utc_now()))
        except Exception as exc:  # the printer's own errors: paper out, offline
            raise CommandFailed(f"print test failed: {type(exc).__name__}: {exc}") from None
        return Outcome({"printed": True})

    async def _outbox_list(self, _args: Any) -> Outcome:
        outbox = self.runtime.outbox
        entries = await asyncio.to_thread(outbox.entries)
        return Outcome({"counts": outbox.counts(), "entries": [asdict(e) for e in entries]})

    async def _outbox_retry(self, args: Any) -> Outcome:
        made_due = await asyncio.to_thread(self.runtime.outbox.retry, args.id)
        return Outcome({"made_due": made_due})

    async def _screenshot(self, _args: Any) -> Outcome:
        import base64

        if self.screenshot is None:
            raise NotAvailable("no screen in this process")
        png = await self.screenshot()
        return Outcome({"png_base64": base64.b64encode(png).decode(), "screen": self.screen})

    async def _log_tail(self, args: Any) -> Outcome:
        return Outcome({"lines": self.logs.tail(args.lines)})


def _health(runtime: Runtime) -> list[DeviceHealth]:
    return collect_health(runtime.health_sources())
