"""Issue room cards: dispense -> RF position -> write -> read back and compare -> present.

A card that fails any step goes to the reject bin and the next one is tried, up to
``attempts`` cards per key (DESIGN.md, "Offline and failure policy"). The back-end
learns a card's UID before the card leaves the kiosk, so no working key is ever unknown
to the property. A card that may hold a key (written, or presented and left in the slot)
is erased on the antenna before it drops into the bin; one that cannot be erased is
reported for staff (``unerased``): whoever empties the bin holds a working key.
Device calls block and run in worker threads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from hardware.card_encoder.protocol import CardEncoder, CardEncoderError
from hardware.dispenser.protocol import (
    CardDispenser,
    DispenserEmpty,
    DispenserError,
    DispenserJam,
    RejectBinFull,
    StockLevel,
)
from kiosk.journeys.refusals import Refusal, Refused

log = logging.getLogger(__name__)


class Stage(StrEnum):
    """What the guest sees while a card is prepared (``key_progress.<stage>``)."""

    DISPENSE = "dispense"
    ENCODE = "encode"
    VERIFY = "verify"
    PRESENT = "present"


class CardStockEmpty(Exception):
    """No card left in the stacker."""


class CardIssueFailed(Exception):
    """No card could be made for this key: every attempt failed, or the mechanism is stuck."""


@dataclass(frozen=True)
class IssuedCard:
    uid: str  # hex, as the encoder reads it
    taken: bool  # False: the guest left it; it was captured to the reject bin


class CardIssuer:
    """Makes working cards one at a time; ``rejected`` counts cards sent to the reject bin."""

    def __init__(
        self,
        dispenser: CardDispenser,
        encoder: CardEncoder,
        *,
        attempts: int,
        take_timeout_s: float,
        unerased: Callable[[str], None] = lambda _uid: None,
    ) -> None:
        self._dispenser = dispenser
        self._encoder = encoder
        self._attempts = attempts
        self._take_timeout_s = take_timeout_s
        self._report_unerased = unerased  # staff's notice: the UID of a live card in the bin
        self.rejected = 0
        self.unerased: list[str] = []  # UIDs of cards in the bin that may still open a door

    async def ready(self) -> None:
        """Refuse before a guest pays when no card can come out (stock empty, jam, bin full)."""
        try:
            status = await asyncio.to_thread(self._dispenser.status)
        except DispenserError as exc:
            raise CardIssueFailed(f"dispenser status: {type(exc).__name__}") from exc
        if status.stock is StockLevel.EMPTY:
            raise CardStockEmpty("card stock empty")
        if status.jammed or status.reject_bin_full:
            raise CardIssueFailed("dispenser jammed or reject bin full")

    async def issue(
        self,
        payload: bytes | asyncio.Future[bytes],
        record: Callable[[str], Awaitable[None]],
        progress: Callable[[Stage], Awaitable[None]],
    ) -> IssuedCard:
        """One working card holding ``payload``; ``record(uid)`` runs before it is presented
        (an exception from it captures the card and propagates).

        ``payload`` may still be on its way (a task asking the back-end for it): it is
        awaited once a card is at the RF position, so the feed hides the round trip; if it
        fails, the card is captured and the error propagates.
        """
        for attempt in range(1, self._attempts + 1):
            await progress(Stage.DISPENSE)
            uid = await self._encoded_card(payload, progress)
            if uid is None:
                log.warning("card attempt %d of %d failed: card rejected", attempt, self._attempts)
                continue
            try:
                await record(uid)
            except BaseException:
                await self._reject(keyed=uid)
                raise
            await progress(Stage.PRESENT)
            try:
                await asyncio.to_thread(self._dispenser.present)
            except DispenserError as exc:
                log.warning("presenting the card failed (%s): rejected", type(exc).__name__)
                await self._reject(keyed=uid)
                continue
            taken = await asyncio.to_thread(self._dispenser.wait_taken, self._take_timeout_s)
            if not taken:  # a working key must not lie in the slot for the next person
                await self._reject(keyed=uid)
            return IssuedCard(uid, taken)
        raise CardIssueFailed(f"{self._attempts} cards failed")

    async def _encoded_card(
        self, payload: bytes | asyncio.Future[bytes], progress: Callable[[Stage], Awaitable[None]]
    ) -> str | None:
        """The UID of a card at the RF position that holds ``payload``, or None (rejected)."""
        try:
            await asyncio.to_thread(self._dispenser.move_to_rf)
        except DispenserEmpty as exc:
            raise CardStockEmpty("card stock empty") from exc
        except DispenserJam:
            await self._clear_jam()
            return None
        except DispenserError as exc:
            log.warning("feeding a card failed (%s)", type(exc).__name__)
            await self._reject()
            return None
        try:
            key = payload if isinstance(payload, bytes) else await payload
        except BaseException:
            await self._reject()
            raise
        await progress(Stage.ENCODE)
        try:
            written = await asyncio.to_thread(self._encoder.write_key, key)
        except CardEncoderError as exc:
            log.warning("encoding a card failed (%s)", type(exc).__name__)
            await self._reject(keyed="")  # part of the key may have gone on the card
            return None
        try:
            await progress(Stage.VERIFY)
            # write_key compares what it wrote; a fresh read checks the card as a door would.
            read, holds = await asyncio.to_thread(self._encoder.read_key)
        except CardEncoderError as exc:
            log.warning("reading a written card failed (%s)", type(exc).__name__)
            await self._reject(keyed=written.uid_hex)
            return None
        if holds != key or read.uid != written.uid:
            log.warning("card read back differs from what was written")
            await self._reject(keyed=written.uid_hex)
            return None
        return written.uid_hex

    async def _reject(self, *, keyed: str | None = None) -> None:
        """The card in the channel to the reject bin; a reset when capture is refused.

        ``keyed``: the card may hold a key (its UID, "" if unknown): erased first."""
        if keyed is not None:
            await self._erase(keyed)
        try:
            await asyncio.to_thread(self._dispenser.capture)
        except RejectBinFull as exc:
            raise CardIssueFailed("reject bin full") from exc
        except DispenserError as exc:
            log.warning("capture refused (%s): resetting the dispenser", type(exc).__name__)
            await self._clear_jam()
            return
        self.rejected += 1

    async def _erase(self, uid: str) -> None:
        """Blank the card in the channel, pulling one at the exit back to the antenna; a card
        that cannot be blanked is reported for staff."""
        try:
            status = await asyncio.to_thread(self._dispenser.status)
            if not status.card_in_channel:
                return  # taken after all: nothing goes to the bin
            if status.card_at_exit:
                await asyncio.to_thread(self._dispenser.move_to_rf)
            erased = await asyncio.to_thread(self._encoder.erase)
        except (DispenserError, CardEncoderError) as exc:
            self._unerased(uid, type(exc).__name__)
            return
        if uid and erased.uid_hex != uid:  # another card came onto the antenna
            self._unerased(uid, f"erased card {erased.uid_hex} instead")

    def _unerased(self, uid: str, why: str) -> None:
        log.error(
            "a card that may hold a key goes to the reject bin unerased (%s): card %s",
            why,
            uid or "unknown",
        )
        self.unerased.append(uid)
        self._report_unerased(uid)

    async def _clear_jam(self) -> None:
        try:
            await asyncio.to_thread(self._dispenser.reset)
        except DispenserError as exc:
            raise CardIssueFailed(f"dispenser stuck: {type(exc).__name__}") from exc
        self.rejected += 1


async def capture_stray_card(dispenser: CardDispenser) -> bool:
    """At start-up: a card a stopped kiosk left at the RF position (never presented, maybe
    holding a working key) goes to the reject bin. A card at the exit was presented: its
    payment stands, so it stays for its guest."""
    try:
        status = await asyncio.to_thread(dispenser.status)
        if not status.card_at_rf:
            return False
        await asyncio.to_thread(dispenser.capture)
    except DispenserError as exc:
        log.warning("a card left at the RF position not captured: %s", type(exc).__name__)
        return False
    log.warning("a card left at the RF position by a stop was captured")
    return True


async def require_cards(issuer: CardIssuer) -> None:
    """Before any money is taken or a credential revoked: a card can come out at all, else
    the refusal that tells the guest why."""
    try:
        await issuer.ready()
    except CardStockEmpty:
        raise Refused(Refusal.CARD_STOCK_EMPTY) from None
    except CardIssueFailed:
        raise Refused(Refusal.CARD_FAILED) from None
