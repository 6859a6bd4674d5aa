"""What every step's screen does with a View: translate it, show it, and forget it.

A screen holds guest data only while it is the current screen: the app calls ``clear()``
when another screen takes over and on every screen when the ATTRACT view arrives.
"""

from __future__ import annotations

from typing import Any, ClassVar

from kivy.app import App
from kivy.properties import ObjectProperty
from kivy.uix.screenmanager import Screen

from kiosk.journeys.messages import Action, ActionKind, Step, TextInput, View
from screens.widgets.big_button import BigButton
from screens.widgets.step_frame import StepFrame


class StepScreen(Screen):
    """One journey step; its kv rule holds a ``StepFrame`` with ``id: frame``, and optionally a
    ``DetailList`` with ``id: details`` that lists ``detail_keys`` from the view's params."""

    step: ClassVar[Step]
    detail_keys: ClassVar[tuple[str, ...]] = ()
    view = ObjectProperty(None, allownone=True)

    @property
    def frame(self) -> StepFrame:
        return self.ids.frame

    def show(self, view: View) -> None:
        self.view = view
        self.prepare(view)
        self.refresh()

    def refresh(self) -> None:
        """Draw the view in the app's current language (again, after a language switch)."""
        view = self.view
        if view is None:
            return
        tr = _translator()
        frame = self.frame
        frame.title.text = tr(view.title, **view.params)
        frame.message.text = tr(view.message, **view.params) if view.message else ""
        frame.progress.set_progress(view.progress)
        frame.choices.clear_widgets()
        frame.choices.disabled = False
        for choice in view.choices:
            button = BigButton(text=tr(choice.label, **choice.params), primary=choice.primary)
            button.choice_id = choice.id
            button.bind(on_release=self._chosen)
            frame.choices.add_widget(button)
        if "details" in self.ids:
            self.ids.details.show(self.step.value, self.detail_keys, view.params)
        self.render(view)

    def clear(self) -> None:
        """Forget the view and every text drawn from it."""
        self.view = None
        frame = self.frame
        frame.title.text = frame.message.text = ""
        frame.progress.set_progress(None)
        frame.choices.clear_widgets()
        if "details" in self.ids:
            self.ids.details.clear_widgets()
        self.wipe()

    def prepare(self, view: View) -> None:
        """Once per new view, before it is drawn (reset inputs, start devices)."""

    def render(self, view: View) -> None:
        """After every drawing of the view (step-specific widgets)."""

    def wipe(self) -> None:
        """Clear step-specific widgets that may hold guest data."""

    def post(self, action: Action) -> None:
        App.get_running_app().post(action)

    def _chosen(self, button: BigButton) -> None:
        # One decision per view: a second tap before the next view arrives is ignored.
        self.frame.choices.disabled = True
        self.post(Action(ActionKind.CHOOSE, button.choice_id))


class KeyboardScreen(StepScreen):
    """A step where the guest types: its kv rule holds an ``OnScreenKeyboard`` (``id: keyboard``)
    configured from ``View.input``."""

    def on_kv_post(self, base_widget: Any) -> None:
        self.ids.keyboard.bind(on_submit=self._submitted)

    def prepare(self, view: View) -> None:
        spec = view.input or TextInput()
        self.ids.keyboard.configure(spec.kind, spec.max_length, spec.secret, "")

    def render(self, view: View) -> None:
        spec = view.input or TextInput()
        self.ids.keyboard.placeholder = _translator()(spec.placeholder) if spec.placeholder else ""

    def wipe(self) -> None:
        self.ids.keyboard.clear()
        self.ids.keyboard.placeholder = ""

    def _submitted(self, keyboard: Any, text: str) -> None:
        keyboard.clear()  # the text goes to the journey and nowhere else
        self.post(Action(ActionKind.TEXT, text))


def _translator() -> Any:
    app = App.get_running_app()
    return lambda key, **params: app.tr(key, app.lang, **params)
