"""Room assignment when a stay has none: the journey's choices are the free rooms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiosk.journeys.messages import Step
from screens.base import StepScreen
from screens.kv import load_kv


class RoomScreen(StepScreen):
    step = Step.ROOM
    stage = 1
    hero_icon = "room"

    def choice_label(self, key: str, params: Mapping[str, Any]) -> str:
        # A room the back-end knows no floor of reads "Room 205", not "Room 205, floor".
        if key == "room.option" and params.get("floor") in (None, ""):
            return "room.option_no_floor"
        return key


load_kv(__file__)
