"""The guest's "Read aloud" switch on every screen's header: spoken guidance for their
journey (kiosk/sound), shown only where the kiosk can speak."""

from __future__ import annotations

from kivy.app import App
from kivy.uix.togglebutton import ToggleButton


class SpeechToggle(ToggleButton):
    """Mirrors ``app.speech`` (its ``state`` is bound in widgets.kv) and sets it through
    ``KioskApp.set_speech``."""

    def on_release(self) -> None:
        App.get_running_app().set_speech(self.state == "down")
