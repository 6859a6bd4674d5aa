"""What every step's screen does with a View: translate it, show it, and forget it.

A screen holds guest data only while it is the current screen: the app calls ``clear()``
when another screen takes over and on every screen when the ATTRACT view arrives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from kivy.app import App
from kivy.properties import ObjectProperty
from kivy.uix.screenmanager import Screen

from kiosk.journeys.messages import Action, ActionKind, Step, TextInput, View
from screens.widgets.big_button import BigButton
from screens.widgets.step_frame import StepFrame


class StepScreen(Screen):
    """One journey step; its kv rule holds a ``StepFrame`` with ``id: frame``, and optionally a
    ``DetailList`` with ``id: details`` that lists ``detail_keys`` from the view's params
    (``detail_groups`` says otherwise)."""

    step: ClassVar[Step]
    # The step indicator's stage (header.STAGES): -1 hides it, None keeps the one shown.
    stage: ClassVar[int | None] = -1
    hero_icon: ClassVar[str] = ""  # a theme.ICONS pictogram above the title
    hero_tone: ClassVar[str] = "icon"
    call_staff: ClassVar[bool] = True  # the header's "Call staff" button is offered
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
        frame.hero.icon, frame.hero.tone = self.hero(view), self.hero_tone
        frame.choices.clear_widgets()
        frame.choices.disabled = False
        for choice in view.choices:
            label = self.choice_label(choice.label, choice.params)
            button = BigButton(text=tr(label, **choice.params), primary=choice.primary)
            button.disabled = button.unavailable = not choice.enabled
            button.choice_id = choice.id
            button.bind(on_release=self._chosen)
            frame.choices.add_widget(button)
        if "details" in self.ids:
            details = self.ids.details
            details.clear_widgets()
            for keys, params in self.detail_groups(view):
                details.add_lines(self.step.value, keys, params)
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

    def detail_groups(self, view: View) -> Sequence[tuple[Sequence[str], Mapping[str, Any]]]:
        """The detail lines to list: (keys, their params) in order."""
        return ((self.detail_keys, view.params),)

    def hero(self, view: View) -> str:
        """The pictogram above the title for ``view`` (a ``theme.ICONS`` name, or none)."""
        return self.hero_icon

    def choice_label(self, key: str, params: Mapping[str, Any]) -> str:
        """The catalogue key a choice is drawn with (a step may pick a better one)."""
        return key

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
    configured from ``View.input`` (and hidden when a view of the step only offers choices),
    and a ``KioskLabel`` (``id: hint``) that repeats the ``prompt`` param's text when the
    message says something else (what was wrong, on a retry)."""

    def on_kv_post(self, base_widget: Any) -> None:
        # ids are weak references: keep the keyboard alive while it is out of the tree.
        self.keyboard = self.ids.keyboard.__self__
        self.keyboard_place = (
            self.keyboard.parent,
            self.keyboard.parent.children.index(self.keyboard),
        )
        self.keyboard.bind(on_submit=self._submitted)

    def prepare(self, view: View) -> None:
        keyboard = self.keyboard
        parent, index = self.keyboard_place
        if view.input is None:
            if keyboard.parent is not None:
                parent.remove_widget(keyboard)
            return
        if keyboard.parent is None:
            parent.add_widget(keyboard, index=index)
        spec = view.input
        keyboard.configure(spec.kind, spec.max_length, spec.secret, "")

    def render(self, view: View) -> None:
        tr = _translator()
        spec = view.input or TextInput()
        self.keyboard.placeholder = tr(spec.placeholder) if spec.placeholder else ""
        prompt = view.params.get("prompt")
        self.ids.hint.text = tr(prompt, **view.params) if prompt and prompt != view.message else ""

    def wipe(self) -> None:
        self.keyboard.clear()
        self.keyboard.placeholder = ""
        self.ids.hint.text = ""

    def _submitted(self, keyboard: Any, text: str) -> None:
        keyboard.clear()  # the text goes to the journey and nowhere else
        self.post(Action(ActionKind.TEXT, text))


def _translator() -> Any:
    app = App.get_running_app()
    return lambda key, **params: app.tr(key, app.lang, **params)
