"""The key journey's first screen: an extra card, or a lost key (choices only)."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class KeyMenuScreen(StepScreen):
    step = Step.KEY_MENU
    hero_icon = "key"


load_kv(__file__)
