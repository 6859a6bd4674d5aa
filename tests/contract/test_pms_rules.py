"""Rules of the simulated PMS over real HTTP: a guest's whole stay, cancellation, restart,
racing bookings, unassigned stays, walk-ins, and requests that are malformed on purpose."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiosk.api import PmsError
from kiosk.api import pms_types as t
from kiosk.api.pms import PmsClient
from kiosk.sim import pms
from kiosk.sim.params import BAD_PARAMS, CONFLICT, NOT_FOUND
from kiosk.sim.server import SimServer
from tests.conftest import SIM_TOKEN, SimClock
from tests.contract import test_pms_contract as contract
from tests.contract.test_pms_contract import (
    DAY,
    PMS_ID,
    TODAY,
    Property,
    book,
    checked_in,
    detail,
    first_accom,
    pay,
    refused,
    req,
    stay,
)

pytestmark = pytest.mark.timeout(60)

client, prop_ = contract.client, contract.prop_  # the contract tests' fixtures

GUEST = {
    "name": "Zhang Wei",
    "phone": "13912345678",
    "id_type": 10,
    "id_number": "110101199001011234",
}


async def test_full_lifecycle(client: PmsClient, prop_: Property) -> None:
    order_id = await book(client, stay(prop_.r101, amount="388.00"))
    accom_id = await first_accom(client, order_id)
    await client.update_accom_tenant(
        req(t.UpdateAccomTenantRequest, accom_id=accom_id, tenant_list=[GUEST])
    )
    minibar = {"consume_id": 1, "date": "2026-03-04", "price": "12.00", "num": 1}
    await client.add_accom_bill(req(t.AddAccomBillRequest, accom_id=accom_id, bill_list=[minibar]))
    summary = await client.get_bill_summary(req(t.BillSummaryRequest, order_id=order_id))
    assert summary.order_amount - summary.balance == Decimal("400.00")
    await pay(client, order_id, "400.00")
    (ready,) = await client.get_check_in_accom(req(t.OrderRef, order_id=order_id))
    assert ready.accom_id == accom_id
    rooms = [{"accom_id": accom_id, "room_id": ready.room_id}]
    await client.check_in(req(t.CheckInRequest, order_id=order_id, checkin_rooms=rooms))

    card = await client.generate_room_card(req(t.AccomRef, accom_id=accom_id))
    payload = json.loads(card.card_bytes)
    assert list(payload) == ["room_id", "check_in_time", "check_out_time"]
    assert payload == {
        "room_id": prop_.r101,
        "check_in_time": TODAY[0],
        "check_out_time": TODAY[1],
    }
    await client.add_accom_card(req(t.AddAccomCardRequest, accom_id=accom_id, card_uid="99EED5C1"))

    extension = {"accom_id": accom_id, "checkin_end_time": TODAY[1] + DAY, "amount": "388.00"}
    await client.extend_check_in(req(t.ExtendCheckInRequest, extends=[extension]))
    # the card written before the extension is stale: a new payload carries the new end
    renewed = json.loads(
        (await client.generate_room_card(req(t.AccomRef, accom_id=accom_id))).card_bytes
    )
    assert renewed["check_out_time"] == TODAY[1] + DAY

    out = [{"accom_id": accom_id, "type": 10, "amount": "0.00"}]
    await client.check_out(req(t.CheckOutRequest, order_id=order_id, type=2, room_list=out))
    d = await detail(client, order_id)
    assert d.accom_list[0].accom_status == t.AccomStatus.CHECKED_OUT
    assert d.order_status == t.OrderStatus.IN_PROGRESS  # checked out, folio still open
    assert d.bill_summary is not None and d.bill_summary.need_pay_amount == Decimal("388.00")
    payment = [{"bill_type": 10, "name": "Card", "amount": "388.00"}]
    await client.settle(req(t.SettleRequest, order_id=order_id, bill_list=payment))

    d = await detail(client, order_id)
    assert d.order_status == t.OrderStatus.COMPLETED
    assert (d.total_amount, d.total_payed_amount) == (Decimal("788.00"), Decimal("788.00"))
    assert d.accom_list[0].tenant_list[1].id_number == GUEST["id_number"]
    logs = (await client.get_order_logs(req(t.OrderLogsRequest, order_id=order_id))).logs
    assert [log.event_type for log in logs] == [10, 80, 60, 70, 30, 120, 40, 70, 110]
    cards = await client.get_all_accom_card(req(t.AccomRef, accom_id=accom_id))
    assert [c.card_uid for c in cards] == ["99EED5C1"]


async def test_cancellation_with_penalty(client: PmsClient, prop_: Property) -> None:
    order_id = await book(client, stay(prop_.r101), stay(prop_.r102))
    first, second = (a.accom_id for a in (await detail(client, order_id)).accom_list)
    await pay(client, order_id, "100.00")
    await client.cancel_book(
        req(t.CancelBookRequest, accom_ids=[first, second], penalty_amount="80.00")
    )
    d = await detail(client, order_id)
    assert d.order_status == t.OrderStatus.CANCELLED
    assert [a.penalty_amount for a in d.accom_list] == [Decimal("80.00"), Decimal("0.00")]
    assert not d.status_control.is_show_checkin and not d.status_control.is_show_cancel_book
    with pytest.raises(PmsError, match="447"):  # 100 paid, 80 owed
        await client.settle(req(t.SettleRequest, order_id=order_id))
    refund = [{"bill_type": 20, "name": "Refund", "amount": "20.00"}]
    await client.settle(req(t.SettleRequest, order_id=order_id, bill_list=refund))
    assert (await detail(client, order_id)).order_status == t.OrderStatus.COMPLETED
    await book(client, stay(prop_.r101), stay(prop_.r102))  # both rooms are free again


async def test_state_survives_a_restart(
    sim_server: SimServer, sim_db_path: Path, sim_clock: SimClock, prop_: Property
) -> None:
    async with PmsClient(sim_server.url, SIM_TOKEN, read_retries=0) as c:
        order_id = await book(c, stay(prop_.r101))
        await pay(c, order_id, "300.00")
        before = (await detail(c, order_id)).model_dump()
    sim_server.stop()
    sim_server.db.close()
    with SimServer(sim_db_path, SIM_TOKEN, clock=sim_clock) as again:
        async with PmsClient(again.url, SIM_TOKEN, read_retries=0) as c:
            assert (await detail(c, order_id)).model_dump() == before
            with pytest.raises(PmsError, match=f"error_code {CONFLICT}"):
                await book(c, stay(prop_.r101))  # the booking still holds the room
            assert await book(c, stay(prop_.r102)) == order_id + 1


async def test_two_kiosks_race_for_the_last_room(sim_server: SimServer, prop_: Property) -> None:
    """Both ask for the same free room at once: exactly one booking wins, every time."""
    async with (
        PmsClient(sim_server.url, SIM_TOKEN, read_retries=0) as a,
        PmsClient(sim_server.url, SIM_TOKEN, read_retries=0) as b,
    ):
        for night in range(3):
            span = (TODAY[0] + night * DAY, TODAY[1] + night * DAY)
            results = await asyncio.gather(
                book(a, stay(prop_.r501, span)), book(b, stay(prop_.r501, span)),
                return_exceptions=True,
            )  # fmt: skip
            wins = [r for r in results if isinstance(r, int)]
            losses = [r for r in results if isinstance(r, PmsError)]
            assert len(wins) == 1 and len(losses) == 1, results
            assert losses[0].error_code == CONFLICT


async def test_unassigned_stay_holds_a_room_of_its_type(client: PmsClient, prop_: Property) -> None:
    # The client's model has no room_type_id (the simulator's extension for room_id 0).
    order_id = prop_.call(
        "create",
        {"pms_id": PMS_ID, "name": "G", "reminder_list": [],
         "room_list": [stay(0, room_type_id=prop_.suite)]},
    )["order_id"]  # fmt: skip
    accom_id = await first_accom(client, order_id)
    assert await client.get_check_in_accom(req(t.OrderRef, order_id=order_id)) == []
    with pytest.raises(PmsError, match=f"error_code {CONFLICT}"):  # the suite's only room
        await book(client, stay(prop_.r501))
    wrong_type = [{"accom_id": accom_id, "room_id": prop_.r101}]
    with pytest.raises(PmsError, match="room type"):
        await client.check_in(req(t.CheckInRequest, order_id=order_id, checkin_rooms=wrong_type))
    rooms = [{"accom_id": accom_id, "room_id": prop_.r501}]
    await client.check_in(req(t.CheckInRequest, order_id=order_id, checkin_rooms=rooms))
    a = (await detail(client, order_id)).accom_list[0]
    assert (a.room_id, a.accom_status) == (prop_.r501, t.AccomStatus.CHECKED_IN)


async def test_walk_in_is_a_direct_check_in(client: PmsClient, prop_: Property) -> None:
    order_id = await book(client, stay(prop_.r101, accom_status=70))
    d = await detail(client, order_id)
    assert d.order_status == t.OrderStatus.IN_PROGRESS
    logs = (await client.get_order_logs(req(t.OrderLogsRequest, order_id=order_id))).logs
    assert [log.event_type for log in logs] == [20]
    prop_.set_dirty(prop_.r102)
    with pytest.raises(PmsError, match="dirty"):
        await book(client, stay(prop_.r102, accom_status=70))
    with pytest.raises(PmsError, match="not today"):
        await book(client, stay(prop_.r102, (TODAY[0] + DAY, TODAY[1] + DAY), accom_status=70))


async def test_an_overdue_guest_keeps_the_room(
    client: PmsClient, prop_: Property, sim_clock: SimClock
) -> None:
    await book(client, stay(prop_.r101, accom_status=70))
    sim_clock.now += timedelta(days=1)  # past the booked end, not checked out
    tomorrow = (TODAY[0] + DAY, TODAY[1] + DAY)
    with pytest.raises(PmsError, match=f"error_code {CONFLICT}"):
        await book(client, stay(prop_.r101, tomorrow))


# --- no double occupancy (issue 10, item 6) --------------------------------------------------


def _rooms(accom_id: int, room_id: int) -> list[dict[str, int]]:
    return [{"accom_id": accom_id, "room_id": room_id}]


async def _state(client: PmsClient, order_id: int) -> list[tuple[int | None, int]]:
    """(room_id, accom_status) of each stay of the order."""
    return [(a.room_id, a.accom_status) for a in (await detail(client, order_id)).accom_list]


async def test_check_in_refuses_a_room_an_in_house_guest_holds(
    client: PmsClient, prop_: Property
) -> None:
    await checked_in(client, prop_)  # in room 101
    order_id = await book(client, stay(prop_.r102))
    accom_id = await first_accom(client, order_id)
    check_in = req(t.CheckInRequest, order_id=order_id, checkin_rooms=_rooms(accom_id, prop_.r101))
    with refused(CONFLICT):
        await client.check_in(check_in)
    assert await _state(client, order_id) == [(prop_.r102, t.AccomStatus.BOOKED)]
    ok = req(t.CheckInRequest, order_id=order_id, checkin_rooms=_rooms(accom_id, prop_.r102))
    await client.check_in(ok)  # its own room is fine: the refusal was about room 101


async def test_check_in_refuses_a_room_booked_for_another_stay(
    client: PmsClient, prop_: Property
) -> None:
    await book(client, stay(prop_.r101))  # booked tonight, not checked in yet
    order_id = await book(client, stay(0, room_type_id=prop_.king))
    accom_id = await first_accom(client, order_id)
    check_in = req(t.CheckInRequest, order_id=order_id, checkin_rooms=_rooms(accom_id, prop_.r101))
    with refused(CONFLICT):
        await client.check_in(check_in)
    assert await _state(client, order_id) == [(0, t.AccomStatus.BOOKED)]
    ok = req(t.CheckInRequest, order_id=order_id, checkin_rooms=_rooms(accom_id, prop_.r102))
    await client.check_in(ok)


async def test_check_in_refuses_two_stays_into_one_room_in_one_request(
    client: PmsClient, prop_: Property
) -> None:
    order_id = await book(client, stay(prop_.r101), stay(prop_.r102))
    stays = [a.accom_id for a in (await detail(client, order_id)).accom_list]
    both = [{"accom_id": accom_id, "room_id": prop_.r101} for accom_id in stays]
    with refused(CONFLICT):
        await client.check_in(req(t.CheckInRequest, order_id=order_id, checkin_rooms=both))
    booked = [(prop_.r101, t.AccomStatus.BOOKED), (prop_.r102, t.AccomStatus.BOOKED)]
    assert await _state(client, order_id) == booked  # the first stay's check-in rolled back


async def _check_out(client: PmsClient, order_id: int, accom_id: int) -> None:
    fees = [{"accom_id": accom_id, "type": 10, "amount": "0.00"}]
    await client.check_out(req(t.CheckOutRequest, order_id=order_id, type=2, room_list=fees))


async def test_revoking_a_check_out_refuses_a_room_taken_since(
    client: PmsClient, prop_: Property
) -> None:
    first, first_stay = await checked_in(client, prop_)
    await _check_out(client, first, first_stay)  # leaves early: the night is still booked
    prop_.set_dirty(prop_.r101, False)
    second, _ = await checked_in(client, prop_)  # the next guest takes room 101 tonight
    with refused(CONFLICT):
        await client.cancel_accom_status(req(t.AccomRef, accom_id=first_stay))
    assert await _state(client, first) == [(prop_.r101, t.AccomStatus.CHECKED_OUT)]
    assert await _state(client, second) == [(prop_.r101, t.AccomStatus.CHECKED_IN)]


async def test_revoking_an_overdue_check_out_refuses_a_room_taken_after_its_end(
    client: PmsClient, prop_: Property, sim_clock: SimClock
) -> None:
    """Back in the room is checked in and holds it until check-out, past its booked end:
    a guest who came in after that end is in the way too."""
    sim_clock.now -= timedelta(days=1)  # yesterday 14:00: a walk-in until today 12:00
    yesterday = (TODAY[0] - DAY, TODAY[1] - DAY)
    first = await book(client, stay(prop_.r101, yesterday, accom_status=70))
    first_stay = await first_accom(client, first)
    sim_clock.now += timedelta(hours=21)  # today 11:00
    await _check_out(client, first, first_stay)
    prop_.set_dirty(prop_.r101, False)
    sim_clock.now += timedelta(hours=3)  # today 14:00: the next guest comes in
    await checked_in(client, prop_)
    sim_clock.now += timedelta(hours=1)
    with refused(CONFLICT):
        await client.cancel_accom_status(req(t.AccomRef, accom_id=first_stay))
    assert await _state(client, first) == [(prop_.r101, t.AccomStatus.CHECKED_OUT)]


# --- malformed requests: a clean envelope, never a 500 --------------------------------------


@pytest.fixture
async def raw(sim_server: SimServer) -> Any:
    headers = {"Authorization": f"Bearer {SIM_TOKEN}"}
    async with httpx.AsyncClient(base_url=sim_server.url, headers=headers, timeout=5) as http:
        yield http


async def _post(http: httpx.AsyncClient, op: str, body: Any) -> dict[str, Any]:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await http.post(f"/api/v1/pmsOrder/{op}", content=content)
    assert response.status_code == 200
    reply = response.json()
    assert set(reply) == {"error_code", "description", "error_msg", "data"}
    return reply


@pytest.mark.parametrize(
    ("op", "body", "code", "names"),
    [
        ("create", b"{not json", BAD_PARAMS, "JSON"),
        ("create", [1, 2], BAD_PARAMS, "object"),
        ("create", {"pms_id": "1"}, BAD_PARAMS, "pms_id"),
        ("getAccomDetail", {}, BAD_PARAMS, "order_id"),
        ("getAccomDetail", {"order_id": True}, BAD_PARAMS, "order_id"),
        ("cashier", {"order_id": 1, "bills": "x"}, BAD_PARAMS, "bills"),
        ("noSuchOperation", {}, NOT_FOUND, "unknown path"),
    ],
)
async def test_malformed_requests(
    raw: httpx.AsyncClient, prop_: Property, op: str, body: Any, code: int, names: str
) -> None:
    reply = await _post(raw, op, body)
    assert reply["error_code"] == code and names in reply["error_msg"]


async def test_nested_field_errors_name_the_field(raw: httpx.AsyncClient, prop_: Property) -> None:
    base = {"pms_id": PMS_ID, "name": "G", "reminder_list": [], "room_list": [stay(prop_.r101)]}
    cases = [
        ({"room_list": [stay(prop_.r101, amount=1.5)]}, "room_list[0].amount"),
        ({"room_list": [stay(prop_.r101, accom_status=60)]}, "accom_status"),
        ({"room_list": [stay(0)]}, "room_list[0].room_type_id"),
        ({"name": "", "phone": ""}, "name or phone"),
        ({"room_list": []}, "room_list"),
        ({"reminder_list": None}, "reminder_list"),
        ({"room_list": [stay(prop_.r101, checkin_end_time=TODAY[0])]}, "checkin_end_time"),
    ]
    for change, field in cases:
        reply = await _post(raw, "create", {**base, **change})
        assert reply["error_code"] == BAD_PARAMS and field in reply["error_msg"], (change, reply)
    nothing = await _post(raw, "getAccomlist", {"pms_id": PMS_ID, "start_date": 0, "end_date": 1})
    assert nothing["error_code"] == 0  # the refusals above booked nothing
    assert all(line["order_list"] == [] for line in nothing["data"])


async def test_every_operation_refuses_empty_or_mistyped_bodies(
    raw: httpx.AsyncClient, prop_: Property
) -> None:
    """Every operation with an empty body, and with every id a string: a typed refusal."""
    bodies = ({}, {"order_id": "1", "accom_id": "1", "pms_id": "1", "bill_id": "1"})
    for path in pms.ROUTES:
        for body in bodies:
            response = await raw.post(path, json=body)
            reply = response.json()
            assert reply["error_code"] == BAD_PARAMS, (path, body, reply)


async def test_guest_data_stays_out_of_the_simulator_log(
    client: PmsClient, raw: httpx.AsyncClient, prop_: Property, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    order_id = await book(client, stay(prop_.r101, tenant_list=[GUEST]))
    with pytest.raises(PmsError):  # a refusal is logged: with no guest data in it
        await book(client, stay(prop_.r101, tenant_list=[GUEST]))
    accom_id = await first_accom(client, order_id)
    bad = {"accom_id": accom_id, "tenant_list": [{**GUEST, "birthday": GUEST["id_number"]}]}
    reply = await _post(raw, "updateAccomTenant", bad)
    assert reply["error_code"] == BAD_PARAMS and "birthday" in reply["error_msg"]
    assert "refused" in caplog.text
    for secret in (GUEST["name"], GUEST["phone"], GUEST["id_number"], SIM_TOKEN):
        assert secret not in caplog.text
        assert secret not in reply["error_msg"]
