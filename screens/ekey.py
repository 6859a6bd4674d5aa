"""An e-key on the guest's phone: sent, already there, or not possible (message only)."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class EkeyScreen(StepScreen):
    step = Step.EKEY
    hero_icon = "phone"


load_kv(__file__)
