"""The players (hardware/audio): ALSA's aplay as a real subprocess — a missing sound card
is a health warning, never a crash — and the simulated player."""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hardware.audio import AudioConfig, AudioError, open_player
from hardware.audio.aplay import AplayPlayer
from hardware.audio.simulator import SimPlayer
from hardware.health import HealthLevel
from kiosk.journeys.messages import Step, View, watched_channel
from kiosk.sound.cues import Cue, synthesise
from kiosk.sound.guide import SoundGuide
from kiosk.sound.settings import SoundSettings
from kiosk.sound.wav import RATE, encode

needs_aplay = pytest.mark.skipif(
    shutil.which("aplay") is None, reason="aplay is not installed (.ci/bootstrap: alsa-utils)"
)
BEEP = encode(synthesise(Cue.CODE_READ), RATE)


def aplay(device: str, **settings: float) -> AplayPlayer:
    return AplayPlayer(AudioConfig(driver="aplay", device=device, **settings))


@needs_aplay
def test_a_missing_alsa_device_is_a_warning_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    player = aplay("nosuchdevice")
    with caplog.at_level(logging.WARNING, logger="hardware.audio"):
        for _ in range(3):
            with pytest.raises(AudioError, match="cannot play on nosuchdevice"):
                player.play(BEEP, "cue:code_read")
    health = player.health()
    assert health.level is HealthLevel.WARNING
    assert health.detail.startswith("cannot play on nosuchdevice: ")
    assert len(caplog.records) == 1  # once per fault, not once per clip


@needs_aplay
def test_the_start_up_check_finds_a_missing_device_without_raising() -> None:
    missing, there = aplay("nosuchdevice"), aplay("null")
    missing.check()
    there.check()
    assert missing.health().level is HealthLevel.WARNING
    assert there.health().level is HealthLevel.OK


@needs_aplay
def test_a_clip_on_a_working_device_clears_the_warning() -> None:
    player = aplay("null")  # ALSA's null PCM: accepts the clip, sounds nowhere
    player._fault = "cannot play on null: earlier"  # a fault from before the card came back
    player.play(BEEP, "cue:code_read")
    assert player.health().level is HealthLevel.OK


def test_no_aplay_program_is_a_warning(tmp_path: Path) -> None:
    player = AplayPlayer(AudioConfig(driver="aplay"), program=str(tmp_path / "no-aplay"))
    with pytest.raises(AudioError, match="cannot start"):
        player.play(BEEP, "cue:error")
    assert player.health().level is HealthLevel.WARNING


def hanging_player(tmp_path: Path, timeout_s: float = 30.0) -> AplayPlayer:
    """A stand-in for aplay that takes the clip and then never finishes (a hung card)."""
    program = tmp_path / "aplay"
    program.write_text("#!/bin/sh\ncat > /dev/null\nexec sleep 60\n")
    program.chmod(0o755)
    return AplayPlayer(AudioConfig(driver="aplay", timeout_s=timeout_s), program=str(program))


def test_stop_ends_the_clip_playing_now(tmp_path: Path) -> None:
    player = hanging_player(tmp_path)
    errors: list[Exception] = []

    def play() -> None:
        try:
            player.play(BEEP, "speech:en:scan.title")
        except Exception as exc:
            errors.append(exc)

    worker = threading.Thread(target=play)
    started = time.monotonic()
    worker.start()
    while player._proc is None and time.monotonic() - started < 10:
        time.sleep(0.01)
    player.stop()
    worker.join(10)
    assert not worker.is_alive() and errors == []
    assert time.monotonic() - started < 10
    assert player.health().level is HealthLevel.OK  # stopped is not a fault


def test_a_hung_player_is_killed_at_its_deadline(tmp_path: Path) -> None:
    player = hanging_player(tmp_path, timeout_s=0.5)
    started = time.monotonic()
    with pytest.raises(AudioError, match="did not finish"):
        player.play(BEEP, "cue:error")
    assert time.monotonic() - started < 5
    assert player.health().level is HealthLevel.WARNING


@needs_aplay
async def test_the_kiosk_keeps_going_without_a_sound_card() -> None:
    """The guide on the real player and a device that is not there: the guest's views still
    go through, and the operator sees the warning in the guide's health."""
    guide = SoundGuide(
        SoundSettings(night_start="00:00", night_end="00:00"),
        aplay("nosuchdevice"),
        None,
        ZoneInfo("UTC"),
    )
    task = asyncio.create_task(guide.run())
    channel = watched_channel()
    guide.follow(channel)
    try:
        channel.views.put_nowait(View(Step.DONE, "done.title", "done.message"))
        await asyncio.sleep(0)
        await asyncio.wait_for(guide.idle(), 10)
        assert not task.done()  # the playback task survived the failure
        assert (await channel.views.get()).step is Step.DONE
    finally:
        task.cancel()
    assert guide.health().level is HealthLevel.WARNING


def test_the_simulated_player_records_label_length_and_loudness() -> None:
    player = SimPlayer()
    player.play(BEEP, "cue:code_read")
    [played] = player.played
    assert played.label == "cue:code_read"
    assert played.seconds == pytest.approx(0.09, abs=0.005)
    assert played.peak == max(abs(int(s)) for s in synthesise(Cue.CODE_READ))
    with pytest.raises(AudioError):
        player.play(b"not a wav", "cue:error")


def test_open_player_follows_the_driver() -> None:
    assert isinstance(open_player(AudioConfig()), SimPlayer)
    assert isinstance(open_player(AudioConfig(driver="aplay", device="plughw:1,0")), AplayPlayer)


@needs_aplay
def test_doctor_and_hw_list_try_the_sound_card() -> None:
    """`kiosk doctor` / `kiosk hw list` play a moment of silence on the configured device."""
    from hardware.config import DevicesConfig
    from kiosk.cli._devices import probe_all

    devices = DevicesConfig(audio=AudioConfig(driver="aplay", device="nosuchdevice"))
    [audio] = [r for r in probe_all(devices, timeout_s=10) if r.name == "audio"]
    assert audio.driver == "aplay" and audio.health.level is HealthLevel.WARNING
    assert "cannot play on nosuchdevice" in audio.health.detail
