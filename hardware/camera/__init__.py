"""Cameras: the ``FrameSource`` protocol, OpenCV capture, files, and a simulator."""

from __future__ import annotations

from hardware.camera.config import CameraConfig
from hardware.camera.protocol import CameraError, FrameSource


def open_camera(config: CameraConfig) -> FrameSource:
    """The frame source ``config`` names, not yet opened (the QR pipeline opens it)."""
    if config.source == "opencv":
        from hardware.camera.opencv import OpenCvSource

        return OpenCvSource(config.device, width=config.width, height=config.height, fps=config.fps)
    if config.source == "files":
        from hardware.camera.files import FileSource

        return FileSource(config.paths, fps=config.fps, loop=config.loop)
    from hardware.camera.sim import SimCamera

    return SimCamera(width=config.width, height=config.height, fps=config.fps)


__all__ = ["CameraConfig", "CameraError", "FrameSource", "open_camera"]
