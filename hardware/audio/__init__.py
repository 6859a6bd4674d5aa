"""Audio output: a player protocol, ALSA's ``aplay`` and a simulated player."""

from __future__ import annotations

from hardware.audio.config import AudioConfig
from hardware.audio.protocol import AudioError, AudioPlayer


def open_player(config: AudioConfig) -> AudioPlayer:
    """The player ``config`` names; the simulator is imported only when asked for."""
    if config.driver == "aplay":
        from hardware.audio.aplay import AplayPlayer

        return AplayPlayer(config)
    from hardware.audio.simulator import SimPlayer

    return SimPlayer()


__all__ = ["AudioConfig", "AudioError", "AudioPlayer", "open_player"]
