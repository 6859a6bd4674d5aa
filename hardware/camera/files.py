"""Frames from files: still images, folders of images, or videos, played at a set rate.

For tests, the demo and replaying recordings from a kiosk: no camera needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from hardware.camera.protocol import CameraError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".pgm"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".webm", ".mjpeg", ".mjpg"})
# How long ``read`` waits when it has nothing to deliver and no rate is set.
IDLE_WAIT_S = 0.05


class FileSource:
    """Plays ``paths`` in order (a folder's images sorted by name), then again if ``loop``.

    Images are loaded once, at ``open``; videos are read frame by frame. ``fps`` paces
    ``read`` like a camera; 0 delivers as fast as the reader takes frames. After the
    last frame without ``loop`` the source stays silent, as a camera that stopped would.
    """

    def __init__(
        self,
        paths: Sequence[Path | str],
        *,
        fps: float = 30.0,
        loop: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = "files"
        self._paths = [Path(p) for p in paths]
        self._interval = 1.0 / fps if fps > 0 else 0.0
        self._loop = loop
        self._clock = clock
        self._sleep = sleep
        self._items: list[np.ndarray | Path] = []
        self._frames: Iterator[np.ndarray] | None = None
        self._due = 0.0
        self.delivered = 0

    def open(self) -> None:
        items: list[np.ndarray | Path] = []
        for path in self._paths:
            items.extend(_expand(path))
        if not items:
            raise CameraError(f"no images or videos in {[str(p) for p in self._paths]}")
        self._items = items
        self._frames = self._play()
        self._due = self._clock()

    def read(self) -> np.ndarray | None:
        if self._frames is None:
            raise CameraError("file source is not open")
        self._pace()
        frame = next(self._frames, None)
        if frame is None:
            self._frames = iter(())  # exhausted: silent from now on
            self._sleep(self._interval or IDLE_WAIT_S)
            return None
        self.delivered += 1
        return frame

    def close(self) -> None:
        self._frames = None
        self._items = []

    def _pace(self) -> None:
        if not self._interval:
            return
        now = self._clock()
        if self._due > now:
            self._sleep(self._due - now)
            self._due += self._interval
        else:  # late (slow reader): restart the schedule instead of delivering a burst
            self._due = now + self._interval

    def _play(self) -> Iterator[np.ndarray]:
        while True:
            for item in self._items:
                if isinstance(item, np.ndarray):
                    yield item
                else:
                    yield from _video_frames(item)
            if not self._loop:
                return


def _expand(path: Path) -> list[np.ndarray | Path]:
    if path.is_dir():
        return [
            _load_image(p) for p in sorted(path.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES
        ]
    if not path.is_file():
        raise CameraError(f"{path}: no such file")
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return [path]
    return [_load_image(path)]


def _load_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise CameraError(f"{path}: not an image OpenCV can read")
    return image


def _video_frames(path: Path) -> Iterator[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise CameraError(f"{path}: not a video OpenCV can read")
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield frame
    finally:
        capture.release()
