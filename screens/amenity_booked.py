"""One amenity booking: when, its state and its PIN code; new ones are printed."""

from __future__ import annotations

from kiosk.journeys.amenity import BOOKING_DETAILS
from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class AmenityBookedScreen(StepScreen):
    step = Step.AMENITY_BOOKED
    hero_icon = "pin"
    detail_keys = BOOKING_DETAILS


load_kv(__file__)
