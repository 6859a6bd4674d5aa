"""One room type for a walk-in guest: its photo, nightly rate and the stay's total."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.journeys.messages import Step, View
from kiosk.journeys.walk_in import ROOM_DETAILS
from screens.base import StepScreen
from screens.kv import load_kv


class WalkInRoomScreen(StepScreen):
    step = Step.WALK_IN_ROOM
    detail_keys = ROOM_DETAILS
    photo = StringProperty("")  # the room type's photo ("" shows none)

    def render(self, view: View) -> None:
        self.photo = str(view.params.get("photo") or "")

    def wipe(self) -> None:
        self.photo = ""


load_kv(__file__)
