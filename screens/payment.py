"""Payment: present a card on the terminal; the journey sends progress and, if declined, choices."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class PaymentScreen(StepScreen):
    step = Step.PAYMENT
    stage = 2
    hero_icon = "contactless"


load_kv(__file__)
