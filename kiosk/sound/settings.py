"""``[sound]``: what the kiosk sounds, how loud, and when it keeps quiet."""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field, field_validator

_HH_MM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
DEFAULT_VOICES = {"en": "en", "zh_Hans": "cmn", "zh_Hant": "yue"}


class SoundSettings(BaseModel):
    """``[sound]``: short cues and optional spoken guidance (the player: ``[devices.audio]``)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        True,
        description="sound at all: the cues (a code was read, an error, take your card, "
        "checked in) and the speech; false: silent",
    )
    volume: int = Field(
        70, ge=0, le=100, description="loudness in percent of full scale (the samples are scaled)"
    )
    speech: bool = Field(
        False,
        description="speak each screen's title and message in the guest's language "
        "(espeak-ng; for an installation that must guide blind or low-vision guests)",
    )
    night_start: str = Field(
        "22:00",
        pattern=_HH_MM,
        description='night hours begin, "HH:MM" in the property\'s local time ([journey] timezone)',
    )
    night_end: str = Field(
        "07:00", pattern=_HH_MM, description="night hours end; equal to night_start: no night hours"
    )
    night_volume: int = Field(
        0, ge=0, le=100, description="loudness during night hours; 0: silent at night"
    )
    voices: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_VOICES),
        description="catalogue code -> espeak-ng voice (`espeak-ng --voices`); a language "
        "without a voice is not spoken",
    )
    speech_rate: int = Field(
        150, ge=80, le=300, description="speaking rate in words per minute (espeak-ng -s)"
    )

    @field_validator("voices")
    @classmethod
    def _plain_voice_names(cls, value: dict[str, str]) -> dict[str, str]:
        for voice in value.values():
            if not voice or not all(c.isalnum() or c in "-_+" for c in voice):
                raise ValueError("a voice is an espeak-ng voice name such as cmn or en-us")
        return value

    def in_night(self, local: time) -> bool:
        """Whether ``local`` (the property's wall clock) is in the night hours."""
        start, end = time.fromisoformat(self.night_start), time.fromisoformat(self.night_end)
        if start == end:
            return False
        if start < end:
            return start <= local < end
        return local >= start or local < end  # across midnight, 22:00-07:00
