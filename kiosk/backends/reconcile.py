"""Before the outbox replays a write: did it land already, and may it still be applied?

One reconciler per API reads the back-end's own state for the write's operation and
answers ``LANDED`` (never send it again), ``NOT_LANDED`` (safe to send), or raises
:class:`~kiosk.outbox.Conflict` when the back-end changed meanwhile in a way the kiosk
must not overwrite (the booking cancelled at the desk, the room given to someone else,
the bill paid at the desk). A conflict parks the entry for staff with its reason.

Reads that fail (the back-end still down) propagate as API errors: the relay backs off
and asks again later. ``booking`` is the journey's reservation id (the PMS order id).

Whether a write landed is asked only when it may have (``maybe_landed``: its reply was
lost, or the kiosk stopped while sending it). A write that surely never reached the
back-end is checked for conflicts only; a payment's conflict read of its order is shared
for a while (``SHARED_READ_S``) between the payments a drain replays: the desk changing
the booking within that time is the same race as just after any check. The payments
checked against a shared read count against its balance, so a shared read never lets
through what a fresh one would stop: when the rest does not cover the next payment, the
order is read afresh. Whether a write landed is always read afresh.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kiosk.api.openability import OpenAbilityClient
from kiosk.api.openability_types import BookingState, OrderState, ResidenceRef
from kiosk.api.openability_types import OrderRef as OAOrderRef
from kiosk.api.pms import PmsClient
from kiosk.api.pms_types import (
    Accom,
    AccomDetail,
    AccomDetailRequest,
    AccomRef,
    AccomStatus,
    CheckoutStatus,
    OrderRef,
    RoomStatusRequest,
)
from kiosk.backends.pms import REFERENCE_TAG, payment_booked
from kiosk.outbox import Conflict, Mutation, Reconciler, Verdict

# How long a conflict check's read of an order serves other writes: a drain of a long
# outage's backlog replays an order's payments far apart (other guests' in between) and
# should read each order once. Reads of at most SHARED_ORDERS orders are kept.
SHARED_READ_S = 30.0
SHARED_ORDERS = 256


@dataclass
class _Read:
    """An order as read at ``at`` (monotonic), and the payments checked against it since,
    by kiosk reference: they are on their way, so they no longer count as due."""

    at: float
    detail: AccomDetail
    passed: dict[str, Decimal] = field(default_factory=dict)

    def due(self, reference: str) -> Decimal | None:
        """What is still due on the order, less the other payments checked against it."""
        summary = self.detail.bill_summary
        if summary is None:
            return None
        others = (amount for ref, amount in self.passed.items() if ref != reference)
        return summary.need_pay_amount - sum(others, Decimal())


@dataclass
class _Ask:
    """One write to check: its request, reference, booking, whether it may have landed,
    and the reads shared between the checks."""

    client: PmsClient
    request: dict[str, Any]
    reference: str
    booking: str
    maybe_landed: bool
    shared: dict[int, _Read]

    async def detail(self, order_id: int) -> AccomDetail:
        """The order, read afresh."""
        return (await self.read(order_id, shared=False)).detail

    async def read(self, order_id: int, *, shared: bool) -> _Read:
        """The order. ``shared``: it serves a conflict check only (never the question
        whether a write landed), so a read made for another write within
        ``SHARED_READ_S`` will do."""
        now = time.monotonic()
        seen = self.shared.get(order_id)
        if shared and not self.maybe_landed and seen and now - seen.at < SHARED_READ_S:
            return seen
        detail = await self.client.get_accom_detail(AccomDetailRequest(order_id=order_id))
        if len(self.shared) >= SHARED_ORDERS:
            self.shared.clear()
        read = self.shared[order_id] = _Read(now, detail)
        return read

    def forget(self, order_id: int) -> None:
        """A write about to change the order's folio is sent: earlier reads are stale."""
        self.shared.pop(order_id, None)


PmsCheck = Callable[[_Ask], Awaitable[Verdict]]


def pms_reconciler(client: PmsClient) -> Reconciler:
    shared: dict[int, _Read] = {}

    async def reconcile(mutation: Mutation, booking: str, maybe_landed: bool) -> Verdict:
        check = _PMS_CHECKS.get(mutation.operation)
        if check is None:
            raise Conflict(f"{mutation.operation} cannot be checked against the PMS")
        request = dict(mutation.request)
        return await check(_Ask(client, request, mutation.reference, booking, maybe_landed, shared))

    return reconcile


def _accom(detail: AccomDetail, accom_id: int) -> Accom:
    for accom in detail.accom_list:
        if accom.accom_id == accom_id:
            return accom
    raise Conflict(f"stay {accom_id} is no longer on the booking")


def _order_of(booking: str) -> int:
    if not (booking.isascii() and booking.isdigit()):
        raise Conflict("the write has no booking to check it against")
    return int(booking)


async def _cashier(ask: _Ask) -> Verdict:
    request = ask.request
    order_id = int(request["order_id"])
    for bill in request.get("bills", []) if ask.maybe_landed else []:
        reference = _kiosk_reference(bill.get("remark", ""))
        if reference and await payment_booked(ask.client, order_id, reference):
            return Verdict.LANDED
    # Refunds (check-out) are not checked against what is due: only payments can overpay.
    payments = [b for b in request.get("bills", []) if int(b.get("bill_type", 10)) != 20]
    amount = sum((Decimal(str(b.get("amount", "0"))) for b in payments), Decimal())
    read = await ask.read(order_id, shared=True)
    due = read.due(ask.reference)
    if payments and due is not None and due < amount and read.passed.keys() - {ask.reference}:
        # Tight only because of the payments checked since the read: ask the PMS itself.
        read = await ask.read(order_id, shared=False)
        due = read.due(ask.reference)
    if all(a.accom_status is AccomStatus.CANCELLED for a in read.detail.accom_list):
        raise Conflict("the booking was cancelled meanwhile: the payment needs a refund")
    if payments and due is not None and due < amount:
        raise Conflict("the bill was paid meanwhile (at the desk?): the payment needs a refund")
    read.passed[ask.reference] = amount
    return Verdict.NOT_LANDED


def _kiosk_reference(remark: str) -> str:
    for word in remark.split():
        if word.startswith(REFERENCE_TAG):
            return word[len(REFERENCE_TAG) :]
    return ""


async def _check_in(ask: _Ask) -> Verdict:
    request, client = ask.request, ask.client
    detail = await ask.detail(int(request["order_id"]))
    rooms = request.get("checkin_rooms", [])
    landed = 0
    for item in rooms:
        accom = _accom(detail, int(item["accom_id"]))
        if accom.accom_status is AccomStatus.CHECKED_IN:
            if accom.room_id != int(item["room_id"]):
                raise Conflict(f"stay {accom.accom_id} was checked in to another room meanwhile")
            landed += 1
        elif accom.accom_status is not AccomStatus.BOOKED:
            raise Conflict(f"stay {accom.accom_id} was {accom.accom_status.name.lower()} meanwhile")
        else:
            states = await client.get_room_status(
                RoomStatusRequest(
                    accom_id=accom.accom_id,
                    room_type_id=accom.room_type_id,
                    start_date=accom.checkin_start_time,
                    end_date=accom.checkin_end_time,
                )
            )
            if any(s.room_id == int(item["room_id"]) and s.is_occupied for s in states):
                raise Conflict(f"room {item['room_id']} was given to another guest meanwhile")
    if landed == len(rooms):
        return Verdict.LANDED
    if landed:
        raise Conflict("the booking was partly checked in meanwhile")
    return Verdict.NOT_LANDED


async def _add_card(ask: _Ask) -> Verdict:
    if not ask.maybe_landed:  # the PMS itself refuses a card for a stay not checked in
        return Verdict.NOT_LANDED
    cards = await ask.client.get_all_accom_card(AccomRef(accom_id=int(ask.request["accom_id"])))
    uid = str(ask.request["card_uid"]).upper()
    return Verdict.LANDED if any(c.card_uid.upper() == uid for c in cards) else Verdict.NOT_LANDED


async def _tenants(ask: _Ask) -> Verdict:
    if not ask.maybe_landed:  # the PMS itself refuses guests for a cancelled stay
        return Verdict.NOT_LANDED
    request = ask.request
    accom = _accom(await ask.detail(_order_of(ask.booking)), int(request["accom_id"]))
    if accom.accom_status not in (AccomStatus.BOOKED, AccomStatus.CHECKED_IN):
        raise Conflict(f"stay {accom.accom_id} was {accom.accom_status.name.lower()} meanwhile")
    held = {(t.name, t.id_number.upper()) for t in accom.tenant_list}
    wanted = {
        (t.get("name", ""), str(t.get("id_number", "")).upper()) for t in request["tenant_list"]
    }
    return Verdict.LANDED if wanted <= held else Verdict.NOT_LANDED


async def _undo_check_in(ask: _Ask) -> Verdict:
    accom = _accom(await ask.detail(_order_of(ask.booking)), int(ask.request["accom_id"]))
    if accom.accom_status is AccomStatus.BOOKED:
        return Verdict.LANDED
    if accom.accom_status is AccomStatus.CHECKED_IN:
        return Verdict.NOT_LANDED
    raise Conflict(f"stay {accom.accom_id} was {accom.accom_status.name.lower()} meanwhile")


async def _release_walk_in(ask: _Ask) -> Verdict:
    """An unpaid walk-in booking given up: landed once its stays are cancelled."""
    detail = await ask.detail(_order_of(ask.booking))
    states = {_accom(detail, int(a)).accom_status for a in ask.request["accom_ids"]}
    if states == {AccomStatus.CANCELLED}:
        return Verdict.LANDED
    if states <= {AccomStatus.BOOKED, AccomStatus.CANCELLED}:
        return Verdict.NOT_LANDED
    raise Conflict("the walk-in booking was checked in meanwhile: not cancelled")


async def _door_pin(ask: _Ask) -> Verdict:
    if not ask.maybe_landed:
        return Verdict.NOT_LANDED
    order = OrderRef(order_id=_order_of(ask.booking))
    entries = await ask.client.get_accom_all_lock_password(order)
    accom_id = int(ask.request["accom_id"])
    made = [p for e in entries if e.accom_id == accom_id for p in e.password_list]
    return Verdict.LANDED if made else Verdict.NOT_LANDED


async def _extend(ask: _Ask) -> Verdict:
    """extendCheckIn (extend stay): landed when the stay ends where the write moves it; the
    PMS's own check refuses a room booked on the new nights."""
    (item,) = ask.request["extends"]  # the kiosk extends one stay a write
    order_id = _order_of(ask.booking)
    accom = _accom(await ask.detail(order_id), int(item["accom_id"]))
    wanted = int(item["checkin_end_time"])
    ends = int(accom.checkin_end_time.timestamp())
    if accom.accom_status is not AccomStatus.CHECKED_IN:
        raise Conflict(f"stay {accom.accom_id} was {accom.accom_status.name.lower()} meanwhile")
    if ends == wanted:
        return Verdict.LANDED
    if ends > wanted:
        raise Conflict(f"stay {accom.accom_id} was extended further meanwhile (at the desk?)")
    # The extension adds its amount to what is due: the payment replayed after it must not
    # be checked against a balance read before it.
    ask.forget(order_id)
    return Verdict.NOT_LANDED
async def _delete_ekey(ask: _Ask) -> Verdict:
    """A lost key's e-key deletion landed when the stay lists the key no more."""
    if not ask.maybe_landed:  # the PMS itself refuses to delete what is not there
        return Verdict.NOT_LANDED
    order = OrderRef(order_id=_order_of(ask.booking))
    entries = await ask.client.get_accom_all_access_keys(order)
    accom_id = int(ask.request["accom_id"])
    held = {k.key_id for e in entries if e.accom_id == accom_id for k in e.key_list}
    return Verdict.NOT_LANDED if int(ask.request["id"]) in held else Verdict.LANDED


async def _delete_pin(ask: _Ask) -> Verdict:
    """A lost key's door PIN deletion landed when the stay lists the PIN no more."""
    if not ask.maybe_landed:
        return Verdict.NOT_LANDED
    order = OrderRef(order_id=_order_of(ask.booking))
    entries = await ask.client.get_accom_all_lock_password(order)
    accom_id = int(ask.request["accom_id"])
    held = {p.pwd_id for e in entries if e.accom_id == accom_id for p in e.password_list}
    return Verdict.NOT_LANDED if int(ask.request["pwd_id"]) in held else Verdict.LANDED


async def _send_ekey(ask: _Ask) -> Verdict:
    if not ask.maybe_landed:
        return Verdict.NOT_LANDED
    entries = await ask.client.get_accom_all_access_keys(OrderRef(order_id=_order_of(ask.booking)))
    accom_id, request = int(ask.request["accom_id"]), ask.request
    sent = any(
        k.receiver_account == request["receiver_account"]
        and int(k.start_date.timestamp()) == int(request["start_time"])
        and int(k.end_date.timestamp()) == int(request["end_time"])
        for e in entries
        if e.accom_id == accom_id
        for k in e.key_list
    )
    return Verdict.LANDED if sent else Verdict.NOT_LANDED
async def _check_out(ask: _Ask) -> Verdict:
    """The check-out journey's ``checkOut``: landed once every stay in it is out."""
    detail = await ask.detail(int(ask.request["order_id"]))
    states = [
        _accom(detail, int(item["accom_id"])).accom_status for item in ask.request["room_list"]
    ]
    if all(state is AccomStatus.CHECKED_OUT for state in states):
        return Verdict.LANDED
    if all(state is AccomStatus.CHECKED_IN for state in states):
        return Verdict.NOT_LANDED
    raise Conflict("the stays were checked out (or changed) at the desk meanwhile")


async def _settle(ask: _Ask) -> Verdict:
    """The check-out journey's ``settle``: landed once every stay of the order is settled."""
    detail = await ask.detail(int(ask.request["order_id"]))
    settled = all(a.checkout_status is CheckoutStatus.SETTLED for a in detail.accom_list)
    return Verdict.LANDED if settled else Verdict.NOT_LANDED


_PMS_CHECKS: dict[str, PmsCheck] = {
    "cashier": _cashier,
    "checkIn": _check_in,
    "addAccomCard": _add_card,
    "updateAccomTenant": _tenants,
    "cancelAccomStatus": _undo_check_in,
    "sendOfflinePassword": _door_pin,
    "cancelBook": _release_walk_in,
    "extendCheckIn": _extend,  # extend stay
    # the key journey
    "deleteAccessKey": _delete_ekey,
    "deleteOfflinePassword": _delete_pin,
    "sendAccessLockKey": _send_ekey,
    # the check-out journey
    "checkOut": _check_out,
    "settle": _settle,
}


def openability_reconciler(client: OpenAbilityClient) -> Reconciler:
    async def reconcile(mutation: Mutation, booking: str, maybe_landed: bool) -> Verdict:
        if mutation.operation == "delete_booking_info":
            return await _amenity_booking_deleted(client, mutation)
        if mutation.operation != "update_order_info":
            raise Conflict(f"{mutation.operation} cannot be checked against open-ability")
        order = await client.get_order_info(OAOrderRef(order_id=mutation.request["order_id"]))
        wanted = OrderState(mutation.request["order_state"])
        if order.order_state is wanted:
            return Verdict.LANDED
        if order.order_state is OrderState.CHECK_IN:
            return Verdict.NOT_LANDED
        raise Conflict(f"the order is {order.order_state.value} meanwhile")

    return reconcile


async def _amenity_booking_deleted(client: OpenAbilityClient, mutation: Mutation) -> Verdict:
    """A cancelled amenity booking: landed once the residence no longer lists it as live."""
    request = mutation.request
    bookings = await client.get_booking_list(ResidenceRef(residence_id=request["residence_id"]))
    live = [
        b
        for b in bookings
        if b.booking_id == request["booking_id"] and b.state is not BookingState.CANCELED
    ]
    return Verdict.NOT_LANDED if live else Verdict.LANDED
