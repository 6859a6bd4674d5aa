"""Guest registration, one step per view: the name and the ID number typed on the keyboard,
the ID type chosen with buttons (that view has no input: the keyboard hides). With several
guests a line says whose turn it is (``guest`` of ``guests``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kiosk.journeys.messages import Step, View
from screens.base import KeyboardScreen
from screens.kv import load_kv


class RegisterScreen(KeyboardScreen):
    step = Step.REGISTER
    stage = 1
    detail_keys = ("guest",)

    def detail_groups(self, view: View) -> Sequence[tuple[Sequence[str], Mapping[str, Any]]]:
        return super().detail_groups(view) if view.params.get("guests", 1) > 1 else ()


load_kv(__file__)
