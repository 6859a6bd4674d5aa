"""Amenity bookings of an in-house guest's residence (seed 000), in the core's values.

The property's amenities (gym, pool, meeting room) are booked per residence: the
open-ability adapter implements :class:`AmenityDesk`. Times are aware UTC datetimes; the
screens show the property's local time. A PIN code is the guest's, so it is kept out of
``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from kiosk.backends.base import Room
from kiosk.qr_payload import BookingCodeRef


@dataclass(frozen=True)
class Amenity:
    amenity_id: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class AmenityDay:
    """One day of an amenity: its bookable window and the periods inside it that are not
    (closed, or booked by someone)."""

    opens: datetime
    closes: datetime
    taken: tuple[tuple[datetime, datetime], ...] = ()

    def free(self, start: datetime, end: datetime) -> bool:
        """Whether ``start``-``end`` lies in the window and overlaps nothing taken."""
        if start < self.opens or end > self.closes:
            return False
        return all(end <= t_start or start >= t_end for t_start, t_end in self.taken)


class BookingState(StrEnum):
    PENDING = "pending"  # waits for staff approval (a meeting room)
    SUCCESS = "success"
    REJECTED = "rejected"
    CANCELED = "canceled"
    UNKNOWN = "unknown"  # a state the seeds do not document: shown, never cancellable

    @classmethod
    def of(cls, value: str) -> BookingState:
        return cls(value) if value in cls._value2member_map_ else cls.UNKNOWN


@dataclass(frozen=True)
class AmenityBooking:
    booking_id: str
    amenity_name: str
    starts: datetime
    ends: datetime
    state: BookingState
    expired: bool = False
    pin_code: str = field(default="", repr=False)

    @property
    def active(self) -> bool:
        """Still ahead (or under way) and not refused or cancelled: it may be cancelled."""
        return not self.expired and self.state in (BookingState.PENDING, BookingState.SUCCESS)


class AmenityDesk(Protocol):
    """What the amenity journey asks of the property's amenity system."""

    async def residence_of(self, room: Room) -> str | None:
        """The residence of an in-house guest's room, or None when it has none."""
        ...

    async def amenities(self, residence_id: str) -> list[Amenity]: ...

    async def amenity_day(self, residence_id: str, amenity_id: str, day: date) -> AmenityDay: ...

    async def book_amenity(
        self, residence_id: str, amenity_id: str, start: datetime, minutes: int, reference: str
    ) -> AmenityBooking:
        """Book the slot (refused as ``slot_taken`` when someone was faster) and return it."""
        ...

    async def amenity_bookings(self, residence_id: str) -> list[AmenityBooking]: ...

    async def cancel_amenity_booking(
        self, residence_id: str, booking_id: str, reference: str
    ) -> None: ...

    async def claim_amenity_code(self, ref: BookingCodeRef) -> AmenityBooking:
        """The booking a scanned amenity code makes (``code_claimed`` if it was used)."""
        ...
