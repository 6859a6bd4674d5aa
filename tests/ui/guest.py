"""A guest at the kiosk, for UI tests with the real check-in journey behind the app.

The guest waits for each step's screen, then acts on it as a person would: touches its
buttons and keyboard keys (``UiDriver`` touches: real MotionEvents through Kivy's loop)
and holds a QR code to the camera, which here is posting ``Action(QR)`` as the camera's
decoding pipeline does (no camera can run in a test). Every view the app draws is
recorded as the texts on screen, so a test can check what the guest actually saw, even
on screens that pass too quickly to be caught (busy, card progress).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kiosk.journeys.messages import Action, ActionKind, Step, View
from tests.ui.driver import UiDriver

I18N_KEY = re.compile(r"[a-z_]+(\.[a-z_]+)+")
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


@dataclass(frozen=True)
class Drawn:
    """One view as the screen drew it."""

    step: Step
    title: str
    message: str
    details: tuple[str, ...]  # detail lines, hint, progress label, receipt rows
    choices: tuple[str, ...]  # the choice buttons' texts

    @property
    def texts(self) -> tuple[str, ...]:
        return (self.title, self.message, *self.details, *self.choices)


def visible_texts(screen: Any) -> list[str]:
    """Every non-empty label and button text on ``screen`` (keys, bars and all)."""
    from kivy.uix.label import Label

    return [w.text for w in screen.walk(restrict=True) if isinstance(w, Label) and w.text]


def unreadable(texts: list[str] | tuple[str, ...]) -> list[str]:
    """Texts a guest should never see: a raw i18n key or an unfilled placeholder."""
    return [t for t in texts if I18N_KEY.fullmatch(t) or PLACEHOLDER.search(t)]


class Guest:
    def __init__(self, ui: UiDriver) -> None:
        self.ui = ui
        self.app = ui.app
        self.drawn: list[Drawn] = []
        self._answered: View | None = None
        show = self.app.show

        def recording_show(view: View) -> None:
            show(view)
            self.drawn.append(self._drawn(self.app.manager.current_screen))

        self.app.show = recording_show  # the app's consumer calls it for every view

    @staticmethod
    def _drawn(screen: Any) -> Drawn:
        frame = screen.frame
        extra = (
            [w.text for w in screen.ids.details.children[::-1]] if "details" in screen.ids else []
        )
        extra += [screen.ids[name].text for name in ("hint", "rows") if name in screen.ids]
        extra.append(frame.progress.children[0].text)
        return Drawn(
            step=screen.step,
            title=frame.title.text,
            message=frame.message.text,
            details=tuple(text for text in extra if text),
            choices=tuple(b.text for b in frame.choices.children[::-1]),
        )

    def steps(self) -> list[Step]:
        """The steps drawn, consecutive repeats folded."""
        folded: list[Step] = []
        for drawn in self.drawn:
            if not folded or folded[-1] is not drawn.step:
                folded.append(drawn.step)
        return folded

    @property
    def screen(self) -> Any:
        return self.app.manager.current_screen

    async def on(self, step: Step, message: str | None = None, timeout: float = 15) -> Any:
        """Wait for the next view the journey asks on ``step`` (optionally: with the message
        key ``message``); returns its screen once it is laid out."""

        def arrived() -> bool:
            view = self.screen.view
            return (
                view is not None
                and view is not self._answered
                and view.step is step
                and (message is None or view.message == message)
            )

        try:
            await self.ui.until(arrived, timeout)
        except TimeoutError:
            view = self.screen.view
            raise AssertionError(
                f"expected the {step} screen, the kiosk shows {self.app.manager.current}"
                f" ({view.title if view else 'no view'} / {view.message if view else ''})"
            ) from None
        self._answered = self.screen.view
        await self.ui.frames(1)  # laid out: widgets have their window positions
        texts = visible_texts(self.screen)
        assert not unreadable(texts), f"{step}: unreadable texts {unreadable(texts)}"
        return self.screen

    def choice(self, choice_id: str) -> Any:
        buttons = [b for b in self.screen.frame.choices.children if b.choice_id == choice_id]
        assert len(buttons) == 1, f"no button {choice_id!r} on the {self.app.manager.current}"
        return buttons[0]

    async def choose(self, choice_id: str) -> None:
        await self.ui.tap(self.choice(choice_id))

    async def start(self, journey: str) -> None:
        """Choose ``journey`` on the attract screen's menu. Its six buttons reflow into two
        columns over the frames after it shows (seen once on a loaded machine: the tap hit
        the button that moved into place), so the tap waits for two more frames."""
        await self.ui.frames(2)
        await self.choose(journey)

    async def type(self, text: str) -> None:
        """Type ``text`` on the screen's keyboard and press OK."""
        keyboard = self.screen.keyboard
        assert keyboard.parent is not None, "the keyboard is hidden on this view"
        await self.ui.type_text(keyboard, text.upper() + "\n")

    def scan(self, payload: str) -> None:
        """A QR code held to the camera: the decoding pipeline posts what it read."""
        self.app.post(Action(ActionKind.QR, payload))

    async def language(self, name: str) -> None:
        """Tap a language by its own name in the bar along the top of the screen."""
        bar = next(w for w in self.screen.walk(restrict=True) if type(w).__name__ == "LanguageBar")
        await self.ui.tap(self.ui.button(name, root=bar))
