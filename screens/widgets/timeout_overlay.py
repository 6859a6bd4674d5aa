"""The "Are you still there?" warning with a countdown, over whatever screen is showing."""

from __future__ import annotations

from kivy.properties import BooleanProperty, NumericProperty
from kivy.uix.floatlayout import FloatLayout


class TimeoutOverlay(FloatLayout):
    """Covers the screen while ``shown``; the app hides it on any touch (which it swallows,
    so the touch that says "I am here" does not also press a button underneath)."""

    seconds = NumericProperty(0)
    shown = BooleanProperty(False)

    def on_touch_down(self, touch: object) -> bool:
        return self.shown

    def on_touch_up(self, touch: object) -> bool:
        return self.shown
