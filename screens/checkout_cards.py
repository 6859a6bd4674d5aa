"""Check-out: the other room cards go into the slot, one at a time, until there are no more."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class CheckoutCardsScreen(StepScreen):
    step = Step.CHECKOUT_CARDS
    hero_icon = "key"


load_kv(__file__)
