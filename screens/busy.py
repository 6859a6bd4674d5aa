"""A back-end or device step in progress; its message says which."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class BusyScreen(StepScreen):
    step = Step.BUSY
    stage = None  # looking up or checking in: the stage it happens in
    hero_icon = "wait"


load_kv(__file__)
