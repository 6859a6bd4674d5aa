"""What every step's screen shares: the branded header, the step indicator, an optional
pictogram, title, message, a body and the choices at the bottom edge.

A screen's kv file puts a ``StepFrame`` in the screen and its step-specific widgets inside
it; those land in the frame's body, between the message and the choices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from screens.widgets.cards import DetailCard
from screens.widgets.header import Header, StageIndicator
from screens.widgets.icon import HeroIcon
from screens.widgets.progress_bar import StepProgress
from screens.widgets.text import KioskLabel, TitleLabel

# The icon of each detail a screen lists (theme.ICONS names).
DETAIL_ICONS = {
    "guest_name": "person",
    "guest": "person",
    "arrival": "arrival",
    "departure": "departure",
    "nights": "nights",
    "rooms": "room",
    "room": "room",
    "guests": "guests",
    "amount_due": "payment",
    "floor": "floor",
    "directions": "directions",
    "door_pin": "pin",
    "wifi_ssid": "wifi",
    "starts": "arrival",
    "ends": "departure",
    "pin_code": "pin",
    "room_type": "room",
    "nightly": "payment",
}
# Details that are an amount of money: label on the left, the amount right-aligned.
MONEY_KEYS = frozenset({"amount_due"})


class ChoiceBar(GridLayout):
    """The view's choices as big buttons, always at the bottom edge of the screen (in
    thumb's reach), in the journey's order (the primary one first)."""


class DetailList(GridLayout):
    """One card per step value the screen knows (``keys``), each from ``<step>.<key>``."""

    def add_lines(self, step: str, keys: Sequence[str], params: Mapping[str, Any]) -> None:
        """The cards of ``keys`` that ``params`` has a value for, after the ones shown."""
        app = App.get_running_app()
        for key in keys:
            if params.get(key) in (None, ""):
                continue
            card = DetailCard(
                icon=DETAIL_ICONS.get(key, "check"),
                text=app.tr(f"{step}.{key}", app.lang, **params),
            )
            if key in MONEY_KEYS:
                card.label = app.tr(f"{step}.{key}_label", app.lang)
                amount = app.catalogue.format_value(params[key], app.lang)
                card.value = f"{amount} {params.get('currency', '')}".strip()
            self.add_widget(card)


class FrameContent(BoxLayout):
    """Everything below the header, inside the screen's margin."""


class StepFrame(BoxLayout):
    backdrop = BooleanProperty(True)  # False: the screen draws its own background (a photo)

    def __init__(self, **kwargs: Any) -> None:
        self._ready = False
        super().__init__(**kwargs)
        self.header = Header()
        self.content = FrameContent()
        self.stages = StageIndicator()
        self.progress = StepProgress()
        self.hero = HeroIcon()
        self.title = TitleLabel()
        self.message = KioskLabel()
        self.body = BoxLayout(orientation="vertical")
        self.choices = ChoiceBar()
        super().add_widget(self.header)
        super().add_widget(self.content)
        for part in (
            self.stages,
            self.progress,
            self.hero,
            self.title,
            self.message,
            self.body,
            self.choices,
        ):
            self.content.add_widget(part)
        self._ready = True
        app = App.get_running_app()
        app.bind(low_reach=self._place_header, landscape=self._place_header)
        self._place_header()

    def _place_header(self, *_args: Any) -> None:
        """Low reach on a portrait panel: the header and its controls (language, large
        text, call staff) go to the bottom edge, in reach from a wheelchair."""
        app = App.get_running_app()
        at_bottom = app.low_reach and not app.landscape
        super().remove_widget(self.header)
        super().add_widget(self.header, index=0 if at_bottom else len(self.children))

    def add_widget(self, widget: Widget, *args: Any, **kwargs: Any) -> None:
        # Children given in a screen's kv rule go into the body.
        if self._ready:
            self.body.add_widget(widget, *args, **kwargs)
        else:
            super().add_widget(widget, *args, **kwargs)
