"""Showing numpy images: the live camera preview with its guide frame, and still images (QR)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from kivy.clock import Clock
from kivy.graphics.texture import Texture
from kivy.properties import NumericProperty, ObjectProperty
from kivy.uix.widget import Widget

log = logging.getLogger(__name__)

Frame = np.ndarray
PreviewSource = Callable[[], Frame | None]


def frame_to_texture(frame: Frame, texture: Texture | None = None) -> Texture:
    """A texture of a BGR (h, w, 3) or grey (h, w) uint8 image, reusing ``texture`` if it fits."""
    if (
        frame.dtype != np.uint8
        or frame.ndim not in (2, 3)
        or (frame.ndim == 3 and frame.shape[2] != 3)
    ):
        raise ValueError(f"expected a BGR or grey uint8 image, got {frame.dtype} {frame.shape}")
    height, width = frame.shape[:2]
    fmt = "bgr" if frame.ndim == 3 else "luminance"
    if texture is None or texture.size != (width, height) or texture.colorfmt != fmt:
        texture = Texture.create(size=(width, height), colorfmt=fmt)
        texture.flip_vertical()  # images are stored top row first, OpenGL starts at the bottom
    texture.blit_buffer(np.ascontiguousarray(frame).tobytes(), colorfmt=fmt, bufferfmt="ubyte")
    return texture


class ImageView(Widget):
    """A numpy image scaled to fit (kept in proportion); ``texture`` None shows nothing."""

    texture = ObjectProperty(None, allownone=True)

    def show(self, frame: Frame | None) -> None:
        self.texture = None if frame is None else frame_to_texture(frame, self.texture)


class CameraPreview(ImageView):
    """Polls ``source`` for the newest frame ``fps`` times a second while started; a guide
    frame (kv) shows the guest where to hold the code."""

    fps = NumericProperty(15)
    guide_fraction = NumericProperty(0.6)  # the guide's side as a fraction of the shorter side

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.source: PreviewSource | None = None
        self._event = None

    def start(self, source: PreviewSource | None) -> None:
        self.stop()
        self.source = source
        if source is not None:
            self._event = Clock.schedule_interval(self._poll, 1 / self.fps)
            self._poll(0)  # the newest frame at once, not a black box for the first interval

    def stop(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None

    def clear(self) -> None:
        """Stop and forget the last frame (it may show the guest)."""
        self.stop()
        self.texture = None

    def _poll(self, _dt: float) -> None:
        try:
            frame = self.source() if self.source else None
            if frame is not None:  # no new frame yet: keep showing the last one
                self.show(frame)
        except Exception as exc:  # a camera fault must not take the UI down with it
            log.warning("camera preview stopped: %s: %s", type(exc).__name__, exc)
            self.clear()
