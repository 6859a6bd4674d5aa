"""What the card screen draws while a room card is made: the four stages (take a card from
the stacker, write it, check it, present it) as a track, and a card that shows what is
happening: waves while it is written, then gliding towards the dispenser's slot.

Both follow two numbers the screen gives them: ``stage`` (an index into ``CARD_STAGES``,
-1 none) and ``phase`` (0 .. 1, looping while the screen's cue runs; 0 when still).
"""

from __future__ import annotations

import math

from kivy.metrics import dp
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout

from kiosk.journeys.keys import Stage
from screens import theme
from screens.kv import load_kv
from screens.widgets.header import stage_state

CARD_STAGES = tuple(stage.value for stage in Stage)
PRESENT = CARD_STAGES.index(Stage.PRESENT.value)
STAGE_ICONS = {"dispense": "card", "encode": "contactless", "verify": "verified"}
CARD_ASPECT = 85.6 / 54  # an ISO/IEC 7810 ID-1 card
WAVES = 3  # arcs each side of the card being written
WAVE_GAP = dp(26)  # between two of them
# Where a card goes for each [ui] card_slot: the direction from the screen's centre.
SLOT_DIRECTIONS = {"below": (0, -1), "left": (-1, 0), "right": (1, 0)}


class StageTrack(BoxLayout):
    """The four stages side by side, joined by a line; done ones ticked, the current one
    circled by a turning arc."""

    stage = NumericProperty(-1)
    phase = NumericProperty(0.0)
    reached = NumericProperty(0)  # the stages the joining line is drawn done up to

    def on_stage(self, _track: object, stage: int) -> None:
        self.reached = max(0, min(stage, PRESENT))

    def on_kv_post(self, _base_widget: object) -> None:
        for index, name in enumerate(CARD_STAGES):
            mark = CardStageMark(index=index, name=name, icon=STAGE_ICONS.get(name, ""))
            self.bind(stage=mark.setter("stage"), phase=mark.setter("phase"))
            self.add_widget(mark)


class CardStageMark(BoxLayout):
    """One stage: its pictogram in a disc (a tick once done) and its name."""

    index = NumericProperty(0)
    name = StringProperty("")
    icon = StringProperty("")  # "": the arrow towards the slot ([ui] card_slot)
    stage = NumericProperty(-1)
    phase = NumericProperty(0.0)

    def state(self, stage: int) -> str:
        return stage_state(self.index, stage)


class CardScene(FloatLayout):
    """A room card in the middle of the scene: while it is made, waves run out from it on
    both sides; once it is presented, it glides towards ``slot`` (``[ui] card_slot``) and an
    arrow at that edge points on."""

    stage = NumericProperty(-1)
    phase = NumericProperty(0.0)
    slot = StringProperty("below")
    presenting = BooleanProperty(False)
    card_pos = ListProperty([0.0, 0.0])
    card_size = ListProperty([0.0, 0.0])
    card_alpha = NumericProperty(1.0)
    wave_centre = ListProperty([0.0, 0.0])
    wave_radii = ListProperty([0.0] * WAVES)
    wave_alphas = ListProperty([0.0] * WAVES)
    arrow_size = NumericProperty(0.0)
    arrow_center = ListProperty([0.0, 0.0])

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        for name in ("pos", "size", "stage", "phase", "slot"):
            self.bind(**{name: self._place})

    def _place(self, *_: object) -> None:
        gap, nod = WAVE_GAP, dp(12)  # nod: how far the arrow moves towards the slot
        presenting = self.presenting = self.stage == PRESENT
        dx, dy = SLOT_DIRECTIONS[self.slot]
        # The arrow keeps the edge on the slot's side; the card has the rest of the scene.
        arrow = self.arrow_size = min(theme.ICON_SIZE * 2.2, self.height * 0.3, self.width * 0.2)
        zone = arrow + 2 * nod
        area_w, area_h = self.width - abs(dx) * zone, self.height - abs(dy) * zone
        cx, cy = self.center_x - dx * zone / 2, self.center_y - dy * zone / 2
        width = min(dp(460), (area_w / 2 - WAVES * gap) / 0.62, area_h * 0.75 * CARD_ASPECT)
        width = max(width, 0.0)
        height = width / CARD_ASPECT
        # A wave is born at the card's edge, runs out one gap per loop and fades away; the
        # loop closes on itself (the last wave leaves as a new one appears).
        self.wave_centre = [cx, cy]
        self.wave_radii = [width * 0.62 + (i + self.phase) * gap for i in range(WAVES)]
        self.wave_alphas = [
            0.0 if presenting else min(p, 1.0) * (1 - p / WAVES)
            for p in (i + self.phase for i in range(WAVES))
        ]
        # The arrow nods towards the slot once a loop, never past the scene's edge.
        bob = nod * (1 - math.cos(2 * math.pi * self.phase)) / 2 if presenting else 0.0
        reach = (self.width / 2 - arrow / 2 - nod + bob, self.height / 2 - arrow / 2 - nod + bob)
        self.arrow_center = [self.center_x + dx * reach[0], self.center_y + dy * reach[1]]
        # Presented: the card eases towards the arrow and fades as it gets there.
        room = abs(dx) * (area_w - width) / 2 + abs(dy) * (area_h - height) / 2
        travel = room * (1 - (1 - self.phase) ** 3) if presenting else 0.0
        self.card_alpha = 1 - max(0.0, self.phase - 0.75) * 4 if presenting else 1.0
        self.card_size = [width, height]
        self.card_pos = [cx + dx * travel - width / 2, cy + dy * travel - height / 2]


load_kv(__file__)
