"""The "Call staff" button on every screen's header, and the notice that tells the guest someone is
coming (over the screen, without ending the journey or taking its touches)."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty
from kivy.uix.button import Button
from kivy.uix.floatlayout import FloatLayout

NOTICE_S = 8.0  # how long the guest sees "someone is on the way"


class StaffButton(Button):
    """Asks the app to call staff (``KioskApp.call_staff``)."""

    def on_release(self) -> None:
        App.get_running_app().call_staff()


class StaffNotice(FloatLayout):
    """The "someone is on the way" message, shown for ``NOTICE_S``; touches pass through to
    the screen underneath, so the guest can carry on."""

    shown = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._hide = Clock.create_trigger(lambda _dt: self.dismiss(), NOTICE_S)

    def show(self) -> None:
        self.shown = True
        self._hide.cancel()
        self._hide()

    def dismiss(self) -> None:
        self._hide.cancel()
        self.shown = False

    def on_touch_down(self, touch: Any) -> bool:
        return False
