"""Checked in: per room its number, floor, directions and door PIN; then the Wi-Fi.

The journey sends ``rooms`` (one set of values per room) besides the joined single-line
values; each room gets its own lines so a PIN is never shown beside the wrong room.

As the screen opens, the tick pops in with a ripple and the cards follow one by one, all
within about ``UiTiming.success_s`` x 2 (0 shows everything at once). Nothing waits for it:
"Finish" works from the first frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kivy.animation import Animation
from kivy.app import App

from kiosk.journeys.messages import Step, View
from screens.base import StepScreen
from screens.kv import load_kv
from screens.widgets.motion import Motion

ROOM_KEYS = ("room", "floor", "directions", "door_pin")


class DoneScreen(StepScreen):
    step = Step.DONE
    stage = 4  # every stage done
    hero_icon = "success"

    def on_kv_post(self, base_widget: Any) -> None:
        self.motion = Motion(rest=self._settle)

    def detail_groups(self, view: View) -> Sequence[tuple[Sequence[str], Mapping[str, Any]]]:
        rooms = view.params.get("rooms") or [view.params]
        return (*((ROOM_KEYS, room) for room in rooms), (("wifi_ssid",), view.params))

    def on_enter(self) -> None:
        length = App.get_running_app().timing.success_s
        if length <= 0:
            return
        hero = self.frame.hero
        hero.pop = 0.0
        self.motion.play(Animation(pop=1.0, duration=length, t="out_back"), hero)
        ripple = Animation(duration=length * 0.5) + Animation(
            ripple=1.0, duration=length * 1.5, t="out_quad"
        )
        self.motion.play(ripple, hero)
        for n, card in enumerate(reversed(self.ids.details.children)):
            card.opacity = 0.0
            delay = length * (0.6 + 0.2 * n)
            self.motion.play(
                Animation(duration=delay) + Animation(opacity=1.0, duration=length * 0.6), card
            )

    def on_leave(self) -> None:
        self.motion.stop()

    def _settle(self) -> None:
        """Everything where it is drawn without the animation."""
        self.frame.hero.pop, self.frame.hero.ripple = 1.0, 0.0
        for card in self.ids.details.children:
            card.opacity = 1.0


load_kv(__file__)
