"""The kiosk's sound following a journey's channel (kiosk/sound/guide.py): what it plays
for each screen and move, when it keeps quiet, how loud, and that no guest's data reaches
speech, a cache file or a log. The simulated player records what was played."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hardware.audio.simulator import SimPlayer
from hardware.health import HealthLevel
from kiosk.i18n import Catalogue
from kiosk.journeys.messages import Action, ActionKind, Channel, Step, View, watched_channel
from kiosk.sound.guide import SoundGuide
from kiosk.sound.settings import DEFAULT_VOICES, SoundSettings
from kiosk.sound.speech import Speech

ZONE = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 3, 4, 6, 0, tzinfo=UTC)  # 14:00 at the property
NIGHT = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)  # 23:30 at the property (07:30 UTC+0 is day)
CATALOGUE = Catalogue.load(tz=ZONE)
needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (.ci/bootstrap does)"
)

REFUSED = View(Step.REFUSAL, "refusal.unknown_code.title", "refusal.unknown_code.message")
SCAN = View(Step.SCAN, "scan.title", "scan.message", language="en")


class Sounding:
    """A guide on a watched channel with its playback task running."""

    def __init__(self, guide: SoundGuide) -> None:
        self.guide = guide
        self.channel = watched_channel()
        guide.follow(self.channel)
        self.player: SimPlayer = guide.player  # type: ignore[assignment]

    async def heard(self) -> list[str]:
        await asyncio.sleep(0)  # the playback task wakes up
        await asyncio.wait_for(self.guide.idle(), 10)
        return [clip.label for clip in self.player.played]


@pytest.fixture
async def sounding(tmp_path: Path) -> Callable[..., Sounding]:
    tasks: list[asyncio.Task[None]] = []

    def make(clock: datetime = DAY, speech: bool = False, **settings: object) -> Sounding:
        chosen = SoundSettings(speech=speech, **settings)  # type: ignore[arg-type]
        voice = Speech(CATALOGUE, tmp_path / "speech", chosen.voices, chosen.speech_rate)
        guide = SoundGuide(chosen, SimPlayer(), voice, ZONE, lambda: clock)
        tasks.append(asyncio.create_task(guide.run()))
        return Sounding(guide)

    yield make
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_cues_for_a_code_read_an_error_the_card_and_success(sounding) -> None:
    s = sounding()
    s.channel.views.put_nowait(SCAN)
    s.channel.actions.put_nowait(Action(ActionKind.QR, "code"))
    s.channel.views.put_nowait(
        View(Step.KEY_PROGRESS, "key_progress.title", "key_progress.present")
    )
    s.channel.views.put_nowait(View(Step.DONE, "done.title", "done.message"))
    s.channel.views.put_nowait(REFUSED)
    assert await s.heard() == ["cue:code_read", "cue:take_card", "cue:success", "cue:error"]
    # The channel itself is untouched: the journey's and the UI's ends see every item.
    assert s.channel.views.qsize() == 4 and s.channel.actions.qsize() == 1


async def test_a_code_held_to_the_camera_beeps_once(sounding) -> None:
    s = sounding()
    for _ in range(5):  # the camera reads the same code frame after frame
        s.channel.actions.put_nowait(Action(ActionKind.QR, "code"))
    assert await s.heard() == ["cue:code_read"]


async def test_every_card_presented_gets_its_cue(sounding) -> None:
    s = sounding()
    present = View(Step.KEY_PROGRESS, "key_progress.title", "key_progress.present")
    s.channel.views.put_nowait(present)
    s.channel.views.put_nowait(View(Step.KEY_PROGRESS, "key_progress.title", "key_progress.encode"))
    s.channel.views.put_nowait(present)
    assert await s.heard() == ["cue:take_card", "cue:take_card"]


async def test_night_hours_are_silent_in_the_propertys_time_zone(sounding) -> None:
    # 15:30 UTC is 23:30 in Shanghai: night there, though mid-afternoon in UTC.
    night = sounding(clock=NIGHT)
    night.channel.views.put_nowait(REFUSED)
    assert await night.heard() == []
    day = sounding(clock=DAY)
    day.channel.views.put_nowait(REFUSED)
    assert await day.heard() == ["cue:error"]


async def test_volume_and_night_volume_scale_what_is_played(sounding) -> None:
    peaks = {}
    for name, clock, volume in (("full", DAY, 100), ("half", DAY, 50), ("night", NIGHT, 100)):
        s = sounding(clock=clock, volume=volume, night_volume=20)
        s.channel.views.put_nowait(REFUSED)
        await s.heard()
        [played] = s.player.played
        peaks[name] = played.peak
    assert peaks["half"] == pytest.approx(peaks["full"] / 2, abs=1)
    assert peaks["night"] == pytest.approx(peaks["full"] / 5, abs=1)


async def test_sound_off_plays_nothing(sounding) -> None:
    s = sounding(enabled=False)
    s.channel.views.put_nowait(REFUSED)
    s.channel.actions.put_nowait(Action(ActionKind.QR, "code"))
    assert await s.heard() == []


def test_the_sound_follows_only_a_watched_channel() -> None:
    guide = SoundGuide(SoundSettings(), SimPlayer(), None, ZONE)
    with pytest.raises(TypeError):
        guide.follow(Channel())


@needs_espeak
async def test_speech_says_the_screen_in_the_guests_language(sounding) -> None:
    s = sounding(speech=True)
    s.channel.views.put_nowait(View(Step.SCAN, "scan.title", "scan.message", language="zh_Hant"))
    assert await s.heard() == ["speech:zh_Hant:scan.title", "speech:zh_Hant:scan.message"]
    # The guest picks 简体中文 on the bar: the same screen again, in Mandarin.
    s.channel.actions.put_nowait(Action(ActionKind.LANGUAGE, "zh_Hans"))
    assert (await s.heard())[2:] == ["speech:zh_Hans:scan.title", "speech:zh_Hans:scan.message"]


@needs_espeak
async def test_a_new_screen_replaces_words_not_yet_spoken(sounding) -> None:
    s = sounding(speech=True)
    s.channel.views.put_nowait(View(Step.SUMMARY, "summary.title", "summary.message"))
    s.channel.views.put_nowait(SCAN)
    s.channel.views.put_nowait(REFUSED)
    assert await s.heard() == [
        "cue:error",
        "speech:en:refusal.unknown_code.title",
        "speech:en:refusal.unknown_code.message",
    ]


@needs_espeak
async def test_the_idle_screens_speak_to_nobody(sounding) -> None:
    s = sounding(speech=True)
    s.channel.views.put_nowait(View(Step.ATTRACT, "attract.title", "attract.message"))
    s.channel.views.put_nowait(View(Step.OUT_OF_SERVICE, "out_of_service.title"))
    s.channel.actions.put_nowait(Action(ActionKind.LANGUAGE, "zh_Hant"))
    assert await s.heard() == []


@needs_espeak
async def test_a_title_just_heard_is_not_said_again(sounding) -> None:
    s = sounding(speech=True)
    for stage in ("dispense", "encode"):
        s.channel.views.put_nowait(
            View(Step.KEY_PROGRESS, "key_progress.title", f"key_progress.{stage}")
        )
        await s.heard()
    assert await s.heard() == [
        "speech:en:key_progress.title",
        "speech:en:key_progress.dispense",
        "speech:en:key_progress.encode",
    ]


@needs_espeak
async def test_no_guest_data_in_speech_cache_names_or_logs(
    sounding, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    s = sounding(speech=True)
    guest = {"guest_name": "Zhang Wei", "phone": "13800138000", "id_number": "E12345678"}
    views = [
        View(Step.SUMMARY, "summary.title", "summary.guest_name", params=guest, language="en"),
        View(
            Step.PAYMENT,
            "payment.title",
            "payment.message",
            language="zh_Hans",
            params={"amount_due": "388.00", "currency": "CNY"},
        ),
        View(Step.REFUSAL, "refusal.wrong_day.title", "refusal.wrong_day.message", params=guest),
    ]
    with caplog.at_level(logging.DEBUG):
        for view in views:
            s.channel.views.put_nowait(view)
            await s.heard()
    assert s.player.played[-1].label == "speech:en:refusal.wrong_day.title"
    # Only catalogue texts were spoken: the cache holds their clips and nothing else.
    spoken = [c.label.split(":")[1:] for c in s.player.played if c.label.startswith("speech:")]
    assert spoken == [["en", "summary.title"], ["zh_Hans", "payment.title"],
                      ["en", "refusal.wrong_day.title"]]  # fmt: skip
    speech = s.guide.speech
    assert speech is not None
    expected = {speech.path(u).name for lang, key in spoken for u in speech.utterances([key], lang)}
    cached = sorted(p.name for p in (tmp_path / "speech").iterdir())
    assert set(cached) == expected
    logged = " ".join(record.getMessage() for record in caplog.records)
    labels = " ".join(clip.label for clip in s.player.played)
    for value in guest.values():
        assert value not in logged and value not in labels and value not in " ".join(cached)
    assert "388" not in logged and "388" not in labels  # nor a value that is not personal


async def test_missing_espeak_leaves_the_cues_and_warns_in_health(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = SoundSettings(speech=True)
    speech = Speech(CATALOGUE, tmp_path, DEFAULT_VOICES, 150, program="no-such-espeak-ng")
    with caplog.at_level(logging.WARNING, logger="kiosk.sound"):
        guide = SoundGuide(settings, SimPlayer(), speech, ZONE, lambda: DAY)
    assert [r.getMessage() for r in caplog.records] == [
        "speech off: espeak-ng is not installed (cues still play)"
    ]
    task = asyncio.create_task(guide.run())
    try:
        s = Sounding(guide)
        s.channel.views.put_nowait(REFUSED)
        assert await s.heard() == ["cue:error"]
        await guide.prerender()  # nothing to do, and no error
    finally:
        task.cancel()
    health = guide.health()
    assert health.level is HealthLevel.WARNING and "espeak-ng" in health.detail
    assert list(tmp_path.iterdir()) == []


def test_a_sound_that_fails_never_stops_the_view(caplog: pytest.LogCaptureFixture) -> None:
    """Outside a running loop nothing can be queued: the view goes on, one error is logged."""
    guide = SoundGuide(SoundSettings(), SimPlayer(), None, ZONE)
    channel = watched_channel()
    guide.follow(channel)
    with caplog.at_level(logging.ERROR, logger="kiosk.sound"):
        channel.views.put_nowait(REFUSED)
    assert channel.views.get_nowait() is REFUSED
    assert [r.getMessage() for r in caplog.records] == [
        "sound: nothing played for this screen (RuntimeError)"
    ]


@needs_espeak
async def test_a_guest_turns_speech_on_for_their_journey_only(sounding) -> None:
    s = sounding(speech=False)  # the property's setting: cues only
    assert s.guide.speech_available and not s.guide.speech_on
    s.channel.views.put_nowait(SCAN)
    assert await s.heard() == []
    s.guide.set_speech(True, "zh_Hans")  # the guest's switch: the screen is said at once
    assert await s.heard() == ["speech:zh_Hans:scan.title", "speech:zh_Hans:scan.message"]
    s.channel.views.put_nowait(View(Step.SUMMARY, "summary.title", "summary.message"))
    assert (await s.heard())[2:] == ["speech:en:summary.title", "speech:en:summary.message"]
    s.guide.set_speech(False, "en")
    s.channel.views.put_nowait(REFUSED)
    assert (await s.heard())[4:] == ["cue:error"]
    # The next guest starts from the setting again.
    s.guide.set_speech(True, "en")
    s.channel.views.put_nowait(View(Step.ATTRACT, "attract.title", "attract.message"))
    s.channel.views.put_nowait(SCAN)
    await s.heard()
    assert not s.guide.speech_on
    assert [c.label for c in s.player.played][-1] != "speech:en:scan.message"


async def test_without_espeak_the_switch_stays_off(tmp_path: Path) -> None:
    speech = Speech(CATALOGUE, tmp_path, DEFAULT_VOICES, 150, program="no-such-espeak-ng")
    guide = SoundGuide(SoundSettings(), SimPlayer(), speech, ZONE, lambda: DAY)
    guide.set_speech(True, "en")
    assert not guide.speech_available and not guide.speech_on
    assert guide.health().level is HealthLevel.OK  # speech was not asked for by the property
