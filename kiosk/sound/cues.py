"""Which cue a screen or a guest's move calls for, and the cues' tones (made with numpy)."""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from kiosk.journeys.messages import Action, ActionKind, Step, View
from kiosk.sound.wav import RATE


class Cue(StrEnum):
    CODE_READ = "code_read"  # the camera read a QR code
    ERROR = "error"  # a refusal, a declined payment, a typed answer that does not match
    TAKE_CARD = "take_card"  # the room card is in the slot
    SUCCESS = "success"  # checked in


# Messages that tell the guest something went wrong on a screen that is not a refusal.
_ERROR_MESSAGES = frozenset({"identity.wrong", "register.invalid"})

# (frequency Hz, milliseconds) notes; 0 Hz is a rest. Short, distinct, not alarming.
_NOTES: dict[Cue, tuple[tuple[float, int], ...]] = {
    Cue.CODE_READ: ((1318.5, 90),),  # one short high blip, as a scanner's
    Cue.ERROR: ((392.0, 160), (0, 40), (311.1, 260)),  # two falling low notes
    Cue.TAKE_CARD: ((880.0, 110), (0, 60), (880.0, 110), (0, 60), (880.0, 110)),  # three taps
    Cue.SUCCESS: ((523.3, 110), (659.3, 110), (784.0, 220)),  # a rising major arpeggio
}
_LEVEL = 0.6  # of full scale at volume 100: headroom for the speaker's amplifier
_FADE_S = 0.008  # a short fade in and out keeps a note from clicking


def cue_for_view(view: View) -> Cue | None:
    """The cue a screen opens with, if any."""
    if view.step is Step.REFUSAL or view.title.startswith("refusal."):
        return Cue.ERROR  # the payment screen shows a decline under a refusal title
    if view.message in _ERROR_MESSAGES:
        return Cue.ERROR
    if view.step is Step.KEY_PROGRESS and view.message == "key_progress.present":
        return Cue.TAKE_CARD
    if view.step is Step.DONE:
        return Cue.SUCCESS
    return None


def cue_for_action(action: Action) -> Cue | None:
    """The cue a guest's move calls for: a QR code read by the camera."""
    return Cue.CODE_READ if action.kind is ActionKind.QR else None


def synthesise(cue: Cue, rate: int = RATE) -> np.ndarray:
    """The cue's samples (int16 mono) at full volume."""
    parts = []
    for frequency, ms in _NOTES[cue]:
        t = np.arange(int(rate * ms / 1000)) / rate
        note = np.sin(2 * np.pi * frequency * t) if frequency else np.zeros_like(t)
        fade = min(int(rate * _FADE_S), len(t) // 2)
        if fade:
            ramp = np.linspace(0.0, 1.0, fade)
            note[:fade] *= ramp
            note[-fade:] *= ramp[::-1]
        parts.append(note)
    return np.round(np.concatenate(parts) * _LEVEL * 32767).astype(np.int16)
