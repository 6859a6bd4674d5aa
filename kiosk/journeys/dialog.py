"""The journey's side of the ``Channel``: show a view, wait for the guest's answer.

Every wait is bounded: a view's own inactivity timer (the UI posts TIMEOUT when it runs
out) plus a grace period after which the journey stops waiting on its own, so a journey
whose UI has gone never hangs. Cancel and timeout end the run (``GuestLeft``). The guest
may switch language on any screen: the dialog keeps the latest choice (``language``) for the
texts the journey composes itself (receipt, directions).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Collection

from kiosk.journeys.messages import Action, ActionKind, Channel, Step, View

CANCELLED_BY_GUEST = "cancelled_by_guest"
TIMED_OUT = "timed_out"


class GuestLeft(Exception):
    """The guest cancelled, or stopped answering; ``outcome`` says which."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


class Dialog:
    """Views out, actions in; ``steps`` lists the screens shown (repeats folded)."""

    def __init__(
        self,
        channel: Channel,
        grace_s: float,
        languages: Collection[str] = (),
        language: str = "en",
    ) -> None:
        self._channel = channel
        self._grace_s = grace_s
        self._languages = frozenset(languages)
        self.language = language  # the guest's latest choice among ``languages``
        self.steps: list[Step] = []

    async def show(self, view: View) -> None:
        if not self.steps or self.steps[-1] is not view.step:
            self.steps.append(view.step)
        # A driver that does not pick the language itself (a scripted guest's screens)
        # shows each view in the journey's.
        await self._channel.views.put(dataclasses.replace(view, language=self.language))

    async def busy(self, message: str) -> None:
        await self.show(View(Step.BUSY, "busy.title", message, timeout_s=None))

    async def ask(self, view: View, *kinds: ActionKind) -> Action:
        """Show ``view`` and wait for an action of ``kinds`` (a choice must be one of the
        view's). Cancel and timeout raise ``GuestLeft``; anything else is ignored."""
        actions = self._channel.actions
        while not actions.empty():  # meant for an earlier screen (a double tap, a late scan)
            self._note_language(actions.get_nowait())
        await self.show(view)
        loop = asyncio.get_running_loop()
        deadline = None if view.timeout_s is None else loop.time() + view.timeout_s + self._grace_s
        choice_ids = {choice.id for choice in view.choices if choice.enabled}
        while True:
            remaining = None if deadline is None else max(deadline - loop.time(), 0)
            try:
                action = await asyncio.wait_for(actions.get(), remaining)
            except TimeoutError:
                action = Action(ActionKind.TIMEOUT)
            self._note_language(action)
            if action.kind is ActionKind.CANCEL:
                raise GuestLeft(CANCELLED_BY_GUEST)
            if action.kind is ActionKind.TIMEOUT:
                raise GuestLeft(TIMED_OUT)
            if action.kind in kinds and (
                action.kind is not ActionKind.CHOOSE or action.value in choice_ids
            ):
                return action

    def choose_language(self, code: str) -> None:
        if code in self._languages:
            self.language = code

    def _note_language(self, action: Action) -> None:
        if action.kind is ActionKind.LANGUAGE:
            self.choose_language(action.value)

    async def ask_final(self, view: View) -> None:
        """A closing screen: leaving it (finish, cancel, timeout) changes nothing."""
        with contextlib.suppress(GuestLeft):
            await self.ask(view, ActionKind.CHOOSE)


def cancel_on(action: Action) -> None:
    """A "cancel" button ends the run like the cancel action does."""
    if action.kind is ActionKind.CHOOSE and action.value == "cancel":
        raise GuestLeft(CANCELLED_BY_GUEST)
