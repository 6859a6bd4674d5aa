"""Dispense, encode, verify, present: the message says which, card n of N below it."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class KeyProgressScreen(StepScreen):
    step = Step.KEY_PROGRESS
    detail_keys = ("card",)


load_kv(__file__)
