"""Spoken guidance: a screen's title and message in the guest's language, rendered by
espeak-ng into WAV files cached under the state directory.

Only catalogue texts are spoken, never a view's values: a text with a ``{placeholder}``
(an amount, a room, a name) is not spoken at all. So no guest's data is ever synthesised,
cached, named in a file or logged, and every utterance can be rendered ahead of the first
guest (:meth:`Speech.prerender`). Cache files are named by the voice and a hash of the
voice, rate and text: a changed catalogue text or rate gets a new file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from kiosk.i18n import DEFAULT_LANG, Catalogue
from kiosk.journeys.checkin import CHECKIN_KEYS
from kiosk.journeys.receipt import RECEIPT_KEYS

log = logging.getLogger("kiosk.sound")

PROGRAM = "espeak-ng"
RENDER_TIMEOUT_S = 20.0
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
# Every title and message the kiosk shows a guest (the receipt's lines are printed, not shown).
SPOKEN_KEYS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [k for k in CHECKIN_KEYS if k not in RECEIPT_KEYS]
        + ["out_of_service.title", "out_of_service.message"]
    )
)


class SpeechError(RuntimeError):
    """espeak-ng could not render a text."""


@dataclass(frozen=True)
class Utterance:
    """One catalogue text to speak: its key and language name the clip (logs, the
    simulated player); ``voice`` and ``text`` make it."""

    key: str
    lang: str
    voice: str
    text: str

    @property
    def label(self) -> str:
        return f"speech:{self.lang}:{self.key}"


@dataclass(frozen=True)
class Prerendered:
    clips: int
    rendered: int  # espeak-ng runs; the others were in the cache already
    seconds: float


class Speech:
    """The catalogue's texts as espeak-ng clips, cached in ``folder``."""

    def __init__(
        self,
        catalogue: Catalogue,
        folder: Path,
        voices: Mapping[str, str],
        rate: int,
        program: str = PROGRAM,
    ) -> None:
        self._catalogue = catalogue
        self._folder = folder
        self._voices = dict(voices)
        self._rate = rate
        self._program = shutil.which(program)
        self.renders = 0  # espeak-ng runs since start-up
        self._stop = threading.Event()  # the kiosk is stopping: prerender ends early

    @property
    def available(self) -> bool:
        return self._program is not None

    def utterances(self, keys: Iterable[str], lang: str) -> list[Utterance]:
        """What to say for ``keys`` in ``lang``: each text that has no placeholder, once,
        in the language's voice (none for a language without a voice)."""
        voice = self._voices.get(lang or DEFAULT_LANG)
        if voice is None:
            return []
        said = []
        for key in dict.fromkeys(k for k in keys if k):
            text = self._catalogue.translate(key, lang or DEFAULT_LANG)
            if text != key and not _PLACEHOLDER.search(text):
                said.append(Utterance(key, lang or DEFAULT_LANG, voice, text))
        return said

    def clip(self, utterance: Utterance) -> bytes:
        """The utterance's WAV bytes, rendered now unless cached. Blocking (a worker thread)."""
        return self.path(utterance).read_bytes()

    def path(self, utterance: Utterance, *, background: bool = False) -> Path:
        """The utterance's cached clip, rendered first if need be; ``background``: at a
        low CPU priority (start-up's pre-rendering must not hold up the first screen)."""
        digest = hashlib.sha256(
            f"{utterance.voice}\n{self._rate}\n{utterance.text}".encode()
        ).hexdigest()[:24]
        target = self._folder / f"{utterance.voice}-{digest}.wav"
        if not target.exists():
            self._render(utterance, target, background)
        return target

    def _render(self, utterance: Utterance, target: Path, background: bool) -> None:
        if self._program is None:
            raise SpeechError(f"{PROGRAM} is not installed")
        self._folder.mkdir(parents=True, exist_ok=True)
        # A file of its own, renamed into place: a half-written clip is never played, and
        # two renders of one text (start-up and a guest) cannot mix.
        fd, scratch = tempfile.mkstemp(dir=self._folder, suffix=".part")
        os.close(fd)
        command = [self._program, "-v", utterance.voice, "-s", str(self._rate), "-b", "1",
                   "-w", scratch, "--stdin"]  # fmt: skip
        if background and (nice := shutil.which("nice")):
            command = [nice, "-n", "15", *command]
        try:
            done = subprocess.run(
                command,
                input=utterance.text.encode(),
                capture_output=True,
                timeout=RENDER_TIMEOUT_S,
                check=False,
            )
            if done.returncode != 0 or os.path.getsize(scratch) == 0:
                # The key, not the text: a log line stays short and in one language.
                raise SpeechError(f"{utterance.label}: {PROGRAM} exited {done.returncode}")
            os.replace(scratch, target)
            self.renders += 1
        except subprocess.TimeoutExpired:
            raise SpeechError(f"{utterance.label}: {PROGRAM} timed out") from None
        finally:
            Path(scratch).unlink(missing_ok=True)

    def stop(self) -> None:
        """End a ``prerender`` running in another thread after its current text."""
        self._stop.set()

    def prerender(self, keys: Iterable[str] = SPOKEN_KEYS) -> Prerendered:
        """Every text of ``keys`` in every language that has a voice, into the cache, and
        every other clip out of it. Blocking (a worker thread); a text that fails is logged
        and left to render on use."""
        started, renders = time.monotonic(), self.renders
        utterances = [
            u
            for language in self._catalogue.languages
            for u in self.utterances(keys, language.code)
        ]
        ready = set()
        for utterance in utterances:
            if self._stop.is_set():
                break
            try:
                ready.add(self.path(utterance, background=True))
            except SpeechError as exc:
                log.warning("speech: %s", exc)
        else:
            # Clips of texts the catalogues no longer hold (an update, another voice) go.
            for stale in set(self._folder.glob("*.wav")) - ready:
                stale.unlink(missing_ok=True)
        return Prerendered(
            len(utterances), self.renders - renders, round(time.monotonic() - started, 3)
        )
