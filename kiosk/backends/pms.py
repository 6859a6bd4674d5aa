"""The PMS adapter (seed 004): the kiosk's verbs as PMS operations.

Reads go straight to :class:`PmsClient`; every write is a :class:`Mutation` sent through
the outbox. Choices the seed leaves open:

- An order's stays come from ``getAccomDetail``; a stay needs its ``accom_id`` (documented,
  though the seed's example lacks it), so a reply without one is a back-end fault.
- A stay's room is ``room_id`` (0 or absent: none yet). Floor and building are the
  PMS's ``room_location`` ids: the seed has no floor number, so ``floor_id`` stands in.
- Amount due is ``bill_summary.need_pay_amount``; without a bill summary it is
  ``getBillSummary``'s order amount less what the cashier took, never below zero.
- Rooms to assign come from ``getRoomStatus`` for the stay's type and range: neither
  dirty, nor occupied, nor due to be vacated today; in the PMS's own order.
- ``generateRoomCard`` reads the stay's key payload and changes nothing: a read, never
  through the outbox.
- A write the outbox queued (the PMS unreachable, or its reply lost) counts as done for
  the journey: the outbox delivers it later, reconciled first, in the journey's order.
- Check-in reads the stays' states first: stays already checked in are a replay and
  are left out; the rest go to ``checkIn``, which assigns the rooms and is the judge of
  the day and the room (``getCheckInAccom`` would hide stays that have no room yet).
- Door PINs need the stay's lock and order, which only ``getAccomDetail`` shows: they
  travel in the ``Stay``. A room the kiosk assigns has no floor or lock in any reply
  before the stay is in it, so ``checked_in_stays`` reads them again after check-in.
- Extend stay: a card's stay is found among the stays in house now (the room calendar,
  then each order, then each stay's cards); the nightly rate is the stay's room amount
  over its nights (no rate table in the seed); ``extendCheckIn`` goes through the outbox.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from kiosk.api import ApiError, PmsError
from kiosk.api.pms import PmsClient
from kiosk.api.pms_types import (
    AccessKey,
    Accom,
    AccomAvailabilityRequest,
    AccomDetail,
    AccomDetailRequest,
    AccomEndTime,
    AccomListRequest,
    AccomRef,
    AccomStatus,
    AccomType,
    AddAccomCardRequest,
    AllRoomListRequest,
    Bill,
    BillListRequest,
    BillListType,
    BillStatus,
    BillSummaryRequest,
    BillType,
    CancelBookRequest,
    CashierPayment,
    CashierRequest,
    CheckInRequest,
    CheckInRoom,
    CheckoutAmountRequest,
    CheckoutFeeType,
    CheckoutListRequest,
    CheckOutMode,
    CheckOutRequest,
    CreatedOrder,
    CreateOrderRequest,
    DeleteAccessKeyRequest,
    DeletePasswordRequest,
    ExtendCheckInRequest,
    IdType,
    LockType,
    NewAccom,
    OccupancyRequest,
    OrderRef,
    PhoneContact,
    RoomAvailabilityRequest,
    RoomCheckoutFee,
    RoomStatusRequest,
    SendAccessKeyRequest,
    SendOfflinePasswordRequest,
    SettleRequest,
    StayExtension,
    Tenant,
    TenantEdit,
    UpdateAccomTenantRequest,
    YesNo,
)
from kiosk.backends.api_errors import backend_error, mapped
from kiosk.backends.base import (
    Arrivals,
    BackendError,
    BackendUnreachable,
    CheckoutFolio,
    ExtensionOffer,
    FolioLine,
    Guest,
    IdKind,
    KeyGrant,
    Reason,
    Reservation,
    ReservationNotFound,
    Revoked,
    Room,
    Stay,
    StayState,
)
from kiosk.backends.key_payload import composed_grant
from kiosk.backends.walk_in import SellableRoom
from kiosk.outbox import Mutation, Outbox, Queued
from kiosk.qr_payload import BookingCodeRef, PmsOrderRef

PAYMENT_NAME = "Kiosk payment"
REFERENCE_TAG = "kiosk-ref:"  # marks the kiosk's reference inside a cashier bill's remark
BILL_PAGE_SIZE = 100
WALK_IN_BOOKER = "Kiosk walk-in"  # the order's name: the guest registers on the stay itself
REFUND_NAME = "Kiosk refund"
NO_FEE = Decimal("0.00")
# How long before now a stay still in the house may have begun (``_stay_holding``).
IN_HOUSE_LOOKBACK = timedelta(days=30)
CARD_SEARCH_CONCURRENCY = 8  # PMS reads in flight at once while a card's stay is searched
T = TypeVar("T")
MAX_BILL_PAGES = 50
_A_DAY = timedelta(days=1)

_STATES = {
    AccomStatus.BOOKED: StayState.BOOKED,
    AccomStatus.CANCELLED: StayState.CANCELLED,
    AccomStatus.CHECKED_IN: StayState.CHECKED_IN,
    AccomStatus.CHECKED_OUT: StayState.CHECKED_OUT,
}
_ID_KINDS = {
    IdType.ID_CARD: IdKind.NATIONAL_ID,
    IdType.OFFICER_CARD: IdKind.OFFICER_ID,
    IdType.TRAVEL_PERMIT: IdKind.TRAVEL_PERMIT,
    IdType.PASSPORT: IdKind.PASSPORT,
    IdType.OTHER: IdKind.OTHER,
}
_ID_TYPES = {kind: id_type for id_type, kind in _ID_KINDS.items()} | {
    IdKind.UNKNOWN: IdType.UNKNOWN
}


class PmsBackend:
    """:class:`~kiosk.backends.base.PropertyBackend` over a PMS (seed 004)."""

    def __init__(
        self,
        client: PmsClient,
        outbox: Outbox,
        *,
        currency: str,
        pms_id: int,
        country_code: str,
    ) -> None:
        self._client = client
        self._pms_id = pms_id
        self._outbox = outbox
        self._currency = currency
        self._country_code = country_code  # guests' phones are stored without one

    async def _send(self, operation: str, request: BaseModel, reference: str) -> bool:
        """Send a write: True when applied now, False when the outbox queued it."""
        try:
            await self._outbox.send(Mutation.of("pms", operation, request, reference))
        except Queued:
            return False
        return True

    # --- find -----------------------------------------------------------------------------

    async def find_reservation(self, ref: PmsOrderRef | BookingCodeRef) -> Reservation:
        if not isinstance(ref, PmsOrderRef):
            raise BackendError(Reason.WRONG_CODE_KIND, "an open-ability code at a PMS kiosk")
        with mapped(Reason.BACKEND_FAULT):
            try:
                detail = await self._client.get_accom_detail(
                    AccomDetailRequest(order_id=ref.order_id)
                )
            except PmsError as exc:
                # The order id is the only input: a refusal means "no such order".
                raise ReservationNotFound("the PMS knows no such order") from exc
        if ref.order_no is not None and detail.order_no != ref.order_no:
            raise ReservationNotFound("the order number does not match the order")
        with mapped(Reason.BACKEND_FAULT):
            dirty, amount_due = await asyncio.gather(  # independent reads: one round trip
                self._dirty_rooms(detail.accom_list), self._amount_due(ref.order_id, detail)
            )
        stays = tuple(
            self._stay(accom, dirty, ref.order_id, detail.phone) for accom in detail.accom_list
        )
        return Reservation(
            reservation_id=str(ref.order_id),
            reference=detail.order_no,
            holder_name=detail.name,
            holder_phone=detail.phone,
            stays=stays,
            total=detail.total_amount,
            paid=detail.total_payed_amount,
            amount_due=amount_due,
            currency=self._currency,
        )

    def _stay(self, accom: Accom, dirty: set[int], order_id: int, order_phone: str) -> Stay:
        if accom.accom_id is None:
            raise BackendError(Reason.BACKEND_FAULT, "getAccomDetail: a stay without accom_id")
        state = _STATES.get(accom.accom_status)
        if state is None:
            raise BackendError(
                Reason.BACKEND_FAULT, f"undocumented accom_status {accom.accom_status}"
            )
        return Stay(
            stay_id=str(accom.accom_id),
            room_type_id=str(accom.room_type_id),
            room_type_name=accom.room_type_name,
            starts=accom.checkin_start_time,
            ends=accom.checkin_end_time,
            state=state,
            room=_room(accom),
            guests=tuple(_guest(t) for t in accom.tenant_list),
            room_is_clean=accom.room_id not in dirty,
            reservation_id=str(order_id),
            pin_lock=_pin_lock(accom),
            contact_phone=next((t.phone for t in accom.tenant_list if t.phone), order_phone),
        )

    async def _dirty_rooms(self, accoms: Iterable[Accom]) -> set[int]:
        """Dirty rooms among those assigned to stays still to check in (one call per range,
        all at once)."""
        ranges = {
            (a.room_type_id, a.checkin_start_time, a.checkin_end_time)
            for a in accoms
            if a.room_id and a.accom_status is AccomStatus.BOOKED
        }
        occupancies = await asyncio.gather(
            *(
                self._client.list_occupied(
                    OccupancyRequest(room_type_id=room_type_id, start_date=starts, end_date=ends)
                )
                for room_type_id, starts, ends in sorted(ranges)
            )
        )
        return {room_id for occupancy in occupancies for room_id in occupancy.dirty_room_ids}

    async def _amount_due(self, order_id: int, detail: AccomDetail) -> Decimal:
        if detail.bill_summary is not None:
            return max(Decimal("0"), detail.bill_summary.need_pay_amount)
        summary = await self._client.get_bill_summary(BillSummaryRequest(order_id=order_id))
        return max(Decimal("0"), summary.order_amount - (summary.cash_amount or Decimal("0")))

    # --- offline ----------------------------------------------------------------------------

    async def arrivals(self, start: datetime, end: datetime) -> Arrivals:
        """Orders with a stay still to check in starting in [start, end) (from the room
        calendar: a stay with no room yet is not on it), each looked up in full, and every
        room of the property with the stays that occupy it."""
        with mapped(Reason.BACKEND_FAULT):
            calendar, all_rooms = await asyncio.gather(
                self._client.get_accom_list(
                    AccomListRequest(pms_id=self._pms_id, start_date=start, end_date=end)
                ),
                self._client.get_all_room_list(AllRoomListRequest(pms_id=self._pms_id)),
            )
        stays = [(line, stay) for line in calendar for stay in line.order_list]
        order_ids = sorted(
            {
                stay.order_id
                for _, stay in stays
                if stay.order_id
                and stay.accom_status is AccomStatus.BOOKED
                and start <= stay.checkin_start_time < end
            }
        )
        reservations = []
        for order_id in order_ids:  # one at a time: a prefetch must not crowd out guests
            reservations.append(await self.find_reservation(PmsOrderRef(order_id)))
        return Arrivals(
            reservations=tuple(reservations),
            rooms=tuple(
                Room(str(room.room_id), room.room_name, str(kind.room_type_id))
                for kind in all_rooms.room_types
                for room in kind.rooms
            ),
            busy=tuple(
                (str(line.room_id), stay.checkin_start_time, stay.checkin_end_time)
                for line, stay in stays
                if stay.accom_status in (AccomStatus.BOOKED, AccomStatus.CHECKED_IN)
            ),
            dirty=frozenset(
                str(room.room_id)
                for kind in all_rooms.room_types
                for room in kind.rooms
                if room.is_dirty
            ),
        )

    # --- rooms ----------------------------------------------------------------------------

    async def assignable_rooms(self, stay: Stay) -> list[Room]:
        with mapped(Reason.BACKEND_FAULT):
            states = await self._client.get_room_status(
                RoomStatusRequest(
                    accom_id=int(stay.stay_id),
                    room_type_id=int(stay.room_type_id),
                    start_date=stay.starts,
                    end_date=stay.ends,
                )
            )
        return [
            Room(room_id=str(s.room_id), name=s.room_name, room_type_id=stay.room_type_id)
            for s in states
            if not (s.is_dirty or s.is_occupied or s.is_pre_checkout)
        ]

    # --- guests and money -----------------------------------------------------------------

    async def register_guests(self, stay: Stay, guests: list[Guest], reference: str) -> None:
        try:
            request = UpdateAccomTenantRequest(
                accom_id=int(stay.stay_id), tenant_list=[_tenant_edit(g) for g in guests]
            )
        except ValidationError as exc:  # its text hides the input: no guest data in it
            raise BackendError(Reason.INVALID_GUEST, str(exc.error_count())) from None
        with mapped(Reason.GUESTS_REFUSED):
            await self._send("updateAccomTenant", request, reference)

    async def record_payment(
        self, reservation_id: str, amount: Decimal, payment_reference: str, reference: str
    ) -> None:
        if amount <= 0:
            raise ValueError("a payment is a positive amount")
        order_id = int(reservation_id)
        with mapped(Reason.PAYMENT_REFUSED):
            bill = CashierPayment(
                bill_type=BillType.PAYMENT,
                name=PAYMENT_NAME,
                amount=amount,
                remark=f"{payment_reference} {REFERENCE_TAG}{reference}",
            )
            await self._send("cashier", CashierRequest(order_id=order_id, bills=[bill]), reference)

    # --- check-in and keys ----------------------------------------------------------------

    async def check_in(
        self, reservation: Reservation, rooms: dict[str, Room], reference: str
    ) -> bool:
        order_id = int(reservation.reservation_id)
        with mapped(Reason.CHECK_IN_REFUSED):
            try:
                detail = await self._client.get_accom_detail(AccomDetailRequest(order_id=order_id))
            except ApiError as exc:
                if not isinstance(backend_error(exc, Reason.CHECK_IN_REFUSED), BackendUnreachable):
                    raise
                detail = None  # offline: the outbox reconciles the write before it is sent
            states = {
                str(a.accom_id): a.accom_status for a in (detail.accom_list if detail else [])
            }
            if detail is None:
                states = {sid: AccomStatus.BOOKED for sid in rooms}
            pending = {
                sid: room
                for sid, room in rooms.items()
                if states.get(sid) is not AccomStatus.CHECKED_IN  # checked in: a replay
            }
            if any(states.get(sid) is not AccomStatus.BOOKED for sid in pending):
                raise BackendError(Reason.CHECK_IN_REFUSED, "a stay is not awaiting arrival")
            if pending:
                request = CheckInRequest(
                    order_id=order_id,
                    checkin_rooms=[
                        CheckInRoom(accom_id=int(sid), room_id=int(room.room_id))
                        for sid, room in pending.items()
                    ],
                )
                return await self._send("checkIn", request, reference)
        return True

    async def checked_in_stays(self, stays: list[Stay]) -> list[Stay]:
        if not stays:
            return stays
        order_id = int(stays[0].reservation_id)
        with mapped(Reason.BACKEND_FAULT):
            detail = await self._client.get_accom_detail(AccomDetailRequest(order_id=order_id))
        accoms = {str(a.accom_id): a for a in detail.accom_list}
        known = []
        for stay in stays:
            accom = accoms.get(stay.stay_id)
            room = _room(accom) if accom is not None else None
            if room is None or stay.room is None or room.room_id != stay.room.room_id:
                known.append(stay)  # not in its room yet (a check-in the outbox still holds)
                continue
            known.append(dataclasses.replace(stay, room=room, pin_lock=_pin_lock(accom)))
        return known

    async def key_grant(self, stay: Stay) -> KeyGrant:
        if stay.room is not None and stay.stay_id in self._queued_check_ins():
            # The PMS refuses the payload of a stay not checked in yet: made here, alike.
            return composed_grant(stay, stay.room.room_id)
        with mapped(Reason.KEY_REFUSED):
            card = await self._client.generate_room_card(AccomRef(accom_id=int(stay.stay_id)))
        try:
            payload = card.card_bytes
        except ValueError:
            raise BackendError(Reason.BACKEND_FAULT, "ic_card_string is not hex") from None
        return KeyGrant(stay.stay_id, payload, valid_from=stay.starts, valid_until=stay.ends)

    def _queued_check_ins(self) -> set[str]:
        """Stays whose check-in waits in the outbox."""
        return {
            str(item["accom_id"])
            for request in self._outbox.undelivered("checkIn")
            for item in request.get("checkin_rooms", [])
        }

    async def undo_check_in(self, stays: list[Stay], reference: str) -> None:
        # A check-in still waiting in the outbox never reached the PMS: it is withdrawn
        # (with the records of cards made for it, and the registration written with it)
        # rather than replayed and then revoked.
        if await self._outbox.withdraw(("checkIn",)):
            await self._outbox.withdraw(("addAccomCard",))
            await self._outbox.withdraw(("updateAccomTenant",))
            return
        # cancelAccomStatus takes a checked-in stay (70) back to booked (40).
        with mapped(Reason.CHECK_IN_REFUSED):
            for stay in stays:
                step = reference if len(stays) == 1 else f"{reference}:{stay.stay_id}"
                await self._send("cancelAccomStatus", AccomRef(accom_id=int(stay.stay_id)), step)

    async def record_key(self, stay: Stay, card_uid: str, reference: str) -> None:
        accom_id = int(stay.stay_id)
        with mapped(Reason.KEY_REFUSED):
            await self._send(
                "addAccomCard", AddAccomCardRequest(accom_id=accom_id, card_uid=card_uid), reference
            )

    async def door_pin(self, stay: Stay, reference: str) -> str | None:
        if not stay.pin_lock or not stay.reservation_id:
            return None
        order_id = int(stay.reservation_id)
        with mapped(Reason.PIN_REFUSED):
            pin = await self._pin_of(order_id, stay)
            if pin is None:
                phones = [PhoneContact(country_code=self._country_code, phone=stay.contact_phone)]
                request = SendOfflinePasswordRequest(
                    accom_id=int(stay.stay_id),
                    start_time=stay.starts,
                    end_time=stay.ends,
                    phone_list=phones if stay.contact_phone else [],
                )
                await self._send("sendOfflinePassword", request, reference)
                pin = await self._pin_of(order_id, stay)
        if pin is None:
            raise BackendError(Reason.PIN_REFUSED, "the PMS made no password for the stay")
        return pin

    async def _pin_of(self, order_id: int, stay: Stay) -> str | None:
        """The newest password of the stay valid for its whole range, if any."""
        passwords = [
            p
            for entry in await self._client.get_accom_all_lock_password(OrderRef(order_id=order_id))
            if str(entry.accom_id) == stay.stay_id
            for p in entry.password_list
            if p.start_date <= stay.starts and p.end_date >= stay.ends
        ]
        if not passwords:
            return None
        return max(passwords, key=lambda p: p.pwd_id).keyboard_pwd

    # --- walk-in (WalkInDesk) ---------------------------------------------------------------

    async def sellable_rooms(self, starts: datetime, ends: datetime) -> list[SellableRoom]:
        with mapped(Reason.BACKEND_FAULT):
            listing = await self._client.get_all_room_list(AllRoomListRequest(pms_id=self._pms_id))
            clean = [
                (room, room_type.name)
                for room_type in listing.room_types
                for room in room_type.rooms
                if room.is_dirty is not YesNo.YES
            ]
            free = await asyncio.gather(
                *(
                    self._client.check_room_availability(
                        RoomAvailabilityRequest(
                            room_id=room.room_id, start_date=starts, end_date=ends
                        )
                    )
                    for room, _name in clean
                )
            )
        return [
            SellableRoom(Room(str(room.room_id), room.room_name, str(room.room_type_id)), type_name)
            for (room, type_name), availability in zip(clean, free, strict=True)
            if availability.is_available is YesNo.YES
        ]

    async def book_walk_in(
        self, room: Room, starts: datetime, ends: datetime, amount: Decimal, reference: str
    ) -> int:
        request = CreateOrderRequest(
            pms_id=self._pms_id,
            name=WALK_IN_BOOKER,
            remark=f"{REFERENCE_TAG}{reference}",
            room_list=[
                NewAccom(
                    room_id=int(room.room_id),
                    accom_type=AccomType.NORMAL,
                    checkin_start_time=starts,
                    checkin_end_time=ends,
                    amount=amount,
                    accom_status=AccomStatus.BOOKED,
                )
            ],
        )
        mutation = Mutation.of("pms", "create", request, reference, deferrable=False)
        with mapped(Reason.ROOM_TAKEN):
            try:
                created: CreatedOrder = await self._outbox.send(mutation)
            except Queued:
                raise BackendUnreachable("create is in flight elsewhere") from None
        return created.order_id

    async def release_walk_in(self, order_id: int, reference: str) -> None:
        with mapped(Reason.BACKEND_FAULT):
            detail = await self._client.get_accom_detail(AccomDetailRequest(order_id=order_id))
            accoms = [a.accom_id for a in detail.accom_list if a.accom_status is AccomStatus.BOOKED]
            if accoms:
                await self._send("cancelBook", CancelBookRequest(accom_ids=accoms), reference)

    # --- extend stay (issue 11, item 2) ---------------------------------------------------

    async def find_by_card(self, card_uid: str, at: datetime) -> tuple[Reservation, Stay] | None:
        held = await self._stay_holding(card_uid, at)
        if held is None:
            return None
        reservation = await self.find_reservation(PmsOrderRef(held[0]))
        return reservation, next(s for s in reservation.stays if s.stay_id == str(held[1]))

    async def card_uids(self, stay: Stay) -> frozenset[str]:
        with mapped(Reason.BACKEND_FAULT):
            records = await self._client.get_all_accom_card(AccomRef(accom_id=int(stay.stay_id)))
        return frozenset(record.card_uid.upper() for record in records)

    async def extension_offer(self, stay: Stay) -> ExtensionOffer:
        """``getOrderMaxRenewDays`` for the nights; the rate is the stay's own: its room
        amount over its nights (the seed has no rate table), to the cent."""
        order_id = int(stay.reservation_id)
        with mapped(Reason.BACKEND_FAULT):
            renew, detail = await asyncio.gather(
                self._client.get_order_max_renew_days(OrderRef(order_id=order_id)),
                self._client.get_accom_detail(AccomDetailRequest(order_id=order_id)),
            )
        accom = next((a for a in detail.accom_list if str(a.accom_id) == stay.stay_id), None)
        if accom is None:
            raise BackendError(Reason.BACKEND_FAULT, "the stay is no longer on its order")
        nights = max(1, round((accom.checkin_end_time - accom.checkin_start_time) / _A_DAY))
        rate = (accom.amount / nights).quantize(Decimal("0.01"))
        return ExtensionOffer(max(0, renew.days_by_accom.get(int(stay.stay_id), 0)), rate)

    async def room_free_until(self, stay: Stay, until: datetime) -> bool:
        with mapped(Reason.BACKEND_FAULT):
            (answer,) = await self._client.batch_get_accom_availability(
                AccomAvailabilityRequest(
                    accom_list=[AccomEndTime(accom_id=int(stay.stay_id), checkin_end_time=until)]
                )
            )
        return bool(answer.is_available is YesNo.YES)

    async def extend_stay(
        self, stay: Stay, until: datetime, amount: Decimal, reference: str
    ) -> bool:
        extension = StayExtension(accom_id=int(stay.stay_id), checkin_end_time=until, amount=amount)
        with mapped(Reason.EXTEND_REFUSED):
            return await self._send(
                "extendCheckIn", ExtendCheckInRequest(extends=[extension]), reference
            )

    # --- the key journey: cards on record, lost keys, e-keys -------------------------------

    async def recorded_cards(self, stay: Stay) -> list[str]:
        with mapped(Reason.KEY_REFUSED):
            cards = await self._client.get_all_accom_card(AccomRef(accom_id=int(stay.stay_id)))
        return [card.card_uid.upper() for card in cards]

    async def revoke_credentials(self, stay: Stay, reference: str) -> Revoked:
        """Every e-key (``deleteAccessKey``) and door PIN (``deleteOfflinePassword``) of the
        stay, each deletion its own outbox write (``<reference>:ekey:<id>``, ``:pin:<id>``)."""
        accom_id, order = int(stay.stay_id), OrderRef(order_id=int(stay.reservation_id))
        with mapped(Reason.PIN_REFUSED):
            keys, pins = await asyncio.gather(
                self._client.get_accom_all_access_keys(order),
                self._client.get_accom_all_lock_password(order),
            )
            key_ids = [k.key_id for e in keys if e.accom_id == accom_id for k in e.key_list]
            pin_ids = [p.pwd_id for e in pins if e.accom_id == accom_id for p in e.password_list]
            delivered = True
            for key_id in key_ids:
                request = DeleteAccessKeyRequest(accom_id=accom_id, key_id=key_id)
                delivered &= await self._send(
                    "deleteAccessKey", request, f"{reference}:ekey:{key_id}"
                )
            for pwd_id in pin_ids:
                request = DeletePasswordRequest(accom_id=accom_id, pwd_id=pwd_id)
                delivered &= await self._send(
                    "deleteOfflinePassword", request, f"{reference}:pin:{pwd_id}"
                )
        return Revoked(ekeys=len(key_ids), pins=len(pin_ids), pending=not delivered)

    async def send_ekey(self, stay: Stay, receiver_name: str, reference: str) -> bool:
        if not stay.contact_phone or not stay.reservation_id:
            raise BackendError(Reason.NOT_SUPPORTED, "the stay has no phone to send an e-key to")
        accom_id = int(stay.stay_id)
        with mapped(Reason.PIN_REFUSED):
            entries = await self._client.get_accom_all_access_keys(
                OrderRef(order_id=int(stay.reservation_id))
            )
            entry = next((e for e in entries if e.accom_id == accom_id), None)
            if entry is None or entry.device_lock is None:
                raise BackendError(Reason.NOT_SUPPORTED, "the room's lock takes no e-key")
            if any(_ekey_covers(k, stay) for k in entry.key_list):
                return False
            request = SendAccessKeyRequest(
                accom_id=accom_id,
                start_time=stay.starts,
                end_time=stay.ends,
                receiver_name=receiver_name,
                receiver_account=stay.contact_phone,
                country_code=self._country_code,
            )
            await self._send("sendAccessLockKey", request, reference)
        return True

    # --- check-out (the check-out journey) -------------------------------------------------

    async def departure_by_card(self, card_uid: str, now: datetime) -> tuple[Reservation, str]:
        held = await self._stay_holding(card_uid, now)
        if held is None:
            raise ReservationNotFound("no stay in the house holds this card")
        return await self.find_reservation(PmsOrderRef(held[0])), str(held[1])

    async def _stay_holding(self, card_uid: str, now: datetime) -> tuple[int, int] | None:
        """The (order, stay) in the house whose cards include ``card_uid``. The seeds have
        no search by card: the room calendar around ``now`` names the orders with stays
        checked in (from ``IN_HOUSE_LOOKBACK`` back, so a guest past their departure
        time is found too), then each such stay's cards (``getAllAccomCard``) are read,
        a few at a time."""
        uid = card_uid.upper()
        with mapped(Reason.BACKEND_FAULT):
            calendar = await self._client.get_accom_list(
                AccomListRequest(
                    pms_id=self._pms_id, start_date=now - IN_HOUSE_LOOKBACK, end_date=now + _A_DAY
                )
            )
            orders = sorted(
                {
                    stay.order_id
                    for line in calendar
                    for stay in line.order_list
                    if stay.order_id and stay.accom_status is AccomStatus.CHECKED_IN
                }
            )
            in_house = await _bounded(self._in_house(order_id) for order_id in orders)
            stays = [(order_id, accom_id) for order_id, ids in in_house for accom_id in ids]
            cards = await _bounded(
                self._client.get_all_accom_card(AccomRef(accom_id=a)) for _, a in stays
            )
        for (order_id, accom_id), held in zip(stays, cards, strict=True):
            if any(card.card_uid.upper() == uid for card in held):
                return order_id, accom_id
        return None

    async def _in_house(self, order_id: int) -> tuple[int, list[int]]:
        stays = await self._client.list_checkout(
            CheckoutListRequest(order_id=order_id, accom_status=[AccomStatus.CHECKED_IN])
        )
        return order_id, [stay.accom_id for stay in stays]

    async def checkout_folio(self, reservation: Reservation, stays: list[Stay]) -> CheckoutFolio:
        order_id = int(reservation.reservation_id)
        with mapped(Reason.BACKEND_FAULT):
            amount, listed, extras, cash = await asyncio.gather(
                self._client.calculate_checkout_amount(
                    CheckoutAmountRequest(order_id=order_id, room_list=_departures(stays))
                ),
                self._client.list_checkout(
                    CheckoutListRequest(
                        order_id=order_id,
                        accom_status=[AccomStatus.CHECKED_IN, AccomStatus.CHECKED_OUT],
                    )
                ),
                self._bills(order_id, BillListType.CONSUMPTION),
                self._bills(order_id, BillListType.CASHIER),
            )
        leaving = {stay.stay_id for stay in stays}
        lines = [
            FolioLine("nights", stay.room_name, stay.total_room_fee or stay.amount, stay.total_days)
            for stay in listed
        ]
        lines += [
            FolioLine("extra", bill.name, bill.amount, bill.num)
            for bill in extras
            if bill.status is not BillStatus.REVERSED
        ]
        sales = []
        for bill in cash:
            if bill.status is BillStatus.REVERSED:
                continue
            kind = "refund" if bill.amount < 0 else "payment"
            lines.append(FolioLine(kind, bill.name, abs(bill.amount)))
            words = bill.remark.split()
            if kind == "payment" and len(words) == 2 and words[1].startswith(REFERENCE_TAG):
                sales.append((words[0], bill.amount))  # paid at a kiosk: its terminal reference
        others = [
            s for s in reservation.stays if s.stay_id not in leaving and s.state is StayState.BOOKED
        ]
        still_in = [s.accom_id for s in listed if s.accom_status is AccomStatus.CHECKED_IN]
        return CheckoutFolio(
            stays=tuple(stays),
            lines=tuple(lines),
            total=amount.order_amount,
            paid=amount.paid_amount,
            due=amount.need_paid_amount,
            overpaid=amount.balance,
            last_out=not others and all(str(a) in leaving for a in still_in),
            kiosk_sales=tuple(sales),
        )

    async def _bills(self, order_id: int, list_type: BillListType) -> list[Bill]:
        bills: list[Bill] = []
        for page_no in range(1, MAX_BILL_PAGES + 1):
            page = await self._client.get_bill_list(
                BillListRequest(
                    order_id=order_id,
                    list_type=list_type,
                    page_no=page_no,
                    page_size=BILL_PAGE_SIZE,
                )
            )
            bills += page.bills
            if len(page.bills) < BILL_PAGE_SIZE:
                return bills
        raise BackendError(Reason.BACKEND_FAULT, "getBillList: too many bills for one folio")

    async def record_refund(
        self, reservation_id: str, amount: Decimal, payment_reference: str, reference: str
    ) -> None:
        if amount <= 0:
            raise ValueError("a refund is a positive amount")
        with mapped(Reason.PAYMENT_REFUSED):
            bill = CashierPayment(
                bill_type=BillType.REFUND,
                name=REFUND_NAME,
                amount=amount,
                remark=f"{payment_reference} {REFERENCE_TAG}{reference}",
            )
            request = CashierRequest(order_id=int(reservation_id), bills=[bill])
            await self._send("cashier", request, reference)

    async def check_out(self, reservation: Reservation, stays: list[Stay], reference: str) -> None:
        """``checkOut`` type 2 (the folio stays open: ``settle`` closes it) with no fee for
        the day; stays the PMS has out already are a replay and are left out."""
        order_id = int(reservation.reservation_id)
        with mapped(Reason.CHECK_OUT_REFUSED):
            detail = await self._client.get_accom_detail(AccomDetailRequest(order_id=order_id))
            states = {str(a.accom_id): a.accom_status for a in detail.accom_list}
            pending = [s for s in stays if states.get(s.stay_id) is not AccomStatus.CHECKED_OUT]
            if not pending:
                return
            request = CheckOutRequest(
                order_id=order_id, mode=CheckOutMode.CHECK_OUT_ONLY, room_list=_departures(pending)
            )
            await self._send("checkOut", request, reference)

    async def settle(self, reservation: Reservation, reference: str) -> None:
        with mapped(Reason.CHECK_OUT_REFUSED):
            request = SettleRequest(order_id=int(reservation.reservation_id))
            await self._send("settle", request, reference)


def rooms_of_queued_check_ins(outbox: Outbox) -> set[str]:
    """Rooms this kiosk gave in check-ins the PMS does not have yet: not to give again."""
    return {
        str(item["room_id"])
        for request in outbox.undelivered("checkIn")
        for item in request.get("checkin_rooms", [])
    }


async def payment_booked(client: PmsClient, order_id: int, reference: str) -> bool:
    """Whether a cashier bill of the order carries the kiosk's ``reference`` in its remark."""
    tag = f"{REFERENCE_TAG}{reference}"
    for page_no in range(1, MAX_BILL_PAGES + 1):
        page = await client.get_bill_list(
            BillListRequest(
                order_id=order_id,
                list_type=BillListType.CASHIER,
                page_no=page_no,
                page_size=BILL_PAGE_SIZE,
            )
        )
        if any(tag in bill.remark.split() for bill in page.bills):
            return True
        if len(page.bills) < BILL_PAGE_SIZE:
            return False
    raise BackendError(Reason.BACKEND_FAULT, "getBillList: too many cashier bills to search")


def _room(accom: Accom) -> Room | None:
    """The stay's room as ``getAccomDetail`` has it (None: no room yet)."""
    if not accom.room_id:
        return None
    location = accom.room_location
    return Room(
        room_id=str(accom.room_id),
        name=accom.room_name,
        room_type_id=str(accom.room_type_id),
        floor=location.floor_id if location else None,
        building=str(location.building_id) if location and location.building_id else None,
    )


def _pin_lock(accom: Accom) -> bool:
    return bool(accom.device_lock and accom.device_lock.lock_type is LockType.PASSWORD)


def _guest(tenant: Tenant) -> Guest:
    return Guest(
        guest_id=str(tenant.tenant_id),
        name=tenant.name,
        phone=tenant.phone,
        id_kind=_ID_KINDS.get(tenant.id_type, IdKind.UNKNOWN),
        id_number=tenant.id_number,
    )


def _tenant_edit(guest: Guest) -> TenantEdit:
    return TenantEdit(
        tenant_id=int(guest.guest_id) if guest.guest_id else None,
        name=guest.name or None,
        phone=guest.phone or None,
        id_type=_ID_TYPES[guest.id_kind],
        id_number=guest.id_number,
    )


def _ekey_covers(key: AccessKey, stay: Stay) -> bool:
    """An e-key to the stay's contact phone that opens the door for the whole stay."""
    return (
        key.receiver_account == stay.contact_phone
        and key.start_date <= stay.starts
        and key.end_date >= stay.ends
    )


async def _bounded(
    calls: Iterable[Awaitable[T]], at_once: int = CARD_SEARCH_CONCURRENCY
) -> list[T]:
    """The calls' results in order, at most ``at_once`` in flight (a full house is many)."""
    gate = asyncio.Semaphore(at_once)

    async def one(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    return list(await asyncio.gather(*(one(call) for call in calls)))


def _departures(stays: Iterable[Stay]) -> list[RoomCheckoutFee]:
    """Check-out with no fee for the day: a late check-out's charge is the desk's call."""
    return [
        RoomCheckoutFee(accom_id=int(s.stay_id), fee_type=CheckoutFeeType.NO_CHARGE, amount=NO_FEE)
        for s in stays
    ]
