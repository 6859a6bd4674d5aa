"""Spoken guidance (kiosk/sound/speech.py) with the real espeak-ng: the catalogue's texts in
each language's voice, WAV files read back, the cache, and what is never spoken."""

from __future__ import annotations

import io
import shutil
import wave
from pathlib import Path

import pytest

from kiosk.i18n import Catalogue
from kiosk.sound.settings import DEFAULT_VOICES
from kiosk.sound.speech import SPOKEN_KEYS, Speech, SpeechError

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (.ci/bootstrap does)"
)

CATALOGUE = Catalogue.load(tz="Asia/Shanghai")


def speech(folder: Path) -> Speech:
    return Speech(CATALOGUE, folder, DEFAULT_VOICES, rate=150)


def read_wav(data: bytes) -> tuple[int, int, int, float]:
    with wave.open(io.BytesIO(data)) as clip:
        seconds = clip.getnframes() / clip.getframerate()
        return clip.getnchannels(), clip.getsampwidth(), clip.getframerate(), seconds


@pytest.mark.parametrize(("lang", "voice"), [("en", "en"), ("zh_Hans", "cmn"), ("zh_Hant", "yue")])
def test_each_language_is_spoken_in_its_voice(tmp_path: Path, lang: str, voice: str) -> None:
    said = speech(tmp_path).utterances(["scan.title", "scan.message"], lang)
    assert [(u.key, u.voice) for u in said] == [("scan.title", voice), ("scan.message", voice)]
    assert [u.text for u in said] == [
        CATALOGUE.translate("scan.title", lang),
        CATALOGUE.translate("scan.message", lang),
    ]
    assert said[0].label == f"speech:{lang}:scan.title"
    channels, width, rate, seconds = read_wav(speech(tmp_path).clip(said[1]))
    assert (channels, width, rate) == (1, 2, 22050)
    assert 1.0 < seconds < 15.0  # a sentence, not an empty or truncated clip
    assert speech(tmp_path).path(said[1]).name.startswith(f"{voice}-")


def test_mandarin_and_cantonese_are_different_voices(tmp_path: Path) -> None:
    """The same Chinese text in cmn and yue gives two different recordings."""
    s = speech(tmp_path)
    [hans] = s.utterances(["done.title"], "zh_Hans")
    [hant] = s.utterances(["done.title"], "zh_Hant")
    assert s.clip(hans) != s.clip(hant)
    assert s.path(hans) != s.path(hant)


def test_texts_with_values_are_never_spoken(tmp_path: Path) -> None:
    """A title or message with a placeholder (an amount, a room, a name) is left out; a key
    the catalogues lack is not spoken either."""
    said = speech(tmp_path).utterances(
        ["payment.title", "payment.message", "summary.guest_name", "no.such.key"], "en"
    )
    assert [u.key for u in said] == ["payment.title"]
    assert not [k for k in SPOKEN_KEYS if "{" in CATALOGUE.translate(k, "en")
                and speech(tmp_path).utterances([k], "en")]  # fmt: skip


def test_a_language_without_a_voice_is_not_spoken(tmp_path: Path) -> None:
    s = Speech(CATALOGUE, tmp_path, {"en": "en"}, rate=150)
    assert s.utterances(["scan.title"], "zh_Hans") == []


def test_every_screen_text_is_spoken_in_three_languages() -> None:
    s = speech(Path("/nonexistent"))  # nothing rendered: only what would be said
    for lang in ("en", "zh_Hans", "zh_Hant"):
        said = {u.key for u in s.utterances(SPOKEN_KEYS, lang)}
        assert {"scan.title", "done.title", "refusal.card_failed.message"} <= said
        assert len(said) > 60


KEYS = ("attract.title", "scan.title", "scan.message", "done.title", "done.message")


def test_prerender_fills_the_cache_once(tmp_path: Path) -> None:
    first = speech(tmp_path)
    done = first.prerender(KEYS)
    clips = sorted(tmp_path.glob("*.wav"))
    assert done.clips == done.rendered == len(clips) == 3 * len(KEYS)  # three languages
    stamps = {p: p.stat().st_mtime_ns for p in clips}
    # The next start-up (a new process, the same state directory) renders nothing again.
    again = speech(tmp_path)
    assert again.prerender(KEYS).rendered == 0 and again.renders == 0
    [hit] = again.utterances(["scan.title"], "zh_Hant")
    again.clip(hit)
    assert again.renders == 0
    assert {p: p.stat().st_mtime_ns for p in tmp_path.glob("*.wav")} == stamps


def test_prerender_removes_clips_of_texts_no_longer_in_the_catalogues(tmp_path: Path) -> None:
    stale = tmp_path / "en-000000000000000000000000.wav"
    tmp_path.mkdir(exist_ok=True)
    stale.write_bytes(b"RIFF")
    speech(tmp_path).prerender(["attract.title"])
    assert not stale.exists()
    assert len(list(tmp_path.glob("*.wav"))) == 3  # the kept text, in three voices


def test_a_stopped_prerender_renders_no_more_and_prunes_nothing(tmp_path: Path) -> None:
    kept = tmp_path / "en-000000000000000000000000.wav"
    kept.write_bytes(b"RIFF")
    s = speech(tmp_path)
    s.stop()  # the kiosk is shutting down
    assert s.prerender().rendered == 0
    assert kept.exists()


def test_without_espeak_speech_is_unavailable_and_renders_nothing(tmp_path: Path) -> None:
    s = Speech(CATALOGUE, tmp_path, DEFAULT_VOICES, rate=150, program="no-such-espeak-ng")
    assert not s.available
    [words] = s.utterances(["scan.title"], "en")
    with pytest.raises(SpeechError, match="not installed"):
        s.clip(words)
    assert list(tmp_path.iterdir()) == []
