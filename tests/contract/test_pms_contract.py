"""PmsClient against the simulated PMS over real HTTP on loopback: every operation of seed 004.

One test per operation (``@covers``), each with the refusals that matter for it; the
last test checks that the covered set is exactly ``PmsClient``'s OPERATIONS. The
lifecycle, persistence, concurrency and malformed-request rules are in test_pms_rules.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from kiosk.api import (
    PmsError,
    PmsOverpaid,
    PmsReservedRoomsExist,
    PmsRoomsNotCheckedOut,
    PmsUnsettledBills,
)
from kiosk.api import pms_types as t
from kiosk.api.pms import OPERATIONS, PmsClient
from kiosk.sim import pms
from kiosk.sim.params import BAD_PARAMS, CONFLICT, NOT_FOUND
from kiosk.sim.pms import property as prop
from kiosk.sim.server import SimServer
from tests.conftest import SIM_NOW, SIM_TOKEN

pytestmark = pytest.mark.timeout(30)

PMS_ID = 1
T0 = int(SIM_NOW.timestamp())  # 14:00 in Shanghai, the property's zone
HOUR, DAY = 3600, 86400
TODAY = (T0, T0 + 22 * HOUR)  # 14:00 today to 12:00 tomorrow: one night
TOMORROW = (T0 + DAY, T0 + DAY + 22 * HOUR)

COVERED: set[str] = set()


def covers(*operations: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a test as the contract test of ``operations`` (checked by the last test)."""

    def mark(test: Callable[..., Any]) -> Callable[..., Any]:
        COVERED.update(operations)
        return test

    return mark


class Property:
    """The seeded test property: two King rooms and a Suite with a card lock, no gateway."""

    def __init__(self, server: SimServer) -> None:
        self.server = server
        with server.db.transaction() as conn:
            self.king = prop.add_room_type(conn, PMS_ID, "King 大床房", "King", "300.00")
            self.suite = prop.add_room_type(conn, PMS_ID, "Suite 套房", "Suite", "800.00")
            self.r101 = prop.add_room(conn, PMS_ID, self.king, "101", 1)
            self.r102 = prop.add_room(conn, PMS_ID, self.king, "102", 1)
            self.r501 = prop.add_room(
                conn, PMS_ID, self.suite, "501", 5, lock_type=prop.CARD_LOCK, has_gateway=False
            )

    def set_dirty(self, room_id: int, dirty: bool = True) -> None:
        with self.server.db.transaction() as conn:
            prop.set_dirty(conn, room_id, dirty)

    def call(self, path: str, params: dict[str, Any]) -> Any:
        """A handler called directly: setup the client's models cannot express."""
        return self.server.call(pms.ROUTES[f"/api/v1/pmsOrder/{path}"], params)


@pytest.fixture
def prop_(sim_server: SimServer) -> Property:
    return Property(sim_server)


@pytest.fixture
async def client(sim_server: SimServer) -> AsyncIterator[PmsClient]:
    async with PmsClient(sim_server.url, SIM_TOKEN, timeout=5, read_retries=0) as client:
        yield client


def req(model: type[BaseModel], **fields: Any) -> Any:
    """A request model from wire-shaped values (ints for times, strings for money)."""
    return model.model_validate(fields)


def stay(room_id: int, span: tuple[int, int] = TODAY, **extra: Any) -> dict[str, Any]:
    return {
        "room_id": room_id,
        "accom_type": 10,
        "checkin_start_time": span[0],
        "checkin_end_time": span[1],
        "amount": "300.00",
        "accom_status": 40,
        "tenant_list": [{"name": "Test Guest", "id_type": 40, "id_number": "E1234567"}],
        **extra,
    }


async def book(client: PmsClient, *stays: dict[str, Any]) -> int:
    created = await client.create(
        req(t.CreateOrderRequest, pms_id=PMS_ID, name="Test Guest", room_list=list(stays))
    )
    return created.order_id


async def detail(client: PmsClient, order_id: int) -> t.AccomDetail:
    return await client.get_accom_detail(req(t.AccomDetailRequest, order_id=order_id))


async def first_accom(client: PmsClient, order_id: int) -> int:
    accom_id = (await detail(client, order_id)).accom_list[0].accom_id
    assert accom_id is not None
    return accom_id


async def pay(client: PmsClient, order_id: int, amount: str, bill_type: int = 10) -> None:
    bills = [{"bill_type": bill_type, "name": "Kiosk card", "amount": amount, "remark": "ref-1"}]
    await client.cashier(req(t.CashierRequest, order_id=order_id, bills=bills))


async def checked_in(client: PmsClient, prop_: Property, room_id: int | None = None) -> tuple:
    """A paid, checked-in one-night stay in room 101 (or ``room_id``): (order_id, accom_id)."""
    room_id = room_id or prop_.r101
    order_id = await book(client, stay(room_id))
    accom_id = await first_accom(client, order_id)
    await pay(client, order_id, "300.00")
    rooms = [{"accom_id": accom_id, "room_id": room_id}]
    await client.check_in(req(t.CheckInRequest, order_id=order_id, checkin_rooms=rooms))
    return order_id, accom_id


def refused(code: int) -> Any:
    """``pytest.raises`` for a PMS error with ``error_code`` ``code``."""
    return pytest.raises(PmsError, match=f"error_code {code}")


# --- rooms and orders ------------------------------------------------------------------------


@covers("getAllRoomList")
async def test_get_all_room_list(client: PmsClient, prop_: Property) -> None:
    prop_.set_dirty(prop_.r102)
    listing = await client.get_all_room_list(req(t.AllRoomListRequest, pms_id=PMS_ID))
    assert [rt.room_type_id for rt in listing.room_types] == [prop_.king, prop_.suite]
    king = listing.room_types[0]
    assert (king.name, king.short_name) == ("King 大床房", "King")
    assert [(r.room_name, bool(r.is_dirty)) for r in king.rooms] == [("101", False), ("102", True)]
    only = await client.get_all_room_list(
        req(t.AllRoomListRequest, pms_id=PMS_ID, room_type_ids=[prop_.suite])
    )
    assert [r.room_id for rt in only.room_types for r in rt.rooms] == [prop_.r501]
    with refused(NOT_FOUND):
        await client.get_all_room_list(req(t.AllRoomListRequest, pms_id=99))


@covers("create")
async def test_create_books_and_refuses_double_booking(client: PmsClient, prop_: Property) -> None:
    order_id = await book(client, stay(prop_.r101))
    d = await detail(client, order_id)
    assert d.order_status == t.OrderStatus.BOOKED
    assert [a.room_id for a in d.accom_list] == [prop_.r101]
    # overlapping 101 (booked stays are 14:00 -> 12:00) is refused, the next night is not
    with refused(CONFLICT):
        await book(client, stay(prop_.r101, (T0 + 20 * HOUR, T0 + 40 * HOUR)))
    await book(client, stay(prop_.r101, TOMORROW))
    with refused(NOT_FOUND):
        await book(client, stay(999))
    # two stays of one request on the same room clash with each other
    with refused(CONFLICT):
        await book(client, stay(prop_.r102), stay(prop_.r102))


@covers("update")
async def test_update(client: PmsClient, prop_: Property) -> None:
    order_id = await book(client, stay(prop_.r101))
    accom_id = await first_accom(client, order_id)
    edit = stay(prop_.r102, amount="280.00", accom_id=accom_id, is_custom_price=1)
    await client.update(
        req(t.UpdateOrderRequest, order_id=order_id, phone="13900000000", room_list=[edit])
    )
    d = await detail(client, order_id)
    assert d.phone == "13900000000"
    assert (d.accom_list[0].room_id, d.accom_list[0].amount) == (prop_.r102, Decimal("280.00"))
    # moving onto a room taken by another order is refused
    await book(client, stay(prop_.r101))
    with refused(CONFLICT):
        await client.update(
            req(t.UpdateOrderRequest, order_id=order_id, name="X",
                room_list=[{**edit, "room_id": prop_.r101}])
        )  # fmt: skip
    with refused(NOT_FOUND):
        await client.update(req(t.UpdateOrderRequest, order_id=404, name="X"))


@covers("getAccomlist")
async def test_get_accom_list(client: PmsClient, prop_: Property) -> None:
    order_id = await book(client, stay(prop_.r101))
    calendar = await client.get_accom_list(
        req(t.AccomListRequest, pms_id=PMS_ID, start_date=T0, end_date=T0 + DAY)
    )
    by_room = {line.room_id: line for line in calendar}
    assert set(by_room) == {prop_.r101, prop_.r102, prop_.r501}
    assert by_room[prop_.r101].room_full_name == "King 大床房-101"
    (entry,) = by_room[prop_.r101].order_list
    assert (entry.order_id, entry.accom_status, entry.total_amount) == (
        order_id, t.AccomStatus.BOOKED, Decimal("300.00"),
    )  # fmt: skip
    assert entry.is_arrears == t.YesNo.YES
    assert by_room[prop_.r102].order_list == []


@covers("getAccomDetail")
async def test_get_accom_detail(client: PmsClient, prop_: Property) -> None:
    order_id = await book(client, stay(prop_.r101), stay(prop_.r102))
    d = await detail(client, order_id)
    assert d.order_id == order_id and len(d.order_no) == 18
    assert d.created_date == SIM_NOW
    assert d.total_amount == Decimal("600.00") and d.total_payed_amount == 0
    a = d.accom_list[0]
    assert (a.room_type_id, a.room_full_name, a.accom_status) == (
        prop_.king, "King 大床房-101", t.AccomStatus.BOOKED,
    )  # fmt: skip
    assert a.checkout_status == t.CheckoutStatus.UNSETTLED
    assert a.tenant_list[0].id_type == t.IdType.PASSPORT
    assert a.room_location is not None and a.room_location.floor_id == 1
    assert a.device_lock is not None and a.device_lock.has_gateway == t.YesNo.YES
    sc = d.status_control
    assert sc.is_show_checkin and sc.is_show_cancel_book and not sc.is_show_extend
    assert not sc.is_show_settle
    assert d.bill_summary is not None and d.bill_summary.need_pay_amount == Decimal("600.00")
    one = await client.get_accom_detail(
        req(t.AccomDetailRequest, order_id=order_id, accom_ids=[d.accom_list[1].accom_id])
    )
    assert [x.room_id for x in one.accom_list] == [prop_.r102]
    with refused(NOT_FOUND):
        await detail(client, 404)


@covers("updateAccomTenant")
async def test_update_accom_tenant(client: PmsClient, prop_: Property) -> None:
    order_id = await book(client, stay(prop_.r101))
    accom_id = await first_accom(client, order_id)
    add = {"name": "Second Guest", "id_type": 10, "id_number": "440000000000000000"}
    await client.update_accom_tenant(
        req(t.UpdateAccomTenantRequest, accom_id=accom_id, tenant_list=[add])
    )
    d = (await detail(client, order_id)).accom_list[0]
    first, second = d.tenant_list
    edit = {**add, "tenant_id": first.tenant_id, "phone": "13800000000", "gender": 20}
    await client.update_accom_tenant(
        req(t.UpdateAccomTenantRequest, accom_id=accom_id, tenant_list=[edit])
    )
    tenants = (await detail(client, order_id)).accom_list[0].tenant_list
    assert [(x.tenant_id, x.name, x.gender) for x in tenants] == [
        (first.tenant_id, "Second Guest", t.Gender.FEMALE),
        (second.tenant_id, "Second Guest", t.Gender.UNKNOWN),
    ]
    with refused(NOT_FOUND):
        await client.update_accom_tenant(
            req(t.UpdateAccomTenantRequest, accom_id=accom_id,
                tenant_list=[{**edit, "tenant_id": 999}])
        )  # fmt: skip


@covers("addAccomBill")
async def test_add_accom_bill(client: PmsClient, prop_: Property) -> None:
    order_id = await book(client, stay(prop_.r101))
    accom_id = await first_accom(client, order_id)
    bill = {"consume_id": 1, "date": "2026-03-04", "price": "25.50", "num": 3}
    await client.add_accom_bill(req(t.AddAccomBillRequest, accom_id=accom_id, bill_list=[bill]))
    (b,) = (await detail(client, order_id)).accom_list[0].bill_list
    assert (b.consume_id, b.name, b.amount) == (1, "Minibar 酒水", Decimal("76.50"))
    assert (await detail(client, order_id)).total_amount == Decimal("376.50")
    with refused(NOT_FOUND):
        await client.add_accom_bill(
            req(t.AddAccomBillRequest, accom_id=accom_id, bill_list=[{**bill, "consume_id": 99}])
        )


# --- check-in and stays --------------------------------------------------------------------


@covers("getCheckInAccom")
async def test_get_check_in_accom(client: PmsClient, prop_: Property) -> None:
    order_id = await book(client, stay(prop_.r101), stay(prop_.r102, TOMORROW))
    (only,) = await client.get_check_in_accom(req(t.OrderRef, order_id=order_id))
    assert (only.room_id, only.room_name, only.checkin_start_time) == (
        prop_.r101, "101", datetime.fromtimestamp(T0, UTC),
    )  # fmt: skip


@covers("checkIn")
async def test_check_in(client: PmsClient, prop_: Property) -> None:
    order_id, accom_id = await checked_in(client, prop_)
    d = await detail(client, order_id)
    assert d.accom_list[0].accom_status == t.AccomStatus.CHECKED_IN
    assert d.order_status == t.OrderStatus.IN_PROGRESS
    again = [{"accom_id": accom_id, "room_id": prop_.r101}]
    with refused(CONFLICT):  # already checked in
        await client.check_in(req(t.CheckInRequest, order_id=order_id, checkin_rooms=again))
    dirty_order = await book(client, stay(prop_.r102))
    prop_.set_dirty(prop_.r102)
    rooms = [{"accom_id": await first_accom(client, dirty_order), "room_id": prop_.r102}]
    with pytest.raises(PmsError, match="dirty"):
        await client.check_in(req(t.CheckInRequest, order_id=dirty_order, checkin_rooms=rooms))
    later = await book(client, stay(prop_.r102, TOMORROW))
    rooms = [{"accom_id": await first_accom(client, later), "room_id": prop_.r102}]
    prop_.set_dirty(prop_.r102, False)
    with pytest.raises(PmsError, match="not today"):
        await client.check_in(req(t.CheckInRequest, order_id=later, checkin_rooms=rooms))


@covers("cancelBook")
async def test_cancel_book(client: PmsClient, prop_: Property) -> None:
    order_id = await book(client, stay(prop_.r101))
    accom_id = await first_accom(client, order_id)
    await client.cancel_book(req(t.CancelBookRequest, accom_ids=[accom_id], penalty_amount="50.00"))
    d = await detail(client, order_id)
    assert d.accom_list[0].accom_status == t.AccomStatus.CANCELLED
    assert d.accom_list[0].penalty_amount == Decimal("50.00")
    assert d.order_status == t.OrderStatus.CANCELLED and d.total_amount == Decimal("50.00")
    await book(client, stay(prop_.r101))  # the room is free again
    rooms = [{"accom_id": accom_id, "room_id": prop_.r101}]
    with pytest.raises(PmsError, match=r"cancelled \(50\)"):
        await client.check_in(req(t.CheckInRequest, order_id=order_id, checkin_rooms=rooms))
    with refused(CONFLICT):
        await client.cancel_book(req(t.CancelBookRequest, accom_ids=[accom_id]))


@covers("listOccupied")
async def test_list_occupied(client: PmsClient, prop_: Property) -> None:
    await book(client, stay(prop_.r101))
    prop_.set_dirty(prop_.r102)
    occ = await client.list_occupied(
        req(t.OccupancyRequest, room_type_id=prop_.king, start_date=T0, end_date=T0 + DAY)
    )
    assert (occ.occupy_room_ids, occ.dirty_room_ids) == ([prop_.r101], [prop_.r102])
    later = await client.list_occupied(
        req(t.OccupancyRequest, room_type_id=prop_.king, start_date=TOMORROW[0],
            end_date=TOMORROW[1])
    )  # fmt: skip
    assert later.occupy_room_ids == []


@covers("checkRoomAvailability")
async def test_check_room_availability(client: PmsClient, prop_: Property) -> None:
    await book(client, stay(prop_.r101))

    async def check(room_id: int, span: tuple[int, int]) -> t.RoomAvailability:
        return await client.check_room_availability(
            req(t.RoomAvailabilityRequest, room_id=room_id, start_date=span[0], end_date=span[1])
        )

    taken = await check(prop_.r101, (T0 - DAY, T0 + HOUR))
    assert not taken.is_available and taken.room_name == "101"
    assert taken.occupied_end_time == datetime.fromtimestamp(TODAY[1], UTC)
    free = await check(prop_.r101, TOMORROW)
    assert free.is_available and free.occupied_end_time is None
    with refused(BAD_PARAMS):  # an empty interval
        await check(prop_.r101, (T0, T0))


@covers("batchGetAccomAvailability")
async def test_batch_get_accom_availability(client: PmsClient, prop_: Property) -> None:
    _, accom_id = await checked_in(client, prop_)
    await book(client, stay(prop_.r101, (TOMORROW[0] + DAY, TOMORROW[1] + DAY)))
    ask = [
        {"accom_id": accom_id, "checkin_end_time": TOMORROW[1]},
        {"accom_id": accom_id, "checkin_end_time": TOMORROW[1] + DAY},
    ]
    ok, clash = await client.batch_get_accom_availability(
        req(t.AccomAvailabilityRequest, accom_list=ask)
    )
    assert ok.is_available and ok.room_id == prop_.r101
    assert not clash.is_available
    assert clash.occupied_end_time == datetime.fromtimestamp(TOMORROW[1] + DAY, UTC)


@covers("listCheckInRoom")
async def test_list_check_in_room(client: PmsClient, prop_: Property) -> None:
    created = prop_.call(
        "create",
        {"pms_id": PMS_ID, "name": "G", "reminder_list": [],
         "room_list": [stay(prop_.r101), stay(0, room_type_id=prop_.king)]},
    )  # fmt: skip
    order_id = created["order_id"]

    async def listed(arrange: int) -> list[t.CheckInRoomOption]:
        return await client.list_check_in_room(
            req(t.CheckInRoomsRequest, order_id=order_id, arrange_status=arrange)
        )

    assert [o.room_id for o in await listed(0)] == [prop_.r101, 0]
    (unassigned,) = await listed(10)
    assert unassigned.room_full_name == "King 大床房" and unassigned.is_available
    (assigned,) = await listed(20)
    assert assigned.total_days == 1 and assigned.amount == Decimal("300.00")
    prop_.set_dirty(prop_.r101)
    assert not (await listed(20))[0].is_available


@covers("getRoomStatus")
async def test_get_room_status(client: PmsClient, prop_: Property) -> None:
    await checked_in(client, prop_)
    order_id = await book(client, stay(prop_.r102))
    accom_id = await first_accom(client, order_id)
    prop_.set_dirty(prop_.r102)
    states = await client.get_room_status(
        req(t.RoomStatusRequest, accom_id=accom_id, room_type_id=prop_.king,
            start_date=TODAY[0], end_date=TODAY[1])
    )  # fmt: skip
    by_id = {s.room_id: s for s in states}
    assert by_id[prop_.r101].is_occupied and not by_id[prop_.r101].is_pre_checkout
    # the asking stay does not occupy its own room
    assert not by_id[prop_.r102].is_occupied and by_id[prop_.r102].is_dirty
    with refused(NOT_FOUND):
        await client.get_room_status(
            req(t.RoomStatusRequest, accom_id=999, room_type_id=prop_.king,
                start_date=T0, end_date=T0 + DAY)
        )  # fmt: skip


@covers("extendCheckIn")
async def test_extend_check_in(client: PmsClient, prop_: Property) -> None:
    order_id, accom_id = await checked_in(client, prop_)
    new_end = TODAY[1] + DAY
    await client.extend_check_in(
        req(t.ExtendCheckInRequest,
            extends=[{"accom_id": accom_id, "checkin_end_time": new_end, "amount": "300.00"}])
    )  # fmt: skip
    a = (await detail(client, order_id)).accom_list[0]
    assert a.checkin_end_time == datetime.fromtimestamp(new_end, UTC)
    assert a.amount == Decimal("600.00")
    await book(client, stay(prop_.r101, (new_end + 2 * HOUR, new_end + DAY)))
    with refused(CONFLICT):
        await client.extend_check_in(
            req(t.ExtendCheckInRequest,
                extends=[{"accom_id": accom_id, "checkin_end_time": new_end + DAY,
                          "amount": "300.00"}])
        )  # fmt: skip


@covers("getOrderMaxRenewDays")
async def test_get_order_max_renew_days(client: PmsClient, prop_: Property) -> None:
    order_id, accom_id = await checked_in(client, prop_)
    days = await client.get_order_max_renew_days(req(t.OrderRef, order_id=order_id))
    assert (days.max_count, days.days_by_accom) == (30, {accom_id: 30})
    await book(client, stay(prop_.r101, (TODAY[0] + 3 * DAY, TODAY[1] + 3 * DAY)))
    days = await client.get_order_max_renew_days(req(t.OrderRef, order_id=order_id))
    assert (days.max_count, days.days_by_accom) == (2, {accom_id: 2})  # nights of 5th, 6th


@covers("cancelAccomStatus")
async def test_cancel_accom_status(client: PmsClient, prop_: Property) -> None:
    order_id, accom_id = await checked_in(client, prop_)
    await client.cancel_accom_status(req(t.AccomRef, accom_id=accom_id))
    assert (await detail(client, order_id)).accom_list[0].accom_status == t.AccomStatus.BOOKED
    with refused(CONFLICT):  # a booked stay has nothing to revoke
        await client.cancel_accom_status(req(t.AccomRef, accom_id=accom_id))
    rooms = [{"accom_id": accom_id, "room_id": prop_.r101}]
    await client.check_in(req(t.CheckInRequest, order_id=order_id, checkin_rooms=rooms))
    fees = [{"accom_id": accom_id, "type": 10, "amount": "0.00"}]
    await client.check_out(req(t.CheckOutRequest, order_id=order_id, type=2, room_list=fees))
    await client.cancel_accom_status(req(t.AccomRef, accom_id=accom_id))
    a = (await detail(client, order_id)).accom_list[0]
    assert a.accom_status == t.AccomStatus.CHECKED_IN


# --- bills, cashier, check-out, settle -----------------------------------------------------


@covers("getBillSummary")
async def test_get_bill_summary(client: PmsClient, prop_: Property) -> None:
    order_id = await book(client, stay(prop_.r101), stay(prop_.r102))
    accom_id = await first_accom(client, order_id)
    bill = {"consume_id": 2, "date": "2026-03-05", "price": "40.00", "num": 2}
    await client.add_accom_bill(req(t.AddAccomBillRequest, accom_id=accom_id, bill_list=[bill]))
    await pay(client, order_id, "100.00")
    s = await client.get_bill_summary(req(t.BillSummaryRequest, order_id=order_id))
    assert (s.order_amount, s.unconfirmed_amount, s.confirmed_amount) == (
        Decimal("680.00"), Decimal("680.00"), Decimal("0.00"),
    )  # fmt: skip
    assert (s.cash_amount, s.cash_count, s.balance) == (Decimal("100.00"), 1, Decimal("0.00"))
    assert s.unchecked_amount == Decimal("80.00") and s.order_consume_num == 3
    assert [(c.name, c.amount, c.count) for c in s.accom_consume_list] == [
        ("King 大床房-101", Decimal("380.00"), 2), ("King 大床房-102", Decimal("300.00"), 1),
    ]  # fmt: skip
    part = await client.get_bill_summary(
        req(t.BillSummaryRequest, order_id=order_id, accom_ids=[accom_id])
    )
    assert part.order_amount == Decimal("380.00")


@covers("getBillList")
async def test_get_bill_list(client: PmsClient, prop_: Property) -> None:
    order_id = await book(client, stay(prop_.r101))
    accom_id = await first_accom(client, order_id)
    bills = [
        {"consume_id": 1, "date": "2026-03-04", "price": f"{n}.00", "num": 1} for n in (1, 2, 3)
    ]
    await client.add_accom_bill(req(t.AddAccomBillRequest, accom_id=accom_id, bill_list=bills))
    await pay(client, order_id, "10.00")
    page2 = await client.get_bill_list(
        req(t.BillListRequest, type=10, order_id=order_id, page_no=2, page_size=2)
    )
    assert (page2.total, page2.page_no, [b.amount for b in page2.bills]) == (
        3, 2, [Decimal("3.00")],
    )  # fmt: skip
    (cash,) = (await client.get_bill_list(req(t.BillListRequest, type=20, order_id=order_id))).bills
    assert (cash.remark, cash.amount, cash.status, cash.accom_id) == (
        "ref-1", Decimal("10.00"), t.BillStatus.UNSETTLED, 0,
    )  # fmt: skip
    none = await client.get_bill_list(req(t.BillListRequest, type=10, order_id=order_id, status=20))
    assert none.total == 0 and none.bills == []


@covers("updateBill")
async def test_update_bill(client: PmsClient, prop_: Property) -> None:
    order_id = await book(client, stay(prop_.r101))
    await pay(client, order_id, "10.00")
    (cash,) = (await client.get_bill_list(req(t.BillListRequest, type=20, order_id=order_id))).bills
    await client.update_bill(req(t.UpdateBillRequest, bill_id=cash.bill_id, remark="ref-2"))
    (cash,) = (await client.get_bill_list(req(t.BillListRequest, type=20, order_id=order_id))).bills
    assert cash.remark == "ref-2"
    with refused(NOT_FOUND):
        await client.update_bill(req(t.UpdateBillRequest, bill_id=999, remark="x"))


@covers("cancelBill")
async def test_cancel_bill(client: PmsClient, prop_: Property) -> None:
    order_id = await book(client, stay(prop_.r101))
    await pay(client, order_id, "120.00")
    (cash,) = (await client.get_bill_list(req(t.BillListRequest, type=20, order_id=order_id))).bills
    await client.cancel_bill(req(t.BillRef, bill_id=cash.bill_id))
    d = await detail(client, order_id)
    assert d.total_payed_amount == 0
    with pytest.raises(PmsError, match="status 70"):
        await client.cancel_bill(req(t.BillRef, bill_id=cash.bill_id))


@covers("cashier")
async def test_cashier(client: PmsClient, prop_: Property) -> None:
    order_id = await book(client, stay(prop_.r101))
    await pay(client, order_id, "200.00")
    await pay(client, order_id, "50.00", bill_type=20)
    d = await detail(client, order_id)
    assert d.total_payed_amount == Decimal("150.00")
    assert d.bill_summary is not None and d.bill_summary.need_pay_amount == Decimal("150.00")
    with pytest.raises(PmsError, match="refunds more"):
        await pay(client, order_id, "150.01", bill_type=20)
    with refused(NOT_FOUND):
        await pay(client, 404, "1.00")


@covers("checkOut")
async def test_check_out(client: PmsClient, prop_: Property) -> None:
    order_id, accom_id = await checked_in(client, prop_)
    bill = {"consume_id": 1, "date": "2026-03-04", "price": "30.00", "num": 1}
    await client.add_accom_bill(req(t.AddAccomBillRequest, accom_id=accom_id, bill_list=[bill]))
    fees = [{"accom_id": accom_id, "type": 10, "amount": "0.00"}]
    with pytest.raises(PmsUnsettledBills):
        await client.check_out(req(t.CheckOutRequest, order_id=order_id, type=1, room_list=fees))
    d = await detail(client, order_id)  # the refusal changed nothing
    assert d.accom_list[0].accom_status == t.AccomStatus.CHECKED_IN
    payment = [{"bill_type": 10, "name": "Card", "amount": "30.00"}]
    await client.check_out(
        req(t.CheckOutRequest, order_id=order_id, type=1, room_list=fees, bill_list=payment)
    )
    d = await detail(client, order_id)
    assert d.accom_list[0].accom_status == t.AccomStatus.CHECKED_OUT
    assert d.order_status == t.OrderStatus.COMPLETED
    assert d.accom_list[0].checkout_status == t.CheckoutStatus.SETTLED
    listing = await client.get_all_room_list(req(t.AllRoomListRequest, pms_id=PMS_ID))
    assert listing.room_types[0].rooms[0].is_dirty == t.YesNo.YES  # check-out dirties the room


@covers("settle")
async def test_settle_refusals_444_to_447(client: PmsClient, prop_: Property) -> None:
    order_id, accom_id = await checked_in(client, prop_)
    booked = await book(client, stay(prop_.r102))
    with pytest.raises(PmsReservedRoomsExist):
        await client.settle(req(t.SettleRequest, order_id=booked))
    with pytest.raises(PmsRoomsNotCheckedOut):
        await client.settle(req(t.SettleRequest, order_id=order_id))
    fees = [{"accom_id": accom_id, "type": 30, "amount": "0.00"}]  # a full night more: 300.00
    with pytest.raises(PmsUnsettledBills):
        await client.settle(req(t.SettleRequest, order_id=order_id, room_list=fees))
    too_much = [{"bill_type": 10, "name": "Card", "amount": "300.01"}]
    with pytest.raises(PmsOverpaid):
        await client.settle(
            req(t.SettleRequest, order_id=order_id, room_list=fees, bill_list=too_much)
        )
    exact = [{"bill_type": 10, "name": "Card", "amount": "300.00"}]
    await client.settle(req(t.SettleRequest, order_id=order_id, room_list=fees, bill_list=exact))
    d = await detail(client, order_id)
    assert d.order_status == t.OrderStatus.COMPLETED and d.total_amount == Decimal("600.00")
    with refused(CONFLICT):
        await client.settle(req(t.SettleRequest, order_id=order_id))


@covers("cancelSettle")
async def test_cancel_settle(client: PmsClient, prop_: Property) -> None:
    order_id, accom_id = await checked_in(client, prop_)
    with refused(CONFLICT):
        await client.cancel_settle(req(t.OrderRef, order_id=order_id))
    fees = [{"accom_id": accom_id, "type": 10, "amount": "0.00"}]
    await client.settle(req(t.SettleRequest, order_id=order_id, room_list=fees))
    await client.cancel_settle(req(t.OrderRef, order_id=order_id))
    d = await detail(client, order_id)
    assert d.order_status == t.OrderStatus.IN_PROGRESS
    bills = await client.get_bill_list(req(t.BillListRequest, type=20, order_id=order_id))
    assert [b.status for b in bills.bills] == [t.BillStatus.UNSETTLED]


@covers("listCheckout")
async def test_list_checkout(client: PmsClient, prop_: Property) -> None:
    order_id, accom_id = await checked_in(client, prop_)
    (row,) = await client.list_checkout(
        req(t.CheckoutListRequest, order_id=order_id, accom_status=[70, 80])
    )
    assert (row.accom_id, row.checkout_type, row.total_days) == (
        accom_id,
        t.CheckoutTiming.EARLY,
        1,
    )
    assert row.current_room_amount == Decimal("300.00") and row.has_future_bill == t.YesNo.NO
    assert await client.list_checkout(
        req(t.CheckoutListRequest, order_id=order_id, accom_status=[80])
    ) == []  # fmt: skip


@covers("calculateCheckoutAmount")
async def test_calculate_checkout_amount(client: PmsClient, prop_: Property) -> None:
    order_id, accom_id = await checked_in(client, prop_)

    async def calc(fee_type: int, amount: str = "0.00") -> t.CheckoutAmount:
        fees = [{"accom_id": accom_id, "type": fee_type, "amount": amount}]
        return await client.calculate_checkout_amount(
            req(t.CheckoutAmountRequest, order_id=order_id, room_list=fees)
        )

    half = await calc(50)
    assert half.accom_list[0].current_room_amount == Decimal("150.00")
    assert (half.order_amount, half.paid_amount, half.need_paid_amount) == (
        Decimal("450.00"), Decimal("300.00"), Decimal("150.00"),
    )  # fmt: skip
    custom = await calc(70, "12.34")
    assert custom.need_paid_amount == Decimal("12.34")
    assert (await calc(40)).need_paid_amount == 0
    # a calculation changes nothing
    assert (await detail(client, order_id)).total_amount == Decimal("300.00")


# --- logs and reminders --------------------------------------------------------------------


@covers("getOrderLogs")
async def test_get_order_logs(client: PmsClient, prop_: Property) -> None:
    order_id, accom_id = await checked_in(client, prop_)
    logs = (await client.get_order_logs(req(t.OrderLogsRequest, order_id=order_id))).logs
    assert [log.event_type for log in logs] == [10, 70, 30]
    assert logs[0].event_data["accommodations"][0]["room_name"] == "King 大床房-101"
    assert logs[0].created_date == "2026-03-04 14:00:00"  # the property's local time
    bill_logs = await client.get_order_logs(req(t.OrderLogsRequest, order_id=order_id, log_type=20))
    assert [log.event_type_text for log in bill_logs.logs] == ["收银事件"]
    per_stay = await client.get_order_logs(
        req(t.OrderLogsRequest, order_id=order_id, accom_id=accom_id)
    )
    assert [log.event_type for log in per_stay.logs] == [30]


@covers("createReminder", "updateReminder", "deleteReminder")
async def test_reminders(client: PmsClient, prop_: Property) -> None:
    order_id = await book(client, stay(prop_.r101))
    created = await client.create_reminder(
        req(t.CreateReminderRequest, order_id=order_id, remind_date=T0 + HOUR, content="Cot")
    )
    await client.update_reminder(
        req(t.UpdateReminderRequest, remind_id=created.remind_id, remind_date=T0, content="Crib")
    )
    (r,) = (await detail(client, order_id)).reminder_list
    assert (r.remind_id, r.content, r.remind_date) == (created.remind_id, "Crib", SIM_NOW)
    await client.delete_reminder(req(t.ReminderRef, remind_id=created.remind_id))
    assert (await detail(client, order_id)).reminder_list == []
    with refused(NOT_FOUND):
        await client.delete_reminder(req(t.ReminderRef, remind_id=created.remind_id))
    logs = (await client.get_order_logs(req(t.OrderLogsRequest, order_id=order_id))).logs
    assert [log.event_type for log in logs].count(150) == 3


# --- keys ----------------------------------------------------------------------------------


@covers("generateRoomCard")
async def test_generate_room_card(client: PmsClient, prop_: Property) -> None:
    order_id = await book(client, stay(prop_.r101))
    accom_id = await first_accom(client, order_id)
    with pytest.raises(PmsError, match=r"booked \(40\)"):
        await client.generate_room_card(req(t.AccomRef, accom_id=accom_id))
    await client.check_in(
        req(t.CheckInRequest, order_id=order_id,
            checkin_rooms=[{"accom_id": accom_id, "room_id": prop_.r101}])
    )  # fmt: skip
    card = await client.generate_room_card(req(t.AccomRef, accom_id=accom_id))
    expected = {"room_id": prop_.r101, "check_in_time": TODAY[0], "check_out_time": TODAY[1]}
    assert card.card_bytes == json.dumps(expected, separators=(",", ":")).encode()


@covers("addAccomCard", "getAllAccomCard")
async def test_accom_cards(client: PmsClient, prop_: Property) -> None:
    booked = await first_accom(client, await book(client, stay(prop_.r102)))
    with refused(CONFLICT):
        await client.add_accom_card(
            req(t.AddAccomCardRequest, accom_id=booked, card_uid="99EED5C1")
        )
    _, accom_id = await checked_in(client, prop_)
    for uid in ("99eed5c1", "99EED5C1", "04A1B2C3D4E5F6"):  # the same card twice: one record
        await client.add_accom_card(req(t.AddAccomCardRequest, accom_id=accom_id, card_uid=uid))
    cards = await client.get_all_accom_card(req(t.AccomRef, accom_id=accom_id))
    assert [(c.card_uid, c.card_name, c.card_type) for c in cards] == [
        ("99EED5C1", "King 大床房-101", 4), ("04A1B2C3D4E5F6", "King 大床房-101", 4),
    ]  # fmt: skip
    assert cards[0].start_date == SIM_NOW
    for bad in ("99EED5C", "99EED5C1ZZ", "XYZXYZXY"):
        with refused(BAD_PARAMS):
            await client.add_accom_card(req(t.AddAccomCardRequest, accom_id=accom_id, card_uid=bad))
    assert await client.get_all_accom_card(req(t.AccomRef, accom_id=booked)) == []


@covers("remoteUnlock")
async def test_remote_unlock(client: PmsClient, prop_: Property, sim_server: SimServer) -> None:
    _, accom_id = await checked_in(client, prop_)
    await client.remote_unlock(req(t.AccomRef, accom_id=accom_id))
    with sim_server.db.transaction() as conn:
        unlocks = conn.execute("SELECT accom_id FROM pms_unlock").fetchall()
    assert [u[0] for u in unlocks] == [accom_id]
    _, suite = await checked_in(client, prop_, prop_.r501)
    with pytest.raises(PmsError, match="no gateway"):
        await client.remote_unlock(req(t.AccomRef, accom_id=suite))


def _password(accom_id: int, start: int = TODAY[0], end: int = TODAY[1]) -> Any:
    return req(
        t.SendOfflinePasswordRequest, accom_id=accom_id, start_time=start, end_time=end,
        phone_list=[{"country_code": "+86", "phone": "13800000000"}],
    )  # fmt: skip


@covers("sendOfflinePassword", "getAccomAllLockPassword", "deleteOfflinePassword")
async def test_offline_passwords(client: PmsClient, prop_: Property) -> None:
    order_id, accom_id = await checked_in(client, prop_)
    await client.send_offline_password(_password(accom_id))
    with refused(BAD_PARAMS):  # outside the stay
        await client.send_offline_password(_password(accom_id, end=TODAY[1] + HOUR))
    (entry,) = await client.get_accom_all_lock_password(req(t.OrderRef, order_id=order_id))
    assert entry.device_lock is not None and entry.device_lock.device_no == "101"
    (pwd,) = entry.password_list
    assert len(pwd.keyboard_pwd) == 10 and pwd.keyboard_pwd.isdigit()
    assert pwd.phone_list[0].phone == "13800000000"
    delete = req(t.DeletePasswordRequest, accom_id=accom_id, pwd_id=pwd.pwd_id)
    await client.delete_offline_password(delete)
    (entry,) = await client.get_accom_all_lock_password(req(t.OrderRef, order_id=order_id))
    assert entry.password_list == []
    with refused(NOT_FOUND):
        await client.delete_offline_password(delete)
    _, suite = await checked_in(client, prop_, prop_.r501)
    with pytest.raises(PmsError, match="no keypad"):  # a card lock
        await client.send_offline_password(_password(suite))


@covers("sendAccessLockKey", "getAccomAllAccessKeys", "deleteAccessKey")
async def test_access_keys(client: PmsClient, prop_: Property) -> None:
    order_id, accom_id = await checked_in(client, prop_)
    send = req(
        t.SendAccessKeyRequest, accom_id=accom_id, start_time=TODAY[0], end_time=TODAY[1],
        receiver_name="Guest", receiver_account="13800000000", country_code="+86",
    )  # fmt: skip
    await client.send_access_lock_key(send)
    (entry,) = await client.get_accom_all_access_keys(req(t.OrderRef, order_id=order_id))
    (key,) = entry.key_list
    assert key.receiver_account == "13800000000" and key.end_date.timestamp() == TODAY[1]
    await client.delete_access_key(req(t.DeleteAccessKeyRequest, accom_id=accom_id, id=key.key_id))
    (entry,) = await client.get_accom_all_access_keys(req(t.OrderRef, order_id=order_id))
    assert entry.key_list == []
    with refused(NOT_FOUND):
        await client.delete_access_key(
            req(t.DeleteAccessKeyRequest, accom_id=accom_id, id=key.key_id)
        )
    cancelled = await first_accom(client, await book(client, stay(prop_.r102)))
    await client.cancel_book(req(t.CancelBookRequest, accom_ids=[cancelled]))
    with refused(CONFLICT):
        await client.send_access_lock_key(send.model_copy(update={"accom_id": cancelled}))


def test_every_operation_has_a_contract_test() -> None:
    assert set(OPERATIONS) == COVERED
    assert set(pms.ROUTES) == {op.path for op in OPERATIONS.values()}
