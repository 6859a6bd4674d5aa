"""Checked in: room, floor, directions, Wi-Fi and door PIN."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class DoneScreen(StepScreen):
    step = Step.DONE
    detail_keys = ("room", "floor", "directions", "wifi_ssid", "door_pin")


load_kv(__file__)
