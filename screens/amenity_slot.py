"""The day's slots of an amenity; those taken or closed are greyed out."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class AmenitySlotScreen(StepScreen):
    step = Step.AMENITY_SLOT


load_kv(__file__)
