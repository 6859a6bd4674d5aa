"""A lost key: what the kiosk will revoke and why the lost card still opens the door."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class KeyLostScreen(StepScreen):
    step = Step.KEY_LOST
    hero_icon = "key"
    hero_tone = "danger"


load_kv(__file__)
