"""The simulated player: records each clip instead of sounding it (the demo, the tests)."""

from __future__ import annotations

import io
import logging
import threading
import wave
from array import array
from dataclasses import dataclass

from hardware.audio.protocol import AudioError
from hardware.health import DeviceHealth, HealthLevel

log = logging.getLogger("hardware.audio")
DEVICE = "audio"


@dataclass(frozen=True)
class Played:
    label: str  # "cue:error", "speech:zh_Hans:scan.title"
    seconds: float  # the clip's length
    peak: int  # the loudest sample's magnitude (16-bit): the volume it was played at


class SimPlayer:
    name = DEVICE

    def __init__(self) -> None:
        self.played: list[Played] = []
        self._lock = threading.Lock()

    def play(self, wav: bytes, label: str) -> None:
        try:
            with wave.open(io.BytesIO(wav)) as clip:
                if clip.getsampwidth() != 2:
                    raise AudioError(f"{label}: not 16-bit PCM")
                samples = array("h", clip.readframes(clip.getnframes()))
                seconds = clip.getnframes() / clip.getframerate()
        except (wave.Error, EOFError) as exc:
            raise AudioError(f"{label}: not a WAV clip ({exc})") from None
        peak = max(map(abs, samples), default=0)
        with self._lock:
            self.played.append(Played(label, round(seconds, 3), peak))
        log.info("audio (sim): %s, %.2f s", label, seconds)  # what a kiosk would have sounded

    def check(self) -> None:
        """Always there."""

    def stop(self) -> None:
        """Nothing to cut short: a simulated clip is over as soon as it is recorded."""

    def health(self) -> DeviceHealth:
        return DeviceHealth(DEVICE, HealthLevel.OK, f"simulated, {len(self.played)} played")

    def close(self) -> None:
        """Nothing to release."""
