"""Dispense, encode, verify, present: the message says which; the progress bar counts the
cards ("Card n of N", from ``View.progress``) and a line names the ``room``.

Below them the stages run as a track, and a card shows what is happening: waves while it
is written, then it glides towards the dispenser's slot (``[ui] card_slot``) with an arrow
pointing there. The cue loops every ``UiTiming.card_cue_s`` (0 keeps it still) while the
screen is shown.
"""

from __future__ import annotations

from typing import Any

from kivy.animation import Animation
from kivy.app import App
from kivy.properties import NumericProperty

from kiosk.journeys.messages import Step, View
from screens.base import StepScreen
from screens.kv import load_kv
from screens.widgets.card_progress import CARD_STAGES
from screens.widgets.motion import Motion


class KeyProgressScreen(StepScreen):
    step = Step.KEY_PROGRESS
    stage = 3
    detail_keys = ("room",)
    card_stage = NumericProperty(-1)  # the view's index in CARD_STAGES
    phase = NumericProperty(0.0)  # the cue's loop, 0 .. 1

    def on_kv_post(self, base_widget: Any) -> None:
        self.frame.progress.label_key = "key_progress.card"
        self.motion = Motion(rest=lambda: setattr(self, "phase", 0.0))

    def render(self, view: View) -> None:
        name = (view.message or "").rpartition(".")[2]
        self.card_stage = CARD_STAGES.index(name) if name in CARD_STAGES else -1

    def on_enter(self) -> None:
        loop = App.get_running_app().timing.card_cue_s
        if loop > 0:
            cue = Animation(phase=1.0, duration=loop) + Animation(phase=0.0, duration=0)
            cue.repeat = True
            self.motion.play(cue, self)

    def on_leave(self) -> None:
        self.motion.stop()


load_kv(__file__)
