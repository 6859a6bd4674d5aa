"""One of a list: an amenity, a day, or one of the guest's bookings."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class AmenityPickScreen(StepScreen):
    step = Step.AMENITY_PICK


load_kv(__file__)
