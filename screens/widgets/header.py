"""The branded header (logo, hotel name, language bar, large-text switch) and the step
indicator: find booking -> details -> pay -> key."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

STAGES = ("stage.find", "stage.details", "stage.pay", "stage.key")


class Header(BoxLayout):
    """One row on a landscape panel; on a portrait one the language bar gets a row of its
    own, so that at any width from 540 px each language button keeps a finger's size."""

    def on_kv_post(self, _base_widget: object) -> None:
        # "Read aloud" only where the kiosk can speak: elsewhere no button at all.
        speech = self.ids.speech
        if not App.get_running_app().speech_available and speech.parent is not None:
            speech.parent.remove_widget(speech)


class StageIndicator(BoxLayout):
    """The journey's four stages; ``app.stage`` is the current one (-1 hides the indicator,
    ``len(STAGES)`` marks every stage done)."""

    def on_kv_post(self, _base_widget: object) -> None:
        for index, key in enumerate(STAGES):
            self.add_widget(StageMark(index=index, key=key))


class StageMark(BoxLayout):
    """One stage: a numbered disc (a tick once done) and its name."""

    index = NumericProperty(0)
    key = StringProperty("")

    def state(self, current: int) -> str:
        return stage_state(self.index, current)


def stage_state(index: int, current: int) -> str:
    """A stage's look while stage ``current`` is under way: "done", "current" or "todo"."""
    if current > index:
        return "done"
    return "current" if current == index else "todo"
