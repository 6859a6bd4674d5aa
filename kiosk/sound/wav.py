"""16-bit mono PCM clips as numpy arrays, to and from WAV bytes, and the volume."""

from __future__ import annotations

import io
import wave

import numpy as np

RATE = 22_050  # espeak-ng's rate; the cues are made at it too


class ClipError(ValueError):
    """Bytes that are not a 16-bit PCM WAV clip."""


def decode(data: bytes) -> tuple[np.ndarray, int]:
    """The samples (int16, frames x channels flattened) and the frame rate of a WAV clip."""
    try:
        with wave.open(io.BytesIO(data)) as clip:
            if clip.getsampwidth() != 2:
                raise ClipError("not 16-bit PCM")
            frames = clip.readframes(clip.getnframes())
            return np.frombuffer(frames, dtype="<i2").astype(np.int16), clip.getframerate()
    except (wave.Error, EOFError) as exc:
        raise ClipError(str(exc)) from None


def encode(samples: np.ndarray, rate: int) -> bytes:
    """A mono 16-bit WAV clip of ``samples``."""
    out = io.BytesIO()
    with wave.open(out, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(rate)
        clip.writeframes(samples.astype("<i2").tobytes())
    return out.getvalue()


def scaled(samples: np.ndarray, volume: int) -> np.ndarray:
    """``samples`` at ``volume`` percent of their amplitude (0 silent, 100 as they are).
    The player's own mixer is left alone: the kiosk's volume must not depend on how a
    sound card's mixer was left."""
    factor = max(0, min(volume, 100)) / 100
    return np.round(samples.astype(np.float64) * factor).astype(np.int16)
