"""Taken out of service by staff or by a fault: no guest can start here."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class OutOfServiceScreen(StepScreen):
    step = Step.OUT_OF_SERVICE
    hero_icon = "staff"
    # The screen already sends guests to the front desk, and the out-of-order kiosk has no
    # service behind it to raise a call.
    call_staff = False


load_kv(__file__)
