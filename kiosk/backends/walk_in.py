"""Selling a room to a guest who walks in (seed 004): what is free tonight, and the booking.

The PMS adapter implements :class:`WalkInDesk`. Rates are the property's, from the
configuration (the seeds carry none): the kiosk offers only room types with a rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from kiosk.backends.base import Room


@dataclass(frozen=True)
class SellableRoom:
    """A clean room free for the whole stay, and the name of its type."""

    room: Room
    type_name: str


class WalkInDesk(Protocol):
    async def sellable_rooms(self, starts: datetime, ends: datetime) -> list[SellableRoom]:
        """Clean rooms free from ``starts`` to ``ends``, in the PMS's order."""
        ...

    async def book_walk_in(
        self, room: Room, starts: datetime, ends: datetime, amount: Decimal, reference: str
    ) -> int:
        """A booking of ``room`` for ``amount``, nothing paid: its order id. Refused as
        ``room_taken`` when another guest (another kiosk, the desk) was faster."""
        ...

    async def release_walk_in(self, order_id: int, reference: str) -> None:
        """Cancel a walk-in booking that was never paid for, so the room is free again."""
        ...
