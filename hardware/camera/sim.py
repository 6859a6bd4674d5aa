"""A simulated camera: a plain counter top, and the QR code a test or the demo shows it."""

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
        with self._lock:
            return self._frame

    def close(self) -> None:
        self._open = False

    def _compose(self, text: str | None) -> np.ndarray:
        w, h = self._size
        frame = np.full((h, w, 3), (150, 160, 170), dtype=np.uint8)
        if text is None:
            return frame
        code = render_qr(text, module_px=1)
        side = int(min(w, h) * 0.6)
        module_px = max(1, side // code.shape[0])
        code = np.kron(code, np.ones((module_px, module_px), dtype=np.uint8))
        y, x = (h - code.shape[0]) // 2, (w - code.shape[1]) // 2
        frame[y : y + code.shape[0], x : x + code.shape[1]] = cv2.cvtColor(code, cv2.COLOR_GRAY2BGR)
        return frame
