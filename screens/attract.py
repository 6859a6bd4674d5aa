"""The idle screen: the property's photo and brand, and a code that pulses to invite a scan."""

from __future__ import annotations

from typing import Any

from kivy.animation import Animation
from kivy.app import App

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class AttractScreen(StepScreen):
    step = Step.ATTRACT

    def on_kv_post(self, base_widget: Any) -> None:
        self.frame.title.role = "display"
        self.frame.title.tone = self.frame.message.tone = "inverse"
        half = App.get_running_app().timing.attract_pulse_s
        self._pulse = Animation(opacity=0.35, duration=half) + Animation(opacity=1, duration=half)
        self._pulse.repeat = True

    def on_enter(self) -> None:
        if App.get_running_app().timing.attract_pulse_s > 0:
            self._pulse.start(self.ids.cue)

    def on_leave(self) -> None:
        self._pulse.cancel(self.ids.cue)
        self.ids.cue.opacity = 1


load_kv(__file__)
