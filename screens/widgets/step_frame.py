"""What every step's screen shares: the top bar, title, message, a body and the choices.

A screen's kv file puts a ``StepFrame`` in the screen and its step-specific widgets inside
it; those land in the frame's body, between the message and the choices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kivy.app import App
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from screens.widgets.progress_bar import StepProgress
from screens.widgets.text import KioskLabel, TitleLabel


class TopBar(BoxLayout):
    """Language bar and the large-text toggle (left free: the operator corner)."""


class ChoiceBar(BoxLayout):
    """The view's choices as big buttons, primary first."""


class DetailList(BoxLayout):
    """One line per step value the screen knows (``keys``), each from ``<step>.<key>``."""

    def add_lines(self, step: str, keys: Sequence[str], params: Mapping[str, Any]) -> None:
        """The lines of ``keys`` that ``params`` has a value for, below the ones shown."""
        app = App.get_running_app()
        for key in keys:
            if params.get(key) not in (None, ""):
                self.add_widget(KioskLabel(text=app.tr(f"{step}.{key}", app.lang, **params)))


class StepFrame(BoxLayout):
    def __init__(self, **kwargs: Any) -> None:
        self._ready = False
        super().__init__(**kwargs)
        self.top_bar = TopBar()
        self.progress = StepProgress()
        self.title = TitleLabel()
        self.message = KioskLabel()
        self.body = BoxLayout(orientation="vertical")
        self.choices = ChoiceBar()
        for part in (
            self.top_bar,
            self.progress,
            self.title,
            self.message,
            self.body,
            self.choices,
        ):
            super().add_widget(part)
        self._ready = True

    def add_widget(self, widget: Widget, *args: Any, **kwargs: Any) -> None:
        # Children given in a screen's kv rule go into the body.
        if self._ready:
            self.body.add_widget(widget, *args, **kwargs)
        else:
            super().add_widget(widget, *args, **kwargs)
