"""Extend stay: insert the room card found by the booking; also "take your card back"."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class ExtendCardScreen(StepScreen):
    step = Step.EXTEND_CARD
    hero_icon = "take_card"


load_kv(__file__)
