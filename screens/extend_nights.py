"""Extend stay: how many more nights; each choice names its new check-out and price."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class ExtendNightsScreen(StepScreen):
    step = Step.EXTEND_NIGHTS
    hero_icon = "nights"


load_kv(__file__)
