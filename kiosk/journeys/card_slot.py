"""The card slot open while a screen waits: a guest in the house may push their room card in
instead of answering the screen (check-out, extend stay, an extra key).

The dispenser takes a card in through its exit (``CardDispenser.take_in``, in short slices
so that the slot closes as soon as the screen is answered); once in, the card is on the
encoder's antenna for its UID to be read.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from hardware.dispenser.protocol import CardDispenser, DispenserError
from kiosk.journeys.dialog import Dialog
from kiosk.journeys.messages import Action, ActionKind, View
from kiosk.journeys.refusals import Refusal, Refused

log = logging.getLogger(__name__)

TAKE_IN_SLICE_S = 0.5  # the slot is open this long at a time while the screen waits


@dataclass(frozen=True)
class SlotAnswer:
    """What the guest did: ``action`` None when a card came in first (it is on the antenna
    now); ``took``: a card came in (also beside a cancel, to be given back)."""

    took: bool
    action: Action | None


def _is_cancel(action: Action) -> bool:
    return action.kind is ActionKind.CHOOSE and action.value == "cancel"


async def card_or_answer(
    dialog: Dialog,
    dispenser: CardDispenser,
    view: View,
    *kinds: ActionKind,
    needs_card: bool = False,
    slice_s: float = TAKE_IN_SLICE_S,
) -> SlotAnswer:
    """Show ``view`` with the slot open until a card comes in or the guest answers. A card
    and a tap at once: the card, unless the tap was cancel. A slot out of order refuses
    with ``card_failed`` where only a card will do (``needs_card``); elsewhere the screen's
    other ways (a QR code) still work. Cancel and timeout raise ``GuestLeft``."""
    stop = asyncio.Event()

    async def take_in() -> bool:
        while not stop.is_set():
            if await asyncio.to_thread(dispenser.take_in, slice_s):
                return True
        return False

    card = asyncio.ensure_future(take_in())
    answer = asyncio.ensure_future(dialog.ask(view, *kinds))
    took = False
    try:
        await asyncio.wait((card, answer), return_when=asyncio.FIRST_COMPLETED)
        if card.done() and card.exception() is not None and not answer.done():
            log.warning("the card slot failed: %s", type(card.exception()).__name__)
            if needs_card:
                raise Refused(Refusal.CARD_FAILED)
            return SlotAnswer(False, await answer)
    finally:
        stop.set()
        if not answer.done():
            answer.cancel()
            await asyncio.wait((answer,))
        try:
            took = await card
        except DispenserError:
            took = False
    if answer.cancelled():  # the card came first
        return SlotAnswer(True, None)
    action = answer.result()
    if took and not _is_cancel(action):
        return SlotAnswer(True, None)
    return SlotAnswer(took, action)


async def give_back(dispenser: CardDispenser, take_timeout_s: float) -> bool:
    """The card in the channel back to the guest: presented, and captured if they leave it
    (it is their key: staff hand it back). False when it was not taken."""
    try:
        await asyncio.to_thread(dispenser.present)
        if await asyncio.to_thread(dispenser.wait_taken, take_timeout_s):
            return True
        await asyncio.to_thread(dispenser.capture)
    except DispenserError as exc:
        log.error("the guest's card not given back: %s", type(exc).__name__)
    return False
