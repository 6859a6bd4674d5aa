"""Room assignment when a stay has none: the journey's choices are the free rooms."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class RoomScreen(StepScreen):
    step = Step.ROOM


load_kv(__file__)
