"""The cue each screen or guest move calls for, the cues' tones, the volume and the night
hours (kiosk/sound: cues, wav, settings)."""

from __future__ import annotations

import io
import wave
from array import array
from datetime import time

import numpy as np
import pytest
from pydantic import ValidationError

from kiosk.journeys.messages import Action, ActionKind, Step, View
from kiosk.sound.cues import Cue, cue_for_action, cue_for_view, synthesise
from kiosk.sound.settings import SoundSettings
from kiosk.sound.wav import RATE, decode, encode, scaled


@pytest.mark.parametrize(
    ("view", "cue"),
    [
        (
            View(Step.REFUSAL, "refusal.unknown_code.title", "refusal.unknown_code.message"),
            Cue.ERROR,
        ),
        (
            View(
                Step.PAYMENT, "refusal.payment_declined.title", "refusal.payment_declined.message"
            ),
            Cue.ERROR,
        ),
        (View(Step.IDENTITY, "identity.title", "identity.wrong"), Cue.ERROR),
        (View(Step.REGISTER, "register.title", "register.invalid"), Cue.ERROR),
        (View(Step.KEY_PROGRESS, "key_progress.title", "key_progress.present"), Cue.TAKE_CARD),
        (View(Step.DONE, "done.title", "done.message"), Cue.SUCCESS),
        (View(Step.KEY_PROGRESS, "key_progress.title", "key_progress.encode"), None),
        (View(Step.PAYMENT, "payment.cancelled.title", "payment.cancelled.message"), None),
        (View(Step.SUMMARY, "summary.title", "summary.message"), None),
        (View(Step.IDENTITY, "identity.title", "identity.surname"), None),
        (View(Step.ATTRACT, "attract.title", "attract.message"), None),
    ],
)
def test_cue_for_each_screen(view: View, cue: Cue | None) -> None:
    assert cue_for_view(view) is cue


def test_a_code_read_is_the_only_guest_move_with_a_cue() -> None:
    assert cue_for_action(Action(ActionKind.QR, "anything")) is Cue.CODE_READ
    for kind in ActionKind:
        if kind is not ActionKind.QR:
            assert cue_for_action(Action(kind, "x")) is None


def test_cues_are_short_distinct_and_fade_in() -> None:
    tones = {cue: synthesise(cue) for cue in Cue}
    for cue, samples in tones.items():
        assert samples.dtype == np.int16
        assert 0.05 < len(samples) / RATE < 0.7, cue
        assert 0.5 * 32767 < np.abs(samples).max() <= 0.61 * 32767, cue  # headroom
        assert abs(int(samples[0])) < 100, cue  # no click at the start
    assert len({samples.tobytes() for samples in tones.values()}) == len(Cue)


def _peak_of_wav(data: bytes) -> int:
    with wave.open(io.BytesIO(data)) as clip:
        assert (clip.getnchannels(), clip.getsampwidth(), clip.getframerate()) == (1, 2, RATE)
        return max(map(abs, array("h", clip.readframes(clip.getnframes()))))


@pytest.mark.parametrize("volume", [0, 25, 50, 100])
def test_volume_scales_the_amplitude(volume: int) -> None:
    tone = synthesise(Cue.SUCCESS)
    full = _peak_of_wav(encode(tone, RATE))
    peak = _peak_of_wav(encode(scaled(tone, volume), RATE))
    assert peak == pytest.approx(full * volume / 100, abs=1)


def test_a_clip_survives_encode_and_decode() -> None:
    tone = synthesise(Cue.ERROR)
    samples, rate = decode(encode(tone, RATE))
    assert rate == RATE and np.array_equal(samples, tone)


@pytest.mark.parametrize(
    ("start", "end", "local", "night"),
    [
        ("22:00", "07:00", time(23, 30), True),
        ("22:00", "07:00", time(0, 0), True),
        ("22:00", "07:00", time(6, 59), True),
        ("22:00", "07:00", time(7, 0), False),
        ("22:00", "07:00", time(12, 0), False),
        ("22:00", "07:00", time(21, 59), False),
        ("01:00", "05:00", time(3, 0), True),
        ("01:00", "05:00", time(5, 30), False),
        ("00:00", "00:00", time(3, 0), False),  # equal: no night hours
    ],
)
def test_night_hours(start: str, end: str, local: time, night: bool) -> None:
    assert SoundSettings(night_start=start, night_end=end).in_night(local) is night


def test_settings_refuse_bad_hours_volumes_and_voices() -> None:
    for bad in ({"night_start": "24:00"}, {"night_end": "7:00"}, {"volume": 101},
                {"voices": {"en": "en; rm -rf /"}}):  # fmt: skip
        with pytest.raises(ValidationError):
            SoundSettings(**bad)
