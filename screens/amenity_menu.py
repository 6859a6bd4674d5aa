"""An in-house guest's amenity options: book, see one's bookings, claim a code."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class AmenityMenuScreen(StepScreen):
    step = Step.AMENITY_MENU
    hero_icon = "guests"


load_kv(__file__)
