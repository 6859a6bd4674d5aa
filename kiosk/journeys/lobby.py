"""The attract screen as the kiosk's front door: a short menu of the guest journeys.

Check-in comes first, and a booking code scanned on the attract screen goes straight into
it. Every other journey the property offers (check-out, extend, a key, amenities, a room
for tonight) is one more button; a journey is anything with a ``menu_choice`` and a
``run_guest``. The lobby holds no guest data: each journey's run owns its guest's.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from kiosk.i18n import DEFAULT_LANG
from kiosk.journeys.dialog import Dialog, GuestLeft
from kiosk.journeys.messages import ActionKind, Channel, Choice, Step, View
from kiosk.journeys.result import JourneyResult

log = logging.getLogger(__name__)

ATTRACT_KEYS = ("attract.title", "attract.message")


class GuestJourney(Protocol):
    """One journey the attract screen offers."""

    @property
    def name(self) -> str:
        """``JourneyResult.journey``: "checkin", "checkout", "extend", ..."""
        ...

    @property
    def menu_choice(self) -> Choice:
        """Its button on the attract screen; the choice's id picks the journey."""
        ...

    async def run_guest(self, dialog: Dialog, qr: str | None = None) -> JourneyResult:
        """One guest, from the tap on its button (or a code scanned on the attract screen:
        ``qr``, check-in only) to the end, including every refusal screen."""
        ...


@dataclass(frozen=True)
class Lobby:
    """The journeys on offer, check-in first; ``run`` serves one guest."""

    journeys: Sequence[GuestJourney]
    languages: Sequence[str]
    grace_s: float  # how long past a view's own timeout the dialog waits (Dialog)

    def __post_init__(self) -> None:
        names = [journey.menu_choice.id for journey in self.journeys]
        if not names or len(set(names)) != len(names):
            raise ValueError(f"the lobby needs journeys with distinct menu choices: {names}")

    def attract_view(self) -> View:
        return View(
            Step.ATTRACT,
            "attract.title",
            "attract.message",
            choices=tuple(journey.menu_choice for journey in self.journeys),
            timeout_s=None,
        )

    async def run(self, channel: Channel) -> JourneyResult:
        """Wait on the attract screen for a tap or a scan, then run the journey chosen."""
        dialog = Dialog(channel, self.grace_s, self.languages, DEFAULT_LANG)
        try:
            action = await dialog.ask(self.attract_view(), ActionKind.CHOOSE, ActionKind.QR)
        except GuestLeft as left:  # staff took the kiosk out of service on the attract screen
            return JourneyResult(left.outcome, tuple(dialog.steps), dialog.language, journey="")
        if action.kind is ActionKind.QR:
            return await self.journeys[0].run_guest(dialog, action.value)
        journey = next(j for j in self.journeys if j.menu_choice.id == action.value)
        log.info("guest chose %s", journey.name)
        return await journey.run_guest(dialog)
