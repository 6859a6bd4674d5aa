"""The second factor for unsigned payloads: surname, or the phone number's last digits."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import KeyboardScreen
from screens.kv import load_kv


class IdentityScreen(KeyboardScreen):
    step = Step.IDENTITY
    stage = 0


load_kv(__file__)
