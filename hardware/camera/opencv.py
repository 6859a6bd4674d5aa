"""A real camera through OpenCV's ``cv2.VideoCapture`` (V4L2 on the Pi: USB or libcamera)."""

from __future__ import annotations

import logging
import sys

import cv2
import numpy as np

from hardware.camera.protocol import CameraError

log = logging.getLogger(__name__)

# Bounds V4L2/FFmpeg waits so a camera that stops answering is an error, not a hang.
DEFAULT_TIMEOUT_MS = 2000


class OpenCvSource:
    """Captures from ``device``: a V4L2 index (0), a device path (/dev/video0) or a video URL/file.

    Asks for ``width`` x ``height`` at ``fps`` in MJPG (USB cameras give 720p at 30 fps
    only compressed) and a one-frame driver buffer, so a frame read is a fresh frame.
    The camera may settle on another mode; the one it chose is logged at ``open``.
    """

    def __init__(
        self,
        device: int | str = 0,
        *,
        width: int = 640,
        height: int = 480,
        fps: float = 30.0,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
    ) -> None:
        self.name = f"opencv:{device}"
        self._device = device
        self._size = (width, height)
        self._fps = fps
        self._timeout_ms = timeout_ms
        self._capture: cv2.VideoCapture | None = None

    def open(self) -> None:
        self.close()
        timeouts = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, self._timeout_ms,
            cv2.CAP_PROP_READ_TIMEOUT_MSEC, self._timeout_ms,
        ]  # fmt: skip
        capture = cv2.VideoCapture(self._device, _backend(self._device), timeouts)
        if not capture.isOpened():
            capture.release()
            raise CameraError(f"cannot open camera {self._device!r}")
        capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, self._size[0])
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self._size[1])
        capture.set(cv2.CAP_PROP_FPS, self._fps)
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        log.info(
            "camera %r open (%s): %dx%d at %.0f fps",
            self._device,
            capture.getBackendName(),
            capture.get(cv2.CAP_PROP_FRAME_WIDTH),
            capture.get(cv2.CAP_PROP_FRAME_HEIGHT),
            capture.get(cv2.CAP_PROP_FPS),
        )
        self._capture = capture

    def read(self) -> np.ndarray | None:
        if self._capture is None:
            raise CameraError(f"camera {self._device!r} is not open")
        ok, frame = self._capture.read()
        if not ok or frame is None:
            raise CameraError(f"camera {self._device!r} delivered no frame")
        return frame

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


def _backend(device: int | str) -> int:
    """V4L2 for local cameras on Linux; whatever OpenCV finds for files, URLs and elsewhere."""
    local = isinstance(device, int) or str(device).startswith("/dev/video")
    return cv2.CAP_V4L2 if local and sys.platform.startswith("linux") else cv2.CAP_ANY
