"""A simulated camera: a counter top, and a phone showing the QR code a test or the demo holds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import cv2
import numpy as np

from hardware.camera.protocol import CameraError
from hardware.qr.render import render_qr


class SimCamera:
    """Delivers ``width`` x ``height`` BGR frames at ``fps``; ``show`` puts a code in view.

    ``show`` may be called from any thread (a demo button, a test); the frames that
    follow carry the code until ``show(None)``.
    """

    def __init__(
        self,
        *,
        width: int = 640,
        height: int = 480,
        fps: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = "sim"
        self._size = (width, height)
        self._interval = 1.0 / fps
        self._sleep = sleep
        self._lock = threading.Lock()
        self._frame = self._compose(None)
        self._open = False

    def show(self, text: str | None) -> None:
        frame = self._compose(text)
        with self._lock:
            self._frame = frame

    def open(self) -> None:
        self._open = True

    def read(self) -> np.ndarray | None:
        if not self._open:
            raise CameraError("simulated camera is not open")
        self._sleep(self._interval)
        return self.frame()

    def frame(self) -> np.ndarray:
        """The scene in view now, without waiting for the next frame (a demo's UI preview)."""
        with self._lock:
            return self._frame

    def close(self) -> None:
        self._open = False

    def _compose(self, text: str | None) -> np.ndarray:
        w, h = self._size
        # A counter top lit from above, so even an empty view is visibly a camera image.
        shade = np.linspace(185, 135, h, dtype=np.float32)[:, None, None]
        frame = (shade * np.array([0.92, 1.0, 1.06], np.float32)).astype(np.uint8)
        frame = np.ascontiguousarray(np.broadcast_to(frame, (h, w, 3)))
        if text is None:
            return frame
        code = render_qr(text, module_px=1)
        side = int(min(w, h) * 0.6)
        module_px = max(1, side // code.shape[0])
        code = np.kron(code, np.ones((module_px, module_px), dtype=np.uint8))
        ch, cw = code.shape
        y, x = (h - ch) // 2, (w - cw) // 2
        # The phone holding the code: a dark body around its lit screen, taller than wide.
        rim, chin = max(2, cw // 12), max(4, ch // 4)
        body = (x - rim, y - chin, x + cw + rim, y + ch + chin)
        cv2.rectangle(frame, body[:2], body[2:], (40, 36, 34), thickness=-1)
        cv2.rectangle(frame, body[:2], body[2:], (20, 18, 16), thickness=max(1, rim // 3))
        frame[y : y + ch, x : x + cw] = cv2.cvtColor(code, cv2.COLOR_GRAY2BGR)
        return frame
