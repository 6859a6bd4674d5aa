"""What the UI's "Read aloud" switch needs of the kiosk's sound (``SoundGuide`` is one)."""

from __future__ import annotations

from typing import Protocol


class SpeechSwitch(Protocol):
    speech_on: bool  # the current guest hears the screens read aloud

    @property
    def speech_available(self) -> bool:
        """The kiosk can speak (espeak-ng is there)."""
        ...

    def set_speech(self, on: bool, lang: str) -> None:
        """On: the current screen is said at once in ``lang``; off: the words stop."""
        ...
