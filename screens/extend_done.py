"""Extend stay: the new check-out time; the card in the guest's hand is updated, and a door
PIN that lasts until the new check-out where the property uses them."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class ExtendDoneScreen(StepScreen):
    step = Step.EXTEND_DONE
    hero_icon = "success"
    detail_keys = ("door_pin",)


load_kv(__file__)
