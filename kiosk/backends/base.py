"""The kiosk's verbs on a property's back-end, independent of which API serves them.

A journey speaks only this interface; ``pms.py`` (seed 004) and ``openability.py``
(seeds 000 + 001) translate it into API calls. Values are the core's: Decimal money,
aware UTC datetimes, ids as strings (the PMS's ints and open-ability's hex ids alike).
Guest personal data is kept out of ``repr`` so that logging a value never leaks it.

Every mutating verb takes a ``reference``: the kiosk-generated idempotency reference
that travels with the call (a PMS bill remark, open-ability's command ``id``), so that a
replay through the outbox can be recognised and never applied twice (DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, runtime_checkable

from kiosk.qr_payload import BookingCodeRef, PmsOrderRef


class StayState(StrEnum):
    BOOKED = "booked"  # may be checked in (on its day)
    CHECKED_IN = "checked_in"
    CANCELLED = "cancelled"
    CHECKED_OUT = "checked_out"


class IdKind(StrEnum):
    """Identity documents a guest can register with (the PMS's id_type 10-50)."""

    NATIONAL_ID = "national_id"
    OFFICER_ID = "officer_id"
    TRAVEL_PERMIT = "travel_permit"
    PASSPORT = "passport"
    OTHER = "other"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Guest:
    """A registered (or to-be-registered) guest of one stay."""

    guest_id: str | None  # the back-end's id; None for a guest not yet registered
    name: str = field(default="", repr=False)
    phone: str = field(default="", repr=False)
    id_kind: IdKind = IdKind.UNKNOWN
    id_number: str = field(default="", repr=False)

    @property
    def registered(self) -> bool:
        """True when the back-end holds what check-in requires: a name and an ID number."""
        return bool(self.name and self.id_number and self.id_kind is not IdKind.UNKNOWN)


@dataclass(frozen=True)
class Room:
    room_id: str
    name: str  # "1011"
    room_type_id: str
    floor: int | None = None
    building: str | None = None


@dataclass(frozen=True)
class Stay:
    """One room-night range of a reservation (a PMS accom, an open-ability hotel order)."""

    stay_id: str
    room_type_id: str
    room_type_name: str
    starts: datetime
    ends: datetime
    state: StayState
    room: Room | None  # None: no room assigned yet
    guests: tuple[Guest, ...] = ()
    room_is_clean: bool = True  # False when the assigned room is dirty: re-assign or wait
    # What the door PIN needs travels with the stay (no adapter keeps guests between runs).
    reservation_id: str = ""
    pin_lock: bool = False  # the room's lock takes a PIN code
    contact_phone: str = field(default="", repr=False)  # where the back-end sends the PIN
    door_pin: str = field(default="", repr=False)  # a PIN the booking already has


@dataclass(frozen=True)
class Reservation:
    """What the kiosk knows of a booking after looking it up."""

    reservation_id: str
    reference: str  # what the guest recognises: the PMS order_no, the order_number
    holder_name: str = field(repr=False)
    holder_phone: str = field(repr=False)
    stays: tuple[Stay, ...]
    total: Decimal
    paid: Decimal
    amount_due: Decimal
    currency: str  # the property's, ``[backend] currency``: charged, shown and printed


@dataclass(frozen=True)
class Arrivals:
    """What an offline kiosk needs to check guests in: the reservations arriving in a
    window, and the rooms with what occupies them (``busy``: room id, from, until)."""

    reservations: tuple[Reservation, ...]
    rooms: tuple[Room, ...]
    busy: tuple[tuple[str, datetime, datetime], ...]
    dirty: frozenset[str]


@dataclass(frozen=True)
class KeyGrant:
    """What a room key card carries, and for how long."""

    stay_id: str
    payload: bytes  # written verbatim to the card (the PMS's ic_card_string bytes)
    valid_from: datetime
    valid_until: datetime


class Reason(StrEnum):
    """The stable ``BackendError.reason`` values the UI has messages for."""

    UNKNOWN_CODE = "unknown_code"  # no booking for this code (or the order number differs)
    WRONG_CODE_KIND = "wrong_code_kind"  # a code for the other kind of back-end
    CODE_CLAIMED = "code_claimed"  # an open-ability booking code claimed elsewhere
    BACKEND_UNREACHABLE = "backend_unreachable"
    BACKEND_FAULT = "backend_fault"  # bad reply, HTTP error, rejected token: call staff
    INVALID_GUEST = "invalid_guest"  # the guest data cannot be sent as the API requires
    GUESTS_REFUSED = "guests_refused"
    PAYMENT_REFUSED = "payment_refused"
    CHECK_IN_REFUSED = "check_in_refused"
    KEY_REFUSED = "key_refused"
    PIN_REFUSED = "pin_refused"
    NOT_SUPPORTED = "not_supported"  # the back-end's API offers no such operation
    # the PMS's documented refusals (seed 004, 444-447)
    RESERVED_ROOMS_EXIST = "reserved_rooms_exist"
    ROOMS_NOT_CHECKED_OUT = "rooms_not_checked_out"
    UNSETTLED_BILLS = "unsettled_bills"
    OVERPAID = "overpaid"
    # amenity bookings
    SLOT_TAKEN = "slot_taken"  # the amenity's slot was booked or closed meanwhile
    # walk-in
    ROOM_TAKEN = "room_taken"  # the room was sold or blocked meanwhile
    EXTEND_REFUSED = "extend_refused"  # the back-end refused to extend a stay (extend stay)
    CHECK_OUT_REFUSED = "check_out_refused"  # the check-out journey: checkOut or settle refused


class BackendError(Exception):
    """A back-end verb failed; ``reason`` is stable for the UI's messages (see :class:`Reason`)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class ReservationNotFound(BackendError):
    def __init__(self, detail: str = "") -> None:
        super().__init__(Reason.UNKNOWN_CODE, detail)


class BackendUnreachable(BackendError):
    """Transport failure; ``ambiguous`` when a write may have been applied."""

    def __init__(self, detail: str = "", *, ambiguous: bool = False) -> None:
        super().__init__(Reason.BACKEND_UNREACHABLE, detail)
        self.ambiguous = ambiguous


class PropertyBackend(Protocol):
    """The check-in verbs. Mutating verbs go through the outbox seam (``kiosk.outbox``)."""

    async def find_reservation(self, ref: PmsOrderRef | BookingCodeRef) -> Reservation:
        """The reservation a QR payload (or typed reference) names; ReservationNotFound."""
        ...

    async def assignable_rooms(self, stay: Stay) -> list[Room]:
        """Clean, free rooms of the stay's type for its whole range, best first."""
        ...

    async def register_guests(self, stay: Stay, guests: list[Guest], reference: str) -> None:
        """Record the stay's guests (name, ID type and number) as the property requires."""
        ...

    async def record_payment(
        self, reservation_id: str, amount: Decimal, payment_reference: str, reference: str
    ) -> None:
        """Book a payment the terminal approved (``payment_reference``) on the folio."""
        ...

    async def check_in(
        self, reservation: Reservation, rooms: dict[str, Room], reference: str
    ) -> bool:
        """Check the stays in; ``rooms`` maps stay_id -> the room each gets. True when the
        back-end has it now, False when the outbox delivers it later."""
        ...

    async def undo_check_in(self, stays: list[Stay], reference: str) -> None:
        """Revoke the check-in of stays no card came out for (their payment was voided):
        the back-end must not show a guest in a room nobody can open."""
        ...

    async def checked_in_stays(self, stays: list[Stay]) -> list[Stay]:
        """``stays`` (of one reservation, just checked in) as the back-end holds them now: a
        room the kiosk assigned is known in full only once the stay is in it (its floor,
        building, lock). A stay the back-end cannot say more of comes back as given."""
        ...

    async def key_grant(self, stay: Stay) -> KeyGrant:
        """The payload to encode on the stay's room cards."""
        ...

    async def record_key(self, stay: Stay, card_uid: str, reference: str) -> None:
        """Tell the back-end a card with ``card_uid`` was issued for the stay."""
        ...

    async def door_pin(self, stay: Stay, reference: str) -> str | None:
        """A door PIN for the stay where the property uses them, else None."""
        ...


@runtime_checkable
class ArrivalsSource(Protocol):
    """A back-end that can list the reservations arriving in a window (for offline use)."""

    async def arrivals(self, start: datetime, end: datetime) -> Arrivals:
        """Reservations with a stay starting in [start, end), and the property's rooms."""
        ...


# --- extend stay (issue 11, item 2) ----------------------------------------------------------


@dataclass(frozen=True)
class ExtensionOffer:
    """How far an in-house stay may be extended, and at what price a night."""

    max_nights: int  # 0: the room is booked from the stay's next night
    nightly_rate: Decimal


@runtime_checkable
class StayExtensions(Protocol):
    """The verbs of the extend-stay journey, where the back-end's API offers them."""

    async def find_by_card(self, card_uid: str, at: datetime) -> tuple[Reservation, Stay] | None:
        """The in-house stay (and its reservation) a room card with ``card_uid`` was issued
        for, among the stays in house at ``at``; None when the card is on none of them."""
        ...

    async def card_uids(self, stay: Stay) -> frozenset[str]:
        """The UIDs (upper-case hex) of the cards on record for the stay."""
        ...

    async def extension_offer(self, stay: Stay) -> ExtensionOffer:
        """The nights the stay may be extended by (its room free) and its nightly rate."""
        ...

    async def room_free_until(self, stay: Stay, until: datetime) -> bool:
        """Whether the stay's room is free from its end until ``until``."""
        ...

    async def extend_stay(
        self, stay: Stay, until: datetime, amount: Decimal, reference: str
    ) -> bool:
        """Move the stay's end to ``until``, charging ``amount`` on its folio. True when the
        back-end has it now, False when the outbox delivers it later."""
        ...


# --- the key journey (extra or lost key, e-keys on request) ----------------------------------


@dataclass(frozen=True)
class Revoked:
    """What a lost key's revocation took back from a stay; ``pending``: some deletions wait
    in the outbox (the back-end has not applied them yet)."""

    ekeys: int = 0
    pins: int = 0
    pending: bool = False


@runtime_checkable
class DoorCredentials(Protocol):
    """A back-end that keeps a stay's cards, door PINs and e-keys on record (the PMS)."""

    async def recorded_cards(self, stay: Stay) -> list[str]:
        """The UIDs of every card recorded for the stay (upper-case hex)."""
        ...

    async def revoke_credentials(self, stay: Stay, reference: str) -> Revoked:
        """Delete the stay's e-keys and door PINs (a lost key); RF cards cannot be revoked."""
        ...

    async def send_ekey(self, stay: Stay, receiver_name: str, reference: str) -> bool:
        """An e-key for the stay to its contact phone: True when sent now, False when the
        phone holds one for the whole stay already; NOT_SUPPORTED when the room's lock
        takes none."""
        ...


def door_credentials(backend: object) -> DoorCredentials | None:
    """``backend``'s credential verbs, looking through a wrapper that exposes the back-end it
    wraps as ``inner`` (the offline back-end: revoking and sending keys needs the real one)."""
    inner = getattr(backend, "inner", backend)
    return inner if isinstance(inner, DoorCredentials) else None


# --- check-out (the check-out journey) ----------------------------------------------------


@dataclass(frozen=True)
class FolioLine:
    """One line of a check-out folio; ``label`` is a room or item name, never guest data."""

    kind: str  # "nights" (a stay's room charge), "extra", "payment", "refund"
    label: str
    amount: Decimal  # as the folio has it: positive for payments and refunds too
    count: int = 1  # nights of a stay, quantity of an extra


@dataclass(frozen=True)
class CheckoutFolio:
    """What a check-out of ``stays`` leaves to pay (``due``) or to give back (``overpaid``)."""

    stays: tuple[Stay, ...]  # the stays leaving
    lines: tuple[FolioLine, ...]
    total: Decimal
    paid: Decimal
    due: Decimal
    overpaid: Decimal
    # No other stay of the booking stays in the house or is still to come: the folio is
    # settled now (else the leaving rooms are checked out and the folio stays open).
    last_out: bool
    # The kiosk's own sales on the folio (terminal reference, amount): a refund goes back
    # to one of their cards.
    kiosk_sales: tuple[tuple[str, Decimal], ...] = ()


@runtime_checkable
class CheckoutBackend(PropertyBackend, Protocol):
    """The check-out verbs, where the back-end's API offers them (the PMS, seed 004)."""

    async def departure_by_card(self, card_uid: str, now: datetime) -> tuple[Reservation, str]:
        """The booking of the in-house stay a room card (``card_uid``) was issued for, and
        that stay's id; ReservationNotFound when no stay in the house holds the card."""
        ...

    async def checkout_folio(self, reservation: Reservation, stays: list[Stay]) -> CheckoutFolio:
        """The folio as it will be once ``stays`` (in the house) have left."""
        ...

    async def record_refund(
        self, reservation_id: str, amount: Decimal, payment_reference: str, reference: str
    ) -> None:
        """Book money the terminal gave back (``payment_reference``) on the folio."""
        ...

    async def check_out(self, reservation: Reservation, stays: list[Stay], reference: str) -> None:
        """Check ``stays`` out (their rooms to housekeeping); the folio stays open."""
        ...

    async def settle(self, reservation: Reservation, reference: str) -> None:
        """Close the folio of a booking with no stay left in the house; the PMS's 444-447
        refusals come as their ``Reason``."""
        ...


def checkout_verbs(backend: object) -> CheckoutBackend | None:
    """``backend``'s check-out verbs, or None where its API has none. A wrapper that keeps
    its back-end as ``inner`` (the offline fallback) is looked through: check-out needs the
    back-end itself."""
    for candidate in (backend, getattr(backend, "inner", None)):
        if isinstance(candidate, CheckoutBackend):
            return candidate
    return None
