"""The idle screen: what the kiosk shows between guests; a choice or a scan starts."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class AttractScreen(StepScreen):
    step = Step.ATTRACT


load_kv(__file__)
