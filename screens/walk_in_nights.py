"""How many nights a walk-in guest stays: one choice per length, with its check-out."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class WalkInNightsScreen(StepScreen):
    step = Step.WALK_IN_NIGHTS
    hero_icon = "nights"


load_kv(__file__)
