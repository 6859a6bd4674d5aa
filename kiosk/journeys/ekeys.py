"""An e-key to the guest's phone on request (``sendAccessLockKey``), where the property's
locks take them: offered on the check-in's done screen and in the key journey.

The key goes to the phone the stay has on record, never to a number typed at the kiosk
(a stranger must not be able to send a room's key to their own phone). A phone that holds
an e-key for the whole stay already gets no second one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from enum import StrEnum

from kiosk.backends.base import DoorCredentials, Stay
from kiosk.journeys.dialog import Dialog, GuestLeft
from kiosk.journeys.messages import ActionKind, Choice, Step, View
from kiosk.journeys.payment import new_reference
from kiosk.journeys.refusals import Refused, backend_call
from kiosk.journeys.settings import JourneySettings

log = logging.getLogger(__name__)

RECEIVER_FALLBACK = "Guest"  # the seed requires a receiver name; a stay may hold none


class EkeyOutcome(StrEnum):
    SENT = "sent"
    ALREADY = "already"  # the phone holds one for the whole stay
    FAILED = "failed"  # refused, unreachable, or no lock that takes e-keys


EKEY_KEYS: tuple[str, ...] = (
    "ekey.offer", "ekey.title", "ekey.finish",
    *(f"ekey.{outcome.value}" for outcome in EkeyOutcome),
)  # fmt: skip


def ekey_offered(
    settings: JourneySettings, credentials: DoorCredentials | None, stays: Sequence[Stay]
) -> bool:
    """Whether a screen offers "send an e-key to my phone"."""
    return settings.ekeys and credentials is not None and any(s.contact_phone for s in stays)


def offer_choice() -> Choice:
    return Choice("ekey", "ekey.offer")


async def ask_done(
    dialog: Dialog,
    view: View,
    finish: Choice,
    credentials: DoorCredentials | None,
    stays: Sequence[Stay],
    settings: JourneySettings,
) -> None:
    """A journey's done ``view`` with ``finish``, and "send a key to my phone" before it where
    the property sends e-keys for ``stays``; the key goes out when the guest asks. The
    guest's business is done: leaving the screen changes nothing."""
    offer = credentials is not None and ekey_offered(settings, credentials, stays)
    view = replace(view, choices=(offer_choice(), finish) if offer else (finish,))
    try:
        action = await dialog.ask(view, ActionKind.CHOOSE)
    except GuestLeft:
        return
    if offer and credentials is not None and action.value == "ekey":
        await send_and_show(dialog, credentials, stays, settings)


async def send_ekey(
    credentials: DoorCredentials, stay: Stay, settings: JourneySettings
) -> EkeyOutcome:
    """One e-key for ``stay`` to its contact phone."""
    receiver = next((g.name for g in stay.guests if g.name), RECEIVER_FALLBACK)
    try:
        sent = await backend_call(
            credentials.send_ekey(stay, receiver, new_reference("ekey")),
            settings.backend_timeout_s,
        )
    except Refused as refused:
        log.warning("e-key not sent: %s", refused.reason.value)
        return EkeyOutcome.FAILED
    return EkeyOutcome.SENT if sent else EkeyOutcome.ALREADY


async def send_and_show(
    dialog: Dialog,
    credentials: DoorCredentials,
    stays: Sequence[Stay],
    settings: JourneySettings,
) -> EkeyOutcome:
    """An e-key for each stay with a phone, and the screen that says how it went (the
    worst outcome of them); the guest leaves from it."""
    await dialog.busy("busy.message")
    outcomes = [await send_ekey(credentials, s, settings) for s in stays if s.contact_phone]
    if not outcomes or EkeyOutcome.FAILED in outcomes:
        outcome = EkeyOutcome.FAILED
    elif EkeyOutcome.SENT in outcomes:
        outcome = EkeyOutcome.SENT
    else:
        outcome = EkeyOutcome.ALREADY
    phone = next((s.contact_phone for s in stays if s.contact_phone), "")
    await dialog.ask_final(
        View(
            Step.EKEY,
            "ekey.title",
            f"ekey.{outcome.value}",
            params={"phone_last4": phone[-4:]},
            choices=(Choice("finish", "ekey.finish", primary=True),),
            timeout_s=settings.done_timeout_s,
        )
    )
    return outcome
