"""Any refusal: the title and message keys say which (``refusal.<code>.*``), choices what next."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class RefusalScreen(StepScreen):
    step = Step.REFUSAL
    hero_icon = "error"
    hero_tone = "danger"


load_kv(__file__)
