"""What the QR pipeline needs from a camera: frames, one at a time, from any source."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # numpy is not needed to import the protocol (the config imports it)
    import numpy as np


class CameraError(RuntimeError):
    """The camera cannot be opened or stopped delivering; the pipeline reopens it later."""


class FrameSource(Protocol):
    """A source of BGR (or greyscale) uint8 frames: a camera, files, a simulator.

    ``read`` blocks for at most about one frame period and returns None when no frame
    came in that time, so a caller can always stop; it raises ``CameraError`` when the
    device failed (the caller then closes and reopens it). Not thread-safe: one thread
    reads.
    """

    name: str

    def open(self) -> None: ...

    def read(self) -> np.ndarray | None: ...

    def close(self) -> None: ...
