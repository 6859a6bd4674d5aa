"""What the kiosk needs from a loudspeaker: play one WAV clip, stop it, report health."""

from __future__ import annotations

from typing import Protocol

from hardware.health import DeviceHealth


class AudioError(RuntimeError):
    """A clip could not be played (no such device, the player failed or hung)."""


class AudioPlayer(Protocol):
    """Blocking calls: the kiosk runs ``play`` in a worker thread. ``stop`` may be called
    from any thread and ends the clip playing now (a new screen's guidance replaces it)."""

    def play(self, wav: bytes, label: str) -> None:
        """Play ``wav`` (a RIFF WAV file's bytes) to its end. ``label`` names the clip for
        logs and the simulator ("cue:error", "speech:en:scan.title"); it never holds guest
        data. Raises :class:`AudioError`."""
        ...

    def check(self) -> None:
        """Try the device (a moment of silence); a failure shows in ``health``, never raises."""
        ...

    def stop(self) -> None: ...

    def health(self) -> DeviceHealth: ...

    def close(self) -> None: ...
