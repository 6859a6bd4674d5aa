"""Taken out of service by staff or by a fault: no guest can start here."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class OutOfServiceScreen(StepScreen):
    step = Step.OUT_OF_SERVICE
    hero_icon = "staff"


load_kv(__file__)
