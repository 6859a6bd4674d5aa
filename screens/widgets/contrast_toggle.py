"""The large-text / high-contrast switch shown on every screen."""

from __future__ import annotations

from kivy.app import App
from kivy.uix.togglebutton import ToggleButton


class ContrastToggle(ToggleButton):
    """Mirrors and sets ``app.high_contrast`` (its ``state`` is bound in widgets.kv)."""

    def on_release(self) -> None:
        App.get_running_app().high_contrast = self.state == "down"
