"""The booking for the guest to confirm: dates, rooms, guests, amount due."""

from __future__ import annotations

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class SummaryScreen(StepScreen):
    step = Step.SUMMARY
    stage = 1
    detail_keys = ("guest_name", "arrival", "departure", "nights", "rooms", "guests", "amount_due")


load_kv(__file__)
