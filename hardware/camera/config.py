"""``[devices.camera]``: which camera, how it captures, and how its QR codes are decoded."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class CameraConfig(BaseModel):
    """``[devices.camera]``: which camera, how it captures, how its QR codes are decoded."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["sim", "opencv", "files"] = Field(
        "sim", description="sim: simulated camera; opencv: a real camera; files: images/videos"
    )
    device: int | str = Field(0, description="opencv: V4L2 index (0) or a path (/dev/video0)")
    width: int = Field(640, ge=160, le=3840, description="capture width in pixels")
    height: int = Field(480, ge=120, le=2160, description="capture height in pixels")
    fps: float = Field(30.0, gt=0, le=120, description="capture rate; files: playback rate")
    paths: list[Path] = Field(
        default_factory=list, description="files: images, folders of images or videos"
    )
    loop: bool = Field(True, description="files: start again after the last frame")
    decoder: Literal["zxing", "pyzbar"] = Field("zxing", description="zxing-cpp, or pyzbar")
    decode_max_width: int = Field(
        640, ge=160, le=3840, description="wider frames are scaled down to this before decoding"
    )
    try_invert: bool = Field(
        False, description="also look for light-on-dark codes (costs a second pass per frame)"
    )
    debounce_s: float = Field(
        2.0, ge=0, le=60, description="the same code is reported once in this time"
    )
    preview_fps: float = Field(10.0, ge=0, le=60, description="preview frames for the UI; 0: none")
    stall_timeout_s: float = Field(
        3.0, gt=0, le=60, description="no frame for this long: camera health FAULT"
    )
    max_payload_bytes: int = Field(
        512, ge=16, le=4096, description="longer QR payloads are refused (scanner and journey)"
    )

    @model_validator(mode="after")
    def _files_need_paths(self) -> Self:
        if self.source == "files" and not self.paths:
            raise ValueError('source "files" needs at least one path in paths')
        return self
