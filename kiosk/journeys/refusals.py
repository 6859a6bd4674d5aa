"""Why a journey stops, the screen each refusal has, and back-end failures mapped to them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from enum import StrEnum
from typing import Any, TypeVar

from kiosk.backends.base import BackendError, Reason
from kiosk.journeys.messages import Choice, Step, View

log = logging.getLogger(__name__)
T = TypeVar("T")


class Refusal(StrEnum):
    """Why a journey stopped; each has a screen (``refusal.<reason>.title/.message``)."""

    MALFORMED_CODE = "malformed_code"
    UNKNOWN_CODE = "unknown_code"
    SECOND_FACTOR_FAILED = "second_factor_failed"
    SECOND_FACTOR_LOCKED = "second_factor_locked"  # too many wrong answers for the booking
    WRONG_DAY = "wrong_day"
    CANCELLED = "cancelled"
    ALREADY_CHECKED_IN = "already_checked_in"
    NOTHING_ASSIGNABLE = "nothing_assignable"
    INVALID_GUEST = "invalid_guest"
    PAYMENT_DECLINED = "payment_declined"
    PAYMENT_UNRESOLVED = "payment_unresolved"
    CARD_STOCK_EMPTY = "card_stock_empty"
    CARD_FAILED = "card_failed"
    BACKEND_UNREACHABLE = "backend_unreachable"
    BACKEND_FAULT = "backend_fault"
    # a journey for guests staying now (check-out, extend, a key, an amenity)
    NOT_IN_HOUSE = "not_in_house"  # the booking has no room checked in now
    # amenity booking
    AMENITIES_UNAVAILABLE = "amenities_unavailable"  # no residence or no amenities to book
    SLOT_TAKEN = "slot_taken"  # the slot went meanwhile: the guest picks again
    # walk-in
    NO_ROOMS = "no_rooms"  # nothing clean and free that the kiosk may sell
    # a journey that starts from the guest's room card (check-out, extend, a key)
    CARD_UNKNOWN = "card_unknown"  # the card is on no stay in house (or cannot be read)
    # extend stay
    # the room is booked on the next night (extend); sold meanwhile (walk-in: the next one
    # is offered)
    ROOM_TAKEN = "room_taken"
    CARD_NOT_UPDATED = "card_not_updated"  # extended and paid, the card not re-encoded
    # the key journey
    CARD_LIMIT = "card_limit"  # the stay has as many cards as the property allows
    # the check-out journey
    BALANCE_AT_DESK = "balance_at_desk"  # 446: the rooms are out, a balance is left
    REFUND_AT_DESK = "refund_at_desk"  # 447, or no refund at the terminal: the desk refunds

    @property
    def key(self) -> str:
        """The i18n key prefix of its screen; a back-end fault has the generic one."""
        return "refusal.generic" if self is Refusal.BACKEND_FAULT else f"refusal.{self.value}"

    @property
    def retryable(self) -> bool:
        """The guest may scan (or type) another code."""
        return self in (Refusal.MALFORMED_CODE, Refusal.UNKNOWN_CODE)


class Refused(Exception):
    """Ends a run with a refusal; ``params`` fill its message's placeholders."""

    def __init__(self, reason: Refusal, shown: bool = False, **params: Any) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.shown = shown  # the guest already saw it (on a screen that offered choices)
        self.params = params


def refusal_view(refused: Refused, timeout_s: float, *extra: Choice) -> View:
    """The refusal's screen: ``extra`` choices (try again) before "start over"."""
    key = refused.reason.key
    return View(
        Step.REFUSAL,
        f"{key}.title",
        f"{key}.message",
        params={"reason": refused.reason.value, **refused.params},
        choices=(*extra, Choice("finish", "common.start_over", primary=not extra)),
        timeout_s=timeout_s,
    )


_BACKEND_REASONS = {
    Reason.UNKNOWN_CODE: Refusal.UNKNOWN_CODE,
    Reason.WRONG_CODE_KIND: Refusal.UNKNOWN_CODE,
    Reason.CODE_CLAIMED: Refusal.UNKNOWN_CODE,
    Reason.BACKEND_UNREACHABLE: Refusal.BACKEND_UNREACHABLE,
    Reason.INVALID_GUEST: Refusal.INVALID_GUEST,
    Reason.SLOT_TAKEN: Refusal.SLOT_TAKEN,
    Reason.ROOM_TAKEN: Refusal.ROOM_TAKEN,
}


async def backend_call(call: Awaitable[T], timeout_s: float) -> T:
    """A back-end verb, bounded in time; its failure becomes the refusal it means."""
    try:
        return await asyncio.wait_for(call, timeout_s)
    except TimeoutError:
        raise Refused(Refusal.BACKEND_UNREACHABLE) from None
    except BackendError as exc:
        log.warning("back-end refused: %s", exc.reason)  # the detail may quote guest data
        raise Refused(_BACKEND_REASONS.get(exc.reason, Refusal.BACKEND_FAULT)) from None
