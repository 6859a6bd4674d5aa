"""The real player: ALSA's ``aplay`` reading the clip from its stdin.

A subprocess rather than a Python audio binding: nothing to build on the Pi, a hung sound
card cannot hang the kiosk's process (the clip's deadline kills the player), and ``stop``
is a terminate. SDL (Kivy's audio) is the UI's and stays out of ``hardware/``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import subprocess
import threading
import wave

from hardware.audio.config import AudioConfig
from hardware.audio.protocol import AudioError
from hardware.health import DeviceHealth, HealthLevel

log = logging.getLogger("hardware.audio")
DEVICE = "audio"


def _silence(seconds: float = 0.02, rate: int = 22_050) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(rate)
        clip.writeframes(b"\0\0" * int(seconds * rate))
    return out.getvalue()


_SILENCE = _silence()  # what ``check`` plays: the device opens, nobody hears it


class AplayPlayer:
    name = DEVICE

    def __init__(self, config: AudioConfig, program: str = "aplay") -> None:
        self._device = config.device
        self._timeout_s = config.timeout_s
        self._program = program
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._fault = ""  # the last failure, until a clip plays again

    def play(self, wav: bytes, label: str) -> None:
        command = [self._program, "-q", "-D", self._device, "-"]
        try:
            proc = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
        except OSError as exc:
            self._failed(f"{self._program} cannot start: {exc.strerror}")
        with self._lock:
            self._proc = proc
        try:
            _, err = proc.communicate(wav, timeout=self._timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            self._failed(f"{label} did not finish in {self._timeout_s:.0f} s")
        finally:
            with self._lock:
                self._proc = None
        if proc.returncode < 0:  # stopped: another clip replaces this one
            return
        if proc.returncode != 0:
            lines = err.decode(errors="replace").strip().splitlines()
            reason = lines[-1] if lines else f"exit {proc.returncode}"
            self._failed(f"cannot play on {self._device}: {reason}")
        self._fault = ""

    def _failed(self, detail: str) -> None:
        if detail != self._fault:  # once per new fault, not once per clip
            log.warning("audio: %s", detail)
        self._fault = detail
        raise AudioError(detail)

    def check(self) -> None:
        with contextlib.suppress(AudioError):
            self.play(_SILENCE, "check")

    def stop(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                self._proc.terminate()

    def health(self) -> DeviceHealth:
        # No sound is a warning, not a fault: a guest can check in without it.
        if self._fault:
            return DeviceHealth(DEVICE, HealthLevel.WARNING, self._fault)
        return DeviceHealth(DEVICE, HealthLevel.OK, f"aplay on {self._device}")

    def close(self) -> None:
        self.stop()
