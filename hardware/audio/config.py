"""``[devices.audio]``: the loudspeaker's player (ALSA ``aplay``) or the simulated one."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AudioConfig(BaseModel):
    """``[devices.audio]``: which player sounds the cues and the spoken guidance."""

    model_config = ConfigDict(extra="forbid")

    driver: Literal["sim", "aplay"] = Field(
        "sim", description="aplay: the ALSA player on the kiosk; sim: records what was played"
    )
    device: str = Field(
        "default",
        pattern=r"^[A-Za-z0-9_:,.=-]+$",
        description='aplay: the ALSA PCM, as `aplay -L` lists it ("default", "plughw:1,0")',
    )
    timeout_s: float = Field(
        30.0, gt=0, le=300, description="aplay: one sound longer than this is cut off"
    )
