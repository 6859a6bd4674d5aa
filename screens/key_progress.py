"""Dispense, encode, verify, present: the message says which; the progress bar counts the
cards ("Card n of N", from ``View.progress``) and a line names the ``room``."""

from __future__ import annotations

from typing import Any

from kiosk.journeys.messages import Step, View
from screens.base import StepScreen
from screens.kv import load_kv


class KeyProgressScreen(StepScreen):
    step = Step.KEY_PROGRESS
    stage = 3
    hero_icon = "key"
    detail_keys = ("room",)

    def on_kv_post(self, base_widget: Any) -> None:
        self.frame.progress.label_key = "key_progress.card"

    def hero(self, view: View) -> str:
        # "Please take your card": point down, at the dispenser's slot below the screen.
        return "take_card" if view.message == "key_progress.present" else self.hero_icon


load_kv(__file__)
