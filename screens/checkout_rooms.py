"""Check-out: which of the booking's rooms leave (one, or all of them)."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class CheckoutRoomsScreen(StepScreen):
    step = Step.CHECKOUT_ROOMS
    hero_icon = "room"


load_kv(__file__)
