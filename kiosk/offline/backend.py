"""The back-end as the journey sees it, online or not: falls back on the arrivals cache.

Each read is tried on the back-end first; when it is unreachable (or answers 5xx) the
read is answered from the cache and, for ``retry_online_after_s``, further reads go
straight to the cache, so a guest does not wait out a timeout at every step. Writes go
through the inner adapter as always: the durable outbox queues what cannot be sent.

What may happen offline is the property's policy (``[offline]``): a balance due only
when the payment terminal itself is online (or never), rooms assigned only from the
cached free and clean rooms (or not at all). A booking that is not in the cache, or
that the policy refuses, is refused as "cannot reach the hotel's system".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from kiosk.backends.base import (
    Arrivals,
    ArrivalsSource,
    BackendUnreachable,
    Guest,
    KeyGrant,
    PropertyBackend,
    Reservation,
    ReservationNotFound,
    Room,
    Stay,
)
from kiosk.backends.key_payload import composed_grant
from kiosk.offline.cache import ArrivalsCache
from kiosk.qr_payload import BookingCodeRef, PmsOrderRef

log = logging.getLogger("kiosk.offline")
T = TypeVar("T")


class OfflinePolicy(BaseModel):
    """``[offline]``: what the kiosk may do while the back-end is unreachable."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="check guests in from the prefetched arrivals")
    balance_due: Literal["never", "terminal_online"] = Field(
        "terminal_online",
        description='a booking with a balance due: "never" offline (prepaid only), or only '
        "while the payment terminal itself is online",
    )
    assign_rooms: bool = Field(
        True, description="assign a room from the cached free and clean rooms; false: refuse"
    )
    prefetch_interval_s: float = Field(
        900.0,
        ge=30,
        le=86_400,
        description="how often the arrivals from yesterday to tomorrow are read",
    )
    retry_online_after_s: float = Field(
        30.0, gt=0, le=600, description="after a failure, reads use the cache this long"
    )


class OfflineBackend:
    """A :class:`PropertyBackend` (and arrivals source) over ``inner`` with the cache."""

    def __init__(
        self,
        inner: PropertyBackend,
        cache: ArrivalsCache,
        policy: OfflinePolicy,
        terminal_online: Callable[[], bool],
        *,
        taken_rooms: Callable[[], set[str]] = set,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self._cache = cache
        self._policy = policy
        self._terminal_online = terminal_online
        self._taken_rooms = taken_rooms  # given in check-ins still in the outbox
        self._clock = clock
        self._offline_until = 0.0

    @property
    def offline(self) -> bool:
        """Whether the back-end was unreachable lately (the operator's "offline")."""
        return self._clock() < self._offline_until

    async def _read(self, online: Callable[[], Awaitable[T]], cached: Callable[[], T]) -> T:
        if not self.offline:
            try:
                return await online()
            except BackendUnreachable:
                log.warning("back-end unreachable: answering from the arrivals cache")
                self._offline_until = self._clock() + self._policy.retry_online_after_s
        return cached()

    # --- reads ---------------------------------------------------------------------------

    async def find_reservation(self, ref: PmsOrderRef | BookingCodeRef) -> Reservation:
        return await self._read(lambda: self.inner.find_reservation(ref), lambda: self._cached(ref))

    def _cached(self, ref: PmsOrderRef | BookingCodeRef) -> Reservation:
        if not isinstance(ref, PmsOrderRef):
            raise BackendUnreachable("offline: a booking code needs the back-end to be claimed")
        reservation = self._cache.reservation(str(ref.order_id))
        if reservation is None:
            raise BackendUnreachable("offline: the booking is not among the prefetched arrivals")
        if ref.order_no is not None and reservation.reference != ref.order_no:
            raise ReservationNotFound("the order number does not match the order")
        if reservation.amount_due > Decimal("0") and not self._may_take_payment():
            raise BackendUnreachable("offline: a balance is due and the policy refuses it")
        return reservation

    def _may_take_payment(self) -> bool:
        return self._policy.balance_due == "terminal_online" and self._terminal_online()

    async def assignable_rooms(self, stay: Stay) -> list[Room]:
        rooms = await self._read(
            lambda: self.inner.assignable_rooms(stay), lambda: self._free_rooms(stay)
        )
        # The back-end (and a prefetch) cannot know the rooms of check-ins still queued.
        taken = self._taken_rooms()
        return [room for room in rooms if room.room_id not in taken]

    def _free_rooms(self, stay: Stay) -> list[Room]:
        if not self._policy.assign_rooms:
            raise BackendUnreachable("offline: the policy assigns no room")
        return self._cache.free_rooms(stay)

    async def checked_in_stays(self, stays: list[Stay]) -> list[Stay]:
        return await self._read(lambda: self.inner.checked_in_stays(stays), lambda: stays)

    async def key_grant(self, stay: Stay) -> KeyGrant:
        return await self._read(lambda: self.inner.key_grant(stay), lambda: _composed(stay))

    async def door_pin(self, stay: Stay, reference: str) -> str | None:
        return await self._read(lambda: self.inner.door_pin(stay, reference), lambda: None)

    async def arrivals(self, start: datetime, end: datetime) -> Arrivals:
        if not isinstance(self.inner, ArrivalsSource):
            raise BackendUnreachable("this back-end lists no arrivals")
        return await self.inner.arrivals(start, end)

    # --- writes: the outbox queues what cannot be sent ------------------------------------

    async def register_guests(self, stay: Stay, guests: list[Guest], reference: str) -> None:
        await self.inner.register_guests(stay, guests, reference)

    async def record_payment(
        self, reservation_id: str, amount: Decimal, payment_reference: str, reference: str
    ) -> None:
        await self.inner.record_payment(reservation_id, amount, payment_reference, reference)

    async def check_in(
        self, reservation: Reservation, rooms: dict[str, Room], reference: str
    ) -> bool:
        delivered = await self.inner.check_in(reservation, rooms, reference)
        # Online too: until the next prefetch the cache must not offer these rooms again.
        self._cache.checked_in(reservation, rooms)
        return delivered

    async def undo_check_in(self, stays: list[Stay], reference: str) -> None:
        await self.inner.undo_check_in(stays, reference)

    async def record_key(self, stay: Stay, card_uid: str, reference: str) -> None:
        await self.inner.record_key(stay, card_uid, reference)


def _composed(stay: Stay) -> KeyGrant:
    """The key payload in ``generateRoomCard``'s format, made here (DESIGN.md)."""
    if stay.room is None:
        raise BackendUnreachable("offline: the stay has no room to make a key for")
    return composed_grant(stay, stay.room.room_id)
