"""Typing the booking reference when there is no QR code to scan."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import KeyboardScreen
from screens.kv import load_kv


class TypeReferenceScreen(KeyboardScreen):
    step = Step.TYPE_REFERENCE
    stage = 0


load_kv(__file__)
