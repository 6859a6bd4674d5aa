"""The open-ability adapter (seeds 000 + 001): the kiosk's verbs as open-ability commands.

A QR carries a residence and a booking code. The code is claimed with
``create_code_booking_info`` (through the outbox), ``get_booking_info`` gives the
booking (its PIN code), and the guest's stay is the hotel order of that residence.
Choices the seeds leave open:

- Claim idempotency: the claim's reference (its command ``id``) is derived from the
  kiosk id and a hash of residence + code, so the same kiosk always claims a code
  with the same id. A repeat within one run is answered by the outbox from the first
  reply. If a claim's reply was lost (ambiguous) and the back-end then refuses the
  code as claimed, the booking is the residence's newest one created since that
  attempt. A code claimed anywhere else stays refused (``code_claimed``): it must not
  open another guest's booking.
- Which order: the residence's orders come from ``get_order_list`` (the seeds have no
  filter, so it is paged through); the one whose range covers now, else the next to
  start, else the latest. One order is one stay; its ``order_id`` is the stay id.
- Room: the residence (``room_id`` = residence_id, ``name`` = residence_no).
- Money: open-ability keeps no folio, so totals and the amount due are ``Decimal(0)``.
- Guests: the seeds add guests only when an order is created, so ``register_guests``
  accepts guests already on the order and refuses anything else (``not_supported``)
  rather than hiding ID numbers in the order's free-text remark.
- Keys: the card payload is composed here in the PMS's format; the room id is
  ``residence_no`` as an int when it is all digits (the PMS's room ids are ints, lock
  firmware compares numbers), else the text. There is no card registry: ``record_key``
  sends nothing. The door PIN is the booking's ``pin_code``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import socket
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from kiosk.api import ApiError, OpenAbilityError
from kiosk.api.openability import OpenAbilityClient
from kiosk.api.openability_types import (
    BookingInfo,
    BookingRef,
    BookingTimeListRequest,
    CodeBookingRequest,
    CreateBookingRequest,
    CreatedBooking,
    Order,
    OrderListRequest,
    OrderRef,
    OrderState,
    ResidenceRef,
    UpdateOrderRequest,
)
from kiosk.api.openability_types import Guest as OAGuest
from kiosk.backends.amenities import Amenity, AmenityBooking, AmenityDay
from kiosk.backends.amenities import BookingState as AmenityState
from kiosk.backends.api_errors import mapped
from kiosk.backends.base import (
    BackendError,
    BackendUnreachable,
    Guest,
    IdKind,
    KeyGrant,
    Reason,
    Reservation,
    ReservationNotFound,
    Room,
    Stay,
    StayState,
)
from kiosk.backends.key_payload import composed_grant
from kiosk.outbox import Mutation, Outbox, Outcome, Queued, outcome_of
from kiosk.qr_payload import BookingCodeRef, PmsOrderRef

ORDER_PAGE_SIZE = 100
MAX_ORDER_PAGES = 100
CLAIM_CLOCK_SKEW = timedelta(minutes=5)  # between the kiosk's clock and the back-end's
CLAIMED_CODES = {409, "409"}  # the refusal of an already-claimed code (the simulator's)
ZERO = Decimal("0")

_STATES = {
    OrderState.CHECK_IN: StayState.BOOKED,
    OrderState.CHECKED_IN: StayState.CHECKED_IN,
    OrderState.CHECKED_OUT: StayState.CHECKED_OUT,
}


class OpenAbilityBackend:
    """:class:`~kiosk.backends.base.PropertyBackend` over open-ability (seeds 000 + 001)."""

    def __init__(
        self,
        client: OpenAbilityClient,
        outbox: Outbox,
        *,
        currency: str,
        kiosk_id: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._client = client
        self._outbox = outbox
        self._kiosk_id = kiosk_id or socket.gethostname()
        self._currency = currency
        self._clock = clock or (lambda: datetime.now(UTC))
        self._unanswered_claims: dict[str, datetime] = {}  # reference -> first attempt

    async def _write(self, operation: str, request: BaseModel, reference: str) -> bool:
        """A write: True when applied now, False when the outbox queued it."""
        mutation = Mutation.of("openability", operation, request, reference, now=self._clock())
        try:
            await self._outbox.send(mutation)
        except Queued:
            return False
        return True

    async def _ask(self, operation: str, request: BaseModel, reference: str) -> Any:
        """A write whose answer is needed now (never deferred): its reply."""
        mutation = Mutation.of(
            "openability", operation, request, reference, now=self._clock(), deferrable=False
        )
        try:
            return await self._outbox.send(mutation)
        except Queued:
            raise BackendUnreachable(f"{operation} is in flight elsewhere") from None

    # --- find -----------------------------------------------------------------------------

    async def find_reservation(self, ref: PmsOrderRef | BookingCodeRef) -> Reservation:
        if not isinstance(ref, BookingCodeRef):
            raise BackendError(Reason.WRONG_CODE_KIND, "a PMS order code at an open-ability kiosk")
        with mapped(Reason.BACKEND_FAULT):
            booking_id = await self._claim(ref)
            booking = await self._client.get_booking_info(
                BookingRef(residence_id=ref.residence_id, booking_id=booking_id)
            )
            order = await self._order_of(ref.residence_id)
        stay = dataclasses.replace(
            self._stay(order), pin_lock=bool(booking.pin_code), door_pin=booking.pin_code
        )
        holder = order.guests[0] if order.guests else None
        return Reservation(
            reservation_id=order.order_id,
            reference=order.order_number,
            holder_name=holder.guest_name if holder else "",
            holder_phone=holder.phone if holder else "",
            stays=(stay,),
            total=ZERO,
            paid=ZERO,
            amount_due=ZERO,
            currency=self._currency,
        )

    def claim_reference(self, ref: BookingCodeRef) -> str:
        """The command id of this kiosk's claim of ``ref``: stable, and no code in the clear."""
        digest = hashlib.sha256(f"{ref.residence_id}\n{ref.booking_code}".encode()).hexdigest()
        return f"claim-{self._kiosk_id}-{digest[:24]}"

    async def _claim(self, ref: BookingCodeRef) -> str:
        reference = self.claim_reference(ref)
        request = CodeBookingRequest(residence_id=ref.residence_id, booking_code=ref.booking_code)
        attempt = self._clock()
        try:
            created: CreatedBooking = await self._ask(
                "create_code_booking_info", request, reference
            )
        except OpenAbilityError as exc:
            first_attempt = self._unanswered_claims.get(reference)
            if exc.code not in CLAIMED_CODES:
                raise ReservationNotFound("the booking code is not known") from exc
            if first_attempt is None:
                raise BackendError(Reason.CODE_CLAIMED, "the code was claimed before") from exc
            return await self._booking_claimed_since(ref.residence_id, first_attempt)
        except ApiError as exc:
            if outcome_of(exc) is Outcome.AMBIGUOUS:  # the claim may have gone through
                self._unanswered_claims.setdefault(reference, attempt)
            raise
        self._unanswered_claims.pop(reference, None)
        return created.booking_id

    async def _booking_claimed_since(self, residence_id: str, since: datetime) -> str:
        """Our claim went through though its reply was lost: the booking it made."""
        bookings = await self._client.get_booking_list(ResidenceRef(residence_id=residence_id))
        made = [
            b
            for b in bookings
            if b.created_time is not None and b.created_time >= since - CLAIM_CLOCK_SKEW
        ]
        if not made:
            raise BackendError(Reason.CODE_CLAIMED, "no booking of this kiosk's claim")
        return max(made, key=lambda b: b.created_time or since).booking_id

    async def _order_of(self, residence_id: str) -> Order:
        orders = [o for o in await self._all_orders() if o.residence_id == residence_id]
        if not orders:
            raise ReservationNotFound("the residence has no hotel order")
        now = self._clock()
        current = [o for o in orders if o.start_time <= now < o.finish_time]
        upcoming = [o for o in orders if o.start_time > now]
        if current:
            return min(current, key=lambda o: o.start_time)
        if upcoming:
            return min(upcoming, key=lambda o: o.start_time)
        return max(orders, key=lambda o: o.finish_time)

    async def _all_orders(self) -> list[Order]:
        orders: list[Order] = []
        for page_index in range(1, MAX_ORDER_PAGES + 1):
            page = await self._client.get_order_list(
                OrderListRequest(page_size=ORDER_PAGE_SIZE, page_index=page_index)
            )
            orders.extend(page)
            if len(page) < ORDER_PAGE_SIZE:
                return orders
        raise BackendError(Reason.BACKEND_FAULT, "get_order_list: too many orders to search")

    def _stay(self, order: Order) -> Stay:
        state = _STATES.get(order.order_state)
        if state is None:
            raise BackendError(Reason.BACKEND_FAULT, "an undocumented order_state")
        return Stay(
            stay_id=order.order_id,
            room_type_id=order.room_type_id,
            room_type_name=order.room_type_name,
            starts=order.start_time,
            ends=order.finish_time,
            state=state,
            room=Room(
                room_id=order.residence_id,
                name=order.residence_no,
                room_type_id=order.room_type_id,
            ),
            guests=tuple(_guest(g) for g in order.guests),
        )

    # --- rooms, guests, money -------------------------------------------------------------

    async def assignable_rooms(self, stay: Stay) -> list[Room]:
        """An order is always on its residence: there is nothing else to assign."""
        return [stay.room] if stay.room is not None else []

    async def register_guests(self, stay: Stay, guests: list[Guest], reference: str) -> None:
        known = {g.guest_id: g for g in stay.guests}
        if any(g.guest_id not in known or known[g.guest_id] != g for g in guests):
            raise BackendError(Reason.NOT_SUPPORTED, "open-ability cannot change an order's guests")

    async def record_payment(
        self, reservation_id: str, amount: Decimal, payment_reference: str, reference: str
    ) -> None:
        raise BackendError(Reason.NOT_SUPPORTED, "open-ability keeps no folio to pay into")

    # --- check-in and keys ----------------------------------------------------------------

    async def check_in(
        self, reservation: Reservation, rooms: dict[str, Room], reference: str
    ) -> bool:
        delivered = True
        for stay in reservation.stays:
            room = rooms.get(stay.stay_id)
            if room is None or stay.room is None or room.room_id != stay.room.room_id:
                raise BackendError(Reason.NOT_SUPPORTED, "an order stays on its residence")
        with mapped(Reason.CHECK_IN_REFUSED):
            for stay in reservation.stays:
                order = await self._client.get_order_info(OrderRef(order_id=stay.stay_id))
                if order.order_state is OrderState.CHECKED_IN:
                    continue  # a replay: already done
                if order.order_state is not OrderState.CHECK_IN:
                    raise BackendError(Reason.CHECK_IN_REFUSED, "the order is not awaiting arrival")
                request = UpdateOrderRequest(
                    order_id=stay.stay_id, order_state=OrderState.CHECKED_IN
                )
                step = reference if len(reservation.stays) == 1 else f"{reference}:{stay.stay_id}"
                delivered &= await self._write("update_order_info", request, step)
        return delivered

    async def undo_check_in(self, stays: list[Stay], reference: str) -> None:
        # Seed 001's order_state only moves forward (check_in -> checked_in -> checked_out).
        raise BackendError(Reason.NOT_SUPPORTED, "an open-ability check-in cannot be revoked")

    async def checked_in_stays(self, stays: list[Stay]) -> list[Stay]:
        """An order is on its residence from the start: nothing more to learn."""
        return stays

    async def key_grant(self, stay: Stay) -> KeyGrant:
        name = stay.room.name if stay.room else ""  # the residence_no
        if not name:
            raise BackendError(Reason.KEY_REFUSED, "the stay has no residence number")
        return composed_grant(stay, name)

    async def record_key(self, stay: Stay, card_uid: str, reference: str) -> None:
        """Open-ability keeps no card records: nothing to send."""

    async def door_pin(self, stay: Stay, reference: str) -> str | None:
        return stay.door_pin or None

    # --- amenity bookings (seed 000): AmenityDesk -----------------------------------------

    async def residence_of(self, room: Room) -> str | None:
        """An open-ability stay's room is its residence; a PMS room is the residence of the
        same number with an order under way now."""
        with mapped(Reason.BACKEND_FAULT):
            orders = await self._all_orders()
        if any(o.residence_id == room.room_id for o in orders):
            return room.room_id
        now = self._clock()
        staying = [o for o in orders if o.residence_no == room.name and now < o.finish_time]
        return min(staying, key=lambda o: o.start_time).residence_id if staying else None

    async def amenities(self, residence_id: str) -> list[Amenity]:
        with mapped(Reason.BACKEND_FAULT):
            found = await self._client.get_booking_amenity_list(
                ResidenceRef(residence_id=residence_id)
            )
        return [Amenity(a.amenity_id, a.amenity_name, a.amenity_description) for a in found]

    async def amenity_day(self, residence_id: str, amenity_id: str, day: date) -> AmenityDay:
        request = BookingTimeListRequest(residence_id=residence_id, amenity_id=amenity_id, date=day)
        with mapped(Reason.BACKEND_FAULT):
            times = await self._client.get_booking_time_list(request)
        opens, closes = times.allowed_booking_time.on(day)
        return AmenityDay(opens, closes, tuple(t.on(day) for t in times.disallowed_booking_time))

    async def book_amenity(
        self, residence_id: str, amenity_id: str, start: datetime, minutes: int, reference: str
    ) -> AmenityBooking:
        request = CreateBookingRequest(
            residence_id=residence_id, amenity_id=amenity_id, start_time=start, duration=minutes
        )
        with mapped(Reason.SLOT_TAKEN):
            created: CreatedBooking = await self._ask("create_booking_info", request, reference)
        return await self._amenity_booking(residence_id, created.booking_id)

    async def amenity_bookings(self, residence_id: str) -> list[AmenityBooking]:
        with mapped(Reason.BACKEND_FAULT):
            found = await self._client.get_booking_list(ResidenceRef(residence_id=residence_id))
        return [_amenity_booking(b.booking_id, b) for b in found]

    async def cancel_amenity_booking(
        self, residence_id: str, booking_id: str, reference: str
    ) -> None:
        request = BookingRef(residence_id=residence_id, booking_id=booking_id)
        with mapped(Reason.BACKEND_FAULT):
            await self._write("delete_booking_info", request, reference)

    async def claim_amenity_code(self, ref: BookingCodeRef) -> AmenityBooking:
        with mapped(Reason.UNKNOWN_CODE):
            booking_id = await self._claim(ref)
        return await self._amenity_booking(ref.residence_id, booking_id)

    async def _amenity_booking(self, residence_id: str, booking_id: str) -> AmenityBooking:
        with mapped(Reason.BACKEND_FAULT):
            info = await self._client.get_booking_info(
                BookingRef(residence_id=residence_id, booking_id=booking_id)
            )
        return _amenity_booking(booking_id, info)


def _amenity_booking(booking_id: str, info: BookingInfo) -> AmenityBooking:
    return AmenityBooking(
        booking_id=booking_id,
        amenity_name=info.amenity_name,
        starts=info.start_time,
        ends=info.finish_time,
        state=AmenityState.of(info.state.value),
        expired=info.is_expired,
        pin_code=info.pin_code,
    )


def _guest(guest: OAGuest) -> Guest:
    if guest.id_card:
        kind, number = IdKind.NATIONAL_ID, guest.id_card
    elif guest.passport:
        kind, number = IdKind.PASSPORT, guest.passport
    else:
        kind, number = IdKind.UNKNOWN, ""
    return Guest(
        guest_id=guest.guest_id,
        name=guest.guest_name,
        phone=guest.phone,
        id_kind=kind,
        id_number=number,
    )
