"""Guest registration, one typed field per view (name, ID number)."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import KeyboardScreen
from screens.kv import load_kv


class RegisterScreen(KeyboardScreen):
    step = Step.REGISTER


load_kv(__file__)
