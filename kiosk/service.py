"""The kiosk in service: guests one after another, the camera feeding QR codes, staff
taking the kiosk out of service. Kivy-free: the UI only renders the channel's views.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np

from hardware.camera.config import CameraConfig
from hardware.health import DeviceHealth, HealthLevel
from hardware.qr.pipeline import QrPipeline
from kiosk.device_opener import DeviceOpener
from kiosk.journeys.checkin import CheckinJourney
from kiosk.journeys.keys import capture_stray_card
from kiosk.journeys.lobby import Lobby
from kiosk.journeys.messages import Action, ActionKind, Channel, Step, View
from kiosk.journeys.result import JourneyResult

log = logging.getLogger("kiosk.service")

OUT_OF_SERVICE_VIEW = View(
    Step.OUT_OF_SERVICE, "out_of_service.title", "out_of_service.message", timeout_s=None
)
DEVICE_RETRY_S = 5.0  # how often a missing device is tried again (a USB re-plug, a late boot)


def devices_missing_view(missing: dict[str, str]) -> View:
    """The out-of-order screen naming what is missing (device names and driver errors only)."""
    reason = "; ".join(missing.values())
    return View(
        Step.OUT_OF_SERVICE,
        "out_of_service.title",
        "out_of_service.devices_missing",
        params={"reason": reason},
        timeout_s=None,
    )


def collect_health(sources: list[Callable[[], DeviceHealth]]) -> list[DeviceHealth]:
    """Each source's health; one that raises is a fault (it cannot even say how it is)."""
    reports = []
    for source in sources:
        try:
            reports.append(source())
        except Exception as exc:
            reports.append(DeviceHealth("device", HealthLevel.FAULT, type(exc).__name__))
    return reports


class Scanner:
    """The camera's QR pipeline posting each code to the channel as ``Action(QR)``; keeps
    the newest frame for the UI's preview (``preview()``)."""

    def __init__(self, config: CameraConfig, channel: Channel) -> None:
        self._loop = asyncio.get_running_loop()
        self._channel = channel
        self._frame: np.ndarray | None = None
        self._lock = threading.Lock()
        self.pipeline = QrPipeline.from_config(
            config, on_code=self._on_code, on_preview=self._on_preview
        )

    def _on_code(self, text: str) -> None:  # a pipeline thread
        self._loop.call_soon_threadsafe(
            self._channel.actions.put_nowait, Action(ActionKind.QR, text)
        )

    def _on_preview(self, frame: np.ndarray) -> None:  # a pipeline thread
        with self._lock:
            self._frame = frame

    def preview(self) -> np.ndarray | None:
        with self._lock:
            return self._frame

    def start(self) -> None:
        self.pipeline.start()

    def stop(self) -> None:
        self.pipeline.stop()


class GuestService:
    """Runs the lobby (check-in and the other journeys) for guest after guest; the operator
    port of the UI."""

    def __init__(
        self,
        journey: CheckinJourney,
        channel: Channel,
        health_sources: list[Callable[[], DeviceHealth]],
        opener: DeviceOpener | None = None,
        *,
        device_retry_s: float = DEVICE_RETRY_S,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        lobby: Lobby | None = None,
    ) -> None:
        self.journey = journey
        self.lobby = lobby or journey.lobby()  # the journeys offered, check-in first
        self._opener = opener
        self._device_retry_s = device_retry_s
        self.channel = channel
        self._health_sources = health_sources
        self._in_service = asyncio.Event()
        self._in_service.set()
        self.results: list[str] = []  # outcomes, for the operator and telemetry (no guest data)
        self.on_result: Callable[[JourneyResult], None] | None = None  # the fleet agent's
        self.on_staff_requested: Callable[[], None] | None = None  # the fleet agent's
        self.staff_requested_at: datetime | None = None  # until staff acknowledge it
        self._clock = clock
        self._serving: asyncio.Task[None] | None = None

    # --- OperatorPort -------------------------------------------------------------------

    def health(self) -> list[DeviceHealth]:
        """Every device's health, and a pending guest request for staff (a warning line in
        the operator menu and in fleet telemetry until acknowledged)."""
        reports = collect_health(self._health_sources)
        if self.staff_requested_at is not None:
            at = self.staff_requested_at.strftime("%H:%M UTC")
            reports.append(DeviceHealth("staff", HealthLevel.WARNING, f"requested at {at}"))
        return reports

    def request_staff(self) -> None:
        """A guest pressed "Call staff": kept for the operator menu and raised to the fleet
        agent. The journey goes on; the event carries no guest data."""
        self.staff_requested_at = self._clock()
        log.warning("a guest asked for staff")
        if self.on_staff_requested is not None:
            self.on_staff_requested()

    def acknowledge_staff(self) -> None:
        self.staff_requested_at = None

    def set_out_of_service(self, on: bool) -> None:
        log.warning("kiosk %s by staff", "taken out of service" if on else "back in service")
        if on:
            self._in_service.clear()
            # The guest on screen (if any) is sent away by the timeout path: the UI shows
            # the out-of-service view at once, and the journey ends at its next question.
            self.channel.actions.put_nowait(Action(ActionKind.CANCEL))
        else:
            self._in_service.set()

    @property
    def in_service(self) -> bool:
        return self._in_service.is_set()

    async def shutdown(self, grace_s: float) -> None:
        """Stop serving guests so that the devices can close: the journey in flight is cancelled
        and given ``grace_s`` to settle its money (void or book it) before anything closes."""
        task = self._serving
        if task is None or task.done():
            return
        log.warning("stopping: the journey in flight settles first")
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=grace_s)
        if not done:
            log.error("journey not settled in %.0f s: start-up resolves its payments", grace_s)

    # --- the loop -----------------------------------------------------------------------

    async def serve(self) -> None:
        """Guests until cancelled; the out-of-service view while staff say so."""
        log.info("kiosk in service")
        self._serving = asyncio.current_task()
        while True:
            await self._wait_for_devices()
            if not self._in_service.is_set():
                await self.channel.views.put(OUT_OF_SERVICE_VIEW)
                await self._in_service.wait()
                _drain(self.channel.actions)
            result = await self.lobby.run(self.channel)
            self.results.append(result.outcome)
            if self.on_result is not None:
                self.on_result(result)
            log.info("guest journey ended: %s", result.outcome)
            _drain(self.channel.actions)  # a late tap of the last guest is not the next one's

    async def _wait_for_devices(self) -> None:
        """Out of order, naming what is missing, until every device opens; retried every
        ``device_retry_s``."""
        if self._opener is None or not self._opener.missing:  # all opened at start-up
            return
        shown: dict[str, str] = {}
        while missing := await asyncio.to_thread(self._opener.open_missing):
            if missing != shown:
                log.error("out of order, devices missing: %s", "; ".join(missing.values()))
                await self.channel.views.put(devices_missing_view(missing))
                shown = missing
            await asyncio.sleep(self._device_retry_s)
        if shown:
            log.warning("every device is back: in service")
            # A dispenser that was missing at start-up could not capture a card left at RF.
            await capture_stray_card(self.journey.devices.dispenser)
            _drain(self.channel.actions)


def _drain(queue: asyncio.Queue[Action]) -> None:
    while not queue.empty():
        queue.get_nowait()
