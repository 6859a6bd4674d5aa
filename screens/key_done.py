"""The new card is out: the room, its floor, a new door PIN and where a new e-key went."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class KeyDoneScreen(StepScreen):
    step = Step.KEY_DONE
    hero_icon = "success"
    detail_keys = ("room", "floor", "door_pin", "ekey_phone")


load_kv(__file__)
