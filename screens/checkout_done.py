"""Checked out (the booking's other rooms stay, when some do)."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class CheckoutDoneScreen(StepScreen):
    step = Step.CHECKOUT_DONE
    hero_icon = "success"


load_kv(__file__)
