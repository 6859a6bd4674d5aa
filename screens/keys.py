"""How many room cards per room: the journey's choices are the counts."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class KeysScreen(StepScreen):
    step = Step.KEYS
    stage = 3
    hero_icon = "card"


load_kv(__file__)
