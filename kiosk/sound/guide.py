"""The kiosk's sound: follows the channel between the journey and the UI, and plays the
cue and the spoken guidance each screen or guest move calls for.

Watchers run on the asyncio loop and only queue clips; one playback task renders and
plays them in worker threads, so neither the journey nor the UI ever waits for a sound.
A new screen's words replace the words not yet spoken (and cut those being spoken); cues
are short and always play. The volume is looked up as each clip starts: ``[sound]
volume``, or ``night_volume`` in the property's night hours.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path

import numpy as np

from hardware.audio import AudioConfig, AudioError, AudioPlayer, open_player
from hardware.health import DeviceHealth, HealthLevel
from kiosk.i18n import Catalogue
from kiosk.journeys.messages import Action, ActionKind, Channel, Step, View, WatchedQueue
from kiosk.sound.cues import Cue, cue_for_action, cue_for_view, synthesise
from kiosk.sound.settings import SoundSettings
from kiosk.sound.speech import Speech, SpeechError, Utterance
from kiosk.sound.wav import RATE, ClipError, decode, encode, scaled

log = logging.getLogger("kiosk.sound")

_UNATTENDED = frozenset({Step.ATTRACT, Step.OUT_OF_SERVICE})
REPEAT_GAP_S = 1.5  # a code read again within this is one cue (a code held to the camera)


@dataclass(frozen=True)
class _Clip:
    cue: Cue | None = None
    words: Utterance | None = None
    generation: int = 0  # words of an older screen than the current one are not spoken

    @property
    def label(self) -> str:
        return f"cue:{self.cue}" if self.cue else self.words.label if self.words else ""


class SoundGuide:
    def __init__(
        self,
        settings: SoundSettings,
        player: AudioPlayer,
        speech: Speech | None,
        zone: tzinfo,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.player = player
        self.speech = speech if speech is not None and speech.available else None
        if settings.speech and self.speech is None:
            log.warning("speech off: espeak-ng is not installed (cues still play)")
        # Spoken guidance now: the setting, until a guest's accessibility switch changes it.
        self.speech_on = settings.speech and self.speech is not None
        self._zone = zone
        self._clock = clock
        self._tones = {cue: synthesise(cue) for cue in Cue}
        self._pending: deque[_Clip] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._generation = 0
        self._speaking = False
        self._screen: tuple[str, ...] = ()  # the current view's title and message keys
        self._last_cue: tuple[Cue | None, float] = (None, 0.0)

    # --- following the channel (on the loop: never blocks, never raises) ---------------

    def follow(self, channel: Channel) -> None:
        """Watch ``channel``'s views and actions (its queues are ``WatchedQueue``s)."""
        views, actions = channel.views, channel.actions
        if not isinstance(views, WatchedQueue) or not isinstance(actions, WatchedQueue):
            raise TypeError("the sound follows a watched_channel()")
        views.watchers.append(self.view_shown)
        actions.watchers.append(self.action_taken)

    def view_shown(self, view: View) -> None:
        # A title the guest has just heard (the stages of one card) is not said again, and
        # the idle screens speak to nobody (after every guest, to an empty lobby).
        if view.step is Step.ATTRACT:  # the next guest starts from the setting
            self.speech_on = self.speech is not None and self.settings.speech
        screen = () if view.step in _UNATTENDED else (view.title, view.message)
        said = screen[1:] if screen[:1] == self._screen[:1] else screen
        self._screen = screen
        self._queue(cue_for_view(view), said, view.language)

    def action_taken(self, action: Action) -> None:
        if action.kind is ActionKind.LANGUAGE:  # the same screen, now in the guest's language
            self._queue(None, self._screen, action.value)
        else:
            self._queue(cue_for_action(action), (), "")

    def _queue(self, cue: Cue | None, keys: tuple[str, ...], lang: str) -> None:
        try:
            self._enqueue(cue, keys, lang)
        except Exception as exc:  # a sound must never stop a view or an action on its way
            log.error("sound: nothing played for this screen (%s)", type(exc).__name__)

    def _enqueue(self, cue: Cue | None, keys: tuple[str, ...], lang: str) -> None:
        now = asyncio.get_running_loop().time()
        last_cue, last_at = self._last_cue
        repeated = cue is Cue.CODE_READ and last_cue is cue and now - last_at < REPEAT_GAP_S
        if cue is not None and not repeated:
            self._last_cue = (cue, now)
            self._pending.append(_Clip(cue=cue))
        if keys and self.speech is not None and self.speech_on:
            self._hush()
            for words in self.speech.utterances(keys, lang):
                self._pending.append(_Clip(words=words, generation=self._generation))
        if self._pending:
            self._idle.clear()
            self._wake.set()

    def _hush(self) -> None:
        """Forget the words not yet spoken and cut those being spoken; cues stay."""
        self._generation += 1
        self._pending = deque(clip for clip in self._pending if clip.words is None)
        if self._speaking:
            self.player.stop()  # quick: ends the clip, the playing thread returns

    # --- a guest's accessibility switch (the UI's port) -------------------------------

    @property
    def speech_available(self) -> bool:
        return self.speech is not None

    def set_speech(self, on: bool, lang: str) -> None:
        """Speech on for this guest (the screen is said at once, in ``lang``) or off (the
        words stop). The attract screen puts it back to ``[sound] speech``."""
        self.speech_on = on and self.speech is not None
        if self.speech_on:
            self._queue(None, self._screen, lang)
        else:
            self._hush()

    # --- playing ------------------------------------------------------------------------

    def volume(self) -> int:
        """The loudness now: 0 when off, ``night_volume`` in the property's night hours."""
        if not self.settings.enabled:
            return 0
        local = self._clock().astimezone(self._zone).time()
        return self.settings.night_volume if self.settings.in_night(local) else self.settings.volume

    async def run(self) -> None:
        """Play what the screens ask for, until cancelled. The player is tried first, so a
        missing sound card shows in the health before the first guest."""
        await asyncio.to_thread(self.player.check)
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                await self._play(self._pending.popleft())
            self._idle.set()

    async def idle(self) -> None:
        """Until every queued clip has played (the demo, between its guests)."""
        await self._idle.wait()

    async def _play(self, clip: _Clip) -> None:
        volume = self.volume()
        if volume == 0:
            return
        try:
            if clip.words is None:
                samples, rate = self._tones[clip.cue], RATE  # type: ignore[index]
            else:
                samples, rate = await self._words(clip)
                if clip.generation != self._generation:
                    return  # the guest is on another screen by now
            wav = encode(scaled(samples, volume), rate)
            self._speaking = clip.words is not None
            await asyncio.to_thread(self.player.play, wav, clip.label)
        except AudioError:
            pass  # the player logs a new fault once and reports it in its health
        except (SpeechError, ClipError) as exc:
            log.warning("speech: %s", exc)
        finally:
            self._speaking = False

    async def _words(self, clip: _Clip) -> tuple[np.ndarray, int]:
        assert self.speech is not None and clip.words is not None
        return decode(await asyncio.to_thread(self.speech.clip, clip.words))

    async def prerender(self) -> None:
        """Every spoken text into the cache, off the loop (start-up's background task)."""
        if self.speech is None or not self.speech_on:
            return
        try:
            done = await asyncio.to_thread(self.speech.prerender)
        except asyncio.CancelledError:  # the thread goes on unless told to stop
            self.speech.stop()
            raise
        log.info(
            "speech: %d clips ready in %.1f s (%d rendered, the others cached)",
            done.clips,
            done.seconds,
            done.rendered,
        )

    def health(self) -> DeviceHealth:
        """The player's health; a warning when speech is asked for and cannot be made."""
        health = self.player.health()
        if health.level is HealthLevel.OK and self.settings.speech and self.speech is None:
            return DeviceHealth(health.device, HealthLevel.WARNING, "speech off: espeak-ng missing")
        return health


def open_sound(
    settings: SoundSettings,
    audio: AudioConfig,
    catalogue: Catalogue,
    cache_dir: Path,
    zone: tzinfo,
) -> SoundGuide:
    """The kiosk's sound from ``[sound]`` and ``[devices.audio]``; speech clips cached in
    ``cache_dir`` (rendered only when speech is on)."""
    speech = Speech(catalogue, cache_dir, settings.voices, settings.speech_rate)
    return SoundGuide(settings, open_player(audio), speech, zone)
