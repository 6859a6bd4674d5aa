"""Extend stay: insert the room card (the slot is open meanwhile), or use the booking instead."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class ExtendStartScreen(StepScreen):
    step = Step.EXTEND_START
    hero_icon = "key"


load_kv(__file__)
