"""Checked in: per room its number, floor, directions and door PIN; then the Wi-Fi.

The journey sends ``rooms`` (one set of values per room) besides the joined single-line
values; each room gets its own lines so a PIN is never shown beside the wrong room.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kiosk.journeys.messages import Step, View
from screens.base import StepScreen
from screens.kv import load_kv

ROOM_KEYS = ("room", "floor", "directions", "door_pin")


class DoneScreen(StepScreen):
    step = Step.DONE
    stage = 4  # every stage done
    hero_icon = "success"

    def detail_groups(self, view: View) -> Sequence[tuple[Sequence[str], Mapping[str, Any]]]:
        rooms = view.params.get("rooms") or [view.params]
        return (*((ROOM_KEYS, room) for room in rooms), (("wifi_ssid",), view.params))


load_kv(__file__)
