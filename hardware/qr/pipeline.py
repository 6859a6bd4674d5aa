"""The QR scanning pipeline: a capture thread and a decode thread around a one-frame slot.

The capture thread reads the camera and overwrites the slot, so the decoder always
works on the newest frame and a slow decode drops frames (counted) instead of building
a backlog. It also hands frames to the UI's preview at a bounded rate. The decode
thread validates each code, drops repeats of the same code within the debounce window,
and reports the rest. A camera that stops delivering frames turns health to FAULT and
is reopened; ``stop`` never waits longer than its timeout.

Callbacks run on the pipeline's threads: keep them short and thread-safe (an asyncio
UI passes ``lambda text: loop.call_soon_threadsafe(queue.put_nowait, text)``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from hardware.camera import CameraConfig, FrameSource, open_camera
from hardware.health import DeviceHealth, HealthLevel
from hardware.qr.decoders import QrDecoder, decoder_for
from hardware.qr.payload import DEFAULT_MAX_BYTES, PayloadRejected, validate_payload

log = logging.getLogger(__name__)

DEVICE = "camera"


@dataclass
class PipelineStats:
    frames: int = 0  # delivered by the camera
    dropped: int = 0  # overwritten in the slot before the decoder took them
    decoded: int = 0  # frames the decoder looked at
    codes: int = 0  # payloads reported to on_code
    rejected: int = 0  # payloads refused by validation (reported to on_reject)
    repeats: int = 0  # payloads suppressed by the debounce
    previews: int = 0  # frames handed to on_preview
    camera_errors: int = 0
    last_decode_ms: float = 0.0


class QrPipeline:
    """Scans ``source`` with ``decoder`` until ``stop``; see the module docstring."""

    def __init__(
        self,
        source: FrameSource,
        decoder: QrDecoder,
        *,
        on_code: Callable[[str], None],
        on_reject: Callable[[PayloadRejected], None] | None = None,
        on_preview: Callable[[np.ndarray], None] | None = None,
        debounce_s: float = 2.0,
        preview_fps: float = 10.0,
        stall_timeout_s: float = 3.0,
        retry_s: float = 1.0,
        max_payload_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._decoder = decoder
        self._on_code = on_code
        self._on_reject = on_reject
        self._on_preview = on_preview
        self._debounce_s = debounce_s
        self._preview_interval = 1.0 / preview_fps if preview_fps > 0 else None
        self._stall_timeout_s = stall_timeout_s
        self._retry_s = retry_s
        self._max_payload_bytes = max_payload_bytes
        self._clock = clock

        self.stats = PipelineStats()
        self._cond = threading.Condition()
        self._slot: np.ndarray | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started_at = 0.0
        self._last_frame_at: float | None = None
        self._last_preview_at: float | None = None
        self._camera_error = ""
        self._last_reported: dict[bytes, float] = {}

    @classmethod
    def from_config(
        cls,
        config: CameraConfig,
        *,
        on_code: Callable[[str], None],
        on_reject: Callable[[PayloadRejected], None] | None = None,
        on_preview: Callable[[np.ndarray], None] | None = None,
    ) -> QrPipeline:
        return cls(
            open_camera(config),
            decoder_for(config),
            on_code=on_code,
            on_reject=on_reject,
            on_preview=on_preview,
            debounce_s=config.debounce_s,
            preview_fps=config.preview_fps,
            stall_timeout_s=config.stall_timeout_s,
            max_payload_bytes=config.max_payload_bytes,
        )

    @property
    def source(self) -> FrameSource:
        """The camera it scans (the demo shows codes to a simulated one)."""
        return self._source

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def start(self) -> None:
        """Starts scanning; again after a ``stop`` too (the UI scans only on some screens)."""
        if self.running:
            raise RuntimeError("the pipeline is running already")
        self._stopping.clear()
        self._slot = None
        self._last_frame_at = None
        self._started_at = self._clock()
        self._threads = [
            threading.Thread(target=self._capture_loop, name="qr-capture", daemon=True),
            threading.Thread(target=self._decode_loop, name="qr-decode", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 2.0) -> bool:
        """Stops both threads; False if one did not end within ``timeout`` (it is a daemon
        thread, stuck in a driver call; the camera is then left open rather than closed
        under it)."""
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self.running:
            log.warning("QR pipeline threads did not stop within %.1f s", timeout)
            return False
        return True

    def health(self) -> DeviceHealth:
        metrics = asdict(self.stats)
        name = f"{DEVICE} ({self._source.name}, {self._decoder.name})"
        if not self.running:
            return DeviceHealth(name, HealthLevel.WARNING, "not scanning", metrics)
        since = self._last_frame_at if self._last_frame_at is not None else self._started_at
        silent_s = self._clock() - since
        if silent_s > self._stall_timeout_s:
            detail = f"no frame for {silent_s:.1f} s"
            if self._camera_error:
                detail += f": {self._camera_error}"
            return DeviceHealth(name, HealthLevel.FAULT, detail, metrics)
        return DeviceHealth(name, HealthLevel.OK, "scanning", metrics)

    # -- capture thread ---------------------------------------------------------------

    def _capture_loop(self) -> None:
        is_open = False
        try:
            while not self._stopping.is_set():
                try:
                    if not is_open:
                        self._source.open()
                        is_open = True
                    frame = self._source.read()
                except Exception as exc:  # any driver failure: report, close, retry later
                    self.stats.camera_errors += 1
                    self._camera_error = str(exc)
                    log.warning("camera %s: %s", self._source.name, exc)
                    if is_open:
                        self._source.close()
                        is_open = False
                    self._stopping.wait(self._retry_s)
                    continue
                if frame is not None:
                    self._offer(frame)
        finally:
            if is_open:
                self._source.close()

    def _offer(self, frame: np.ndarray) -> None:
        now = self._clock()
        with self._cond:
            if self._slot is not None:
                self.stats.dropped += 1
            self._slot = frame
            self.stats.frames += 1
            self._last_frame_at = now
            self._camera_error = ""
            self._cond.notify()
        interval = self._preview_interval
        if self._on_preview is None or interval is None:
            return
        if self._last_preview_at is None or now - self._last_preview_at >= interval:
            self._last_preview_at = now
            self.stats.previews += 1
            self._call(self._on_preview, frame)

    # -- decode thread ----------------------------------------------------------------

    def _decode_loop(self) -> None:
        while True:
            with self._cond:
                while self._slot is None and not self._stopping.is_set():
                    self._cond.wait()
                if self._stopping.is_set():
                    return
                frame, self._slot = self._slot, None
            started = time.perf_counter()
            try:
                payloads = self._decoder.decode(frame)
            except Exception:
                log.exception("QR decoder %s failed on a frame", self._decoder.name)
                payloads = []
            self.stats.last_decode_ms = (time.perf_counter() - started) * 1000
            self.stats.decoded += 1
            for raw in payloads:
                self._report(raw)

    def _report(self, raw: bytes) -> None:
        now = self._clock()
        self._last_reported = {
            code: at for code, at in self._last_reported.items() if now - at < self._debounce_s
        }
        if raw in self._last_reported:
            self.stats.repeats += 1
            return
        self._last_reported[raw] = now
        try:
            text = validate_payload(raw, max_bytes=self._max_payload_bytes)
        except PayloadRejected as exc:
            self.stats.rejected += 1
            log.info("QR code refused: %s", exc)  # the reason only, never the payload
            if self._on_reject is not None:
                self._call(self._on_reject, exc)
            return
        self.stats.codes += 1
        self._call(self._on_code, text)

    def _call(self, callback: Callable[..., None], arg: object) -> None:
        try:
            callback(arg)
        except Exception:
            log.exception("QR pipeline callback %r failed", callback)
