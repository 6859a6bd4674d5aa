"""Check-out's first screen: insert the room card into the slot below, or scan the booking."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class CheckoutStartScreen(StepScreen):
    step = Step.CHECKOUT_START
    hero_icon = "take_card"


load_kv(__file__)
