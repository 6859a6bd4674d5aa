"""The PMS adapter against the property simulator over loopback HTTP (seed 004, demo cases)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kiosk.api.pms import OPERATIONS, PmsClient
from kiosk.api.pms_types import AccomRef, BillListRequest, BillListType
from kiosk.backends.base import (
    BackendError,
    BackendUnreachable,
    Guest,
    IdKind,
    Reason,
    Reservation,
    ReservationNotFound,
    StayState,
)
from kiosk.backends.factory import open_backend
from kiosk.backends.pms import PmsBackend
from kiosk.config import BackendConfig
from kiosk.outbox import DurableOutbox
from kiosk.qr_payload import BookingCodeRef, PmsOrderRef
from kiosk.sim.demo import seed_demo
from kiosk.sim.server import SimServer
from tests.conftest import SIM_NOW, SIM_TOKEN
from tests.journey_kit import durable_outbox, pms_backend

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def demo(sim_server: SimServer) -> dict[str, dict[str, Any]]:
    """The demo arrivals by case."""
    return {a["case"]: a for a in seed_demo(sim_server, seed=1)["arrivals"]}


@pytest.fixture
async def client(sim_server: SimServer) -> AsyncIterator[PmsClient]:
    async with PmsClient(sim_server.url, SIM_TOKEN, timeout=2, retry_backoff=0.01) as client:
        yield client  # type: ignore[misc]


ALL_STATES = ("pending", "in_flight", "delivered", "refused", "dead")


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """The kiosk's state directory (the simulator's database is apart)."""
    return tmp_path / "state"


@pytest.fixture
def outbox(client: PmsClient, state_dir: Path) -> DurableOutbox:
    return durable_outbox(state_dir, pms=client)


@pytest.fixture
def backend(sim_server: SimServer, client: PmsClient, outbox: DurableOutbox) -> PmsBackend:
    config = BackendConfig(kind="pms", base_url=sim_server.url, token=SIM_TOKEN)
    backend = open_backend(config, outbox, client=client)
    assert isinstance(backend, PmsBackend)
    return backend


async def find(backend: PmsBackend, arrival: dict[str, Any]) -> Reservation:
    return await backend.find_reservation(PmsOrderRef(arrival["order_id"], arrival["order_no"]))


def operations(outbox: DurableOutbox) -> list[str]:
    return [e.operation for e in outbox.entries(ALL_STATES)]


def states(outbox: DurableOutbox) -> list[tuple[str, str]]:
    return [(e.operation, e.state) for e in outbox.entries(ALL_STATES)]


# --- find_reservation: the demo cases ---------------------------------------------------------


async def test_prepaid(backend: PmsBackend, demo: dict, outbox: DurableOutbox) -> None:
    reservation = await find(backend, demo["prepaid"])
    assert reservation.reservation_id == str(demo["prepaid"]["order_id"])
    assert reservation.reference == demo["prepaid"]["order_no"]
    assert reservation.amount_due == Decimal("0")
    assert reservation.paid == reservation.total == Decimal("388.00")
    assert reservation.currency == "CNY"
    (stay,) = reservation.stays
    assert stay.state is StayState.BOOKED
    assert stay.room is not None and stay.room.name == "201"
    assert stay.room_is_clean
    assert stay.starts == SIM_NOW and stay.ends - stay.starts == timedelta(hours=22)
    (guest,) = stay.guests
    # The demo's prepaid guest is on file: name, passport and its number.
    assert guest.guest_id and guest.registered and guest.id_kind is IdKind.PASSPORT
    assert guest.name.endswith(demo["prepaid"]["second_factor"]["surname"])
    assert outbox.counts() == {}  # looking up writes nothing


async def test_balance_due(backend: PmsBackend, demo: dict) -> None:
    reservation = await find(backend, demo["balance_due"])
    assert reservation.total == Decimal("776.00")
    assert reservation.paid == Decimal("100.00")
    assert reservation.amount_due == Decimal("676.00")


async def test_two_rooms(backend: PmsBackend, demo: dict) -> None:
    reservation = await find(backend, demo["two_rooms"])
    assert sorted(s.room.name for s in reservation.stays if s.room) == ["301", "302"]
    assert len({s.stay_id for s in reservation.stays}) == 2


async def test_unassigned_room_and_the_rooms_it_may_get(backend: PmsBackend, demo: dict) -> None:
    (stay,) = (await find(backend, demo["unassigned_room"])).stays
    assert stay.room is None and stay.state is StayState.BOOKED
    rooms = await backend.assignable_rooms(stay)
    # 501 is booked only from tomorrow 14:00, after this stay ends at noon: free too.
    assert sorted(r.name for r in rooms) == ["501", "502"]  # 503: the amenity guest in house
    assert {r.room_type_id for r in rooms} == {stay.room_type_id}


async def test_dirty_room(backend: PmsBackend, demo: dict) -> None:
    (stay,) = (await find(backend, demo["dirty_room"])).stays
    assert stay.room is not None and stay.room.name == "204"
    assert not stay.room_is_clean
    # King rooms: 201-203 are taken today, 204 is dirty: only 205 may be offered.
    assert [r.name for r in await backend.assignable_rooms(stay)] == ["205"]


@pytest.mark.parametrize(
    ("case", "state"),
    [
        ("already_checked_in", StayState.CHECKED_IN),
        ("cancelled", StayState.CANCELLED),
        ("tomorrow", StayState.BOOKED),
    ],
)
async def test_states(backend: PmsBackend, demo: dict, case: str, state: StayState) -> None:
    (stay,) = (await find(backend, demo[case])).stays
    assert stay.state is state
    if case == "tomorrow":
        assert stay.starts == SIM_NOW + timedelta(days=1)


async def test_unknown_or_mismatched_codes(backend: PmsBackend, demo: dict) -> None:
    with pytest.raises(ReservationNotFound):
        await backend.find_reservation(PmsOrderRef(987654))
    with pytest.raises(ReservationNotFound):
        await backend.find_reservation(PmsOrderRef(demo["prepaid"]["order_id"], "000000"))
    # Without an order number, the order id alone is enough.
    assert await backend.find_reservation(PmsOrderRef(demo["prepaid"]["order_id"]))
    with pytest.raises(BackendError) as caught:
        await backend.find_reservation(BookingCodeRef("r1", "k1"))
    assert caught.value.reason == Reason.WRONG_CODE_KIND


# --- mutations ------------------------------------------------------------------------------


async def test_register_guests_updates_the_tenant_and_adds_one(
    backend: PmsBackend, demo: dict, outbox: DurableOutbox
) -> None:
    (stay,) = (await find(backend, demo["prepaid"])).stays
    first = replace(stay.guests[0], id_kind=IdKind.PASSPORT, id_number="E12345678")
    second = Guest(
        None, name="Anna Smith", id_kind=IdKind.NATIONAL_ID, id_number="110101199001011234"
    )
    await backend.register_guests(stay, [first, second], "ref-guests")
    (after,) = (await find(backend, demo["prepaid"])).stays
    assert len(after.guests) == 2
    assert after.guests[0].guest_id == first.guest_id  # updated in place, not added
    assert all(g.registered for g in after.guests)
    assert {g.id_kind for g in after.guests} == {IdKind.PASSPORT, IdKind.NATIONAL_ID}
    assert operations(outbox) == ["updateAccomTenant"]


async def test_register_guests_refuses_a_guest_the_api_cannot_take(
    backend: PmsBackend, demo: dict, outbox: DurableOutbox
) -> None:
    (stay,) = (await find(backend, demo["prepaid"])).stays
    nameless = Guest(None, id_kind=IdKind.PASSPORT, id_number="E1")
    with pytest.raises(BackendError) as caught:
        await backend.register_guests(stay, [nameless], "ref-bad")
    assert caught.value.reason == Reason.INVALID_GUEST
    assert outbox.counts() == {}


async def test_record_payment_is_applied_once(
    backend: PmsBackend, demo: dict, client: PmsClient, outbox: DurableOutbox, state_dir: Path
) -> None:
    reservation = await find(backend, demo["balance_due"])
    order_id = reservation.reservation_id
    for _ in range(2):
        await backend.record_payment(order_id, reservation.amount_due, "TERM-0001", "pay-1")
    # The kiosk restarted (a new process on the same state directory) replays the reference:
    other = pms_backend(client, durable_outbox(state_dir, pms=client))
    await other.record_payment(order_id, reservation.amount_due, "TERM-0001", "pay-1")
    assert (await find(backend, demo["balance_due"])).amount_due == Decimal("0")
    page = await client.get_bill_list(
        BillListRequest(order_id=int(reservation.reservation_id), list_type=BillListType.CASHIER)
    )
    ours = [b for b in page.bills if "kiosk-ref:pay-1" in b.remark]
    assert len(ours) == 1 and ours[0].amount == Decimal("676.00")
    assert "TERM-0001" in ours[0].remark
    assert states(outbox) == [("cashier", "delivered")]


async def test_check_in_with_a_new_room_and_replay(
    backend: PmsBackend, demo: dict, outbox: DurableOutbox
) -> None:
    reservation = await find(backend, demo["unassigned_room"])
    (stay,) = reservation.stays
    room = (await backend.assignable_rooms(stay))[0]
    await backend.check_in(reservation, {stay.stay_id: room}, "ref-ci")
    await backend.check_in(reservation, {stay.stay_id: room}, "ref-ci")  # replay: nothing sent
    (after,) = (await find(backend, demo["unassigned_room"])).stays
    assert after.state is StayState.CHECKED_IN
    assert after.room is not None and after.room.room_id == room.room_id
    assert operations(outbox) == ["checkIn"]


async def test_check_in_two_rooms(backend: PmsBackend, demo: dict) -> None:
    reservation = await find(backend, demo["two_rooms"])
    rooms = {s.stay_id: s.room for s in reservation.stays if s.room}
    await backend.check_in(reservation, rooms, "ref-two")
    after = await find(backend, demo["two_rooms"])
    assert {s.state for s in after.stays} == {StayState.CHECKED_IN}


@pytest.mark.parametrize("case", ["cancelled", "tomorrow", "dirty_room"])
async def test_check_in_refusals(
    backend: PmsBackend, demo: dict, outbox: DurableOutbox, case: str
) -> None:
    reservation = await find(backend, demo[case])
    rooms = {s.stay_id: s.room for s in reservation.stays if s.room}
    with pytest.raises(BackendError) as caught:
        await backend.check_in(reservation, rooms, f"ref-{case}")
    assert caught.value.reason == Reason.CHECK_IN_REFUSED
    assert all(state == "refused" for _, state in states(outbox))
    assert outbox.depth() == 0  # nothing left for the relay to replay


async def test_key_grant_record_key_and_door_pin(
    backend: PmsBackend, demo: dict, client: PmsClient, outbox: DurableOutbox
) -> None:
    reservation = await find(backend, demo["prepaid"])
    (stay,) = reservation.stays
    assert stay.room is not None
    await backend.check_in(reservation, {stay.stay_id: stay.room}, "ref-ci")
    grant = await backend.key_grant(stay)
    fields = json.loads(grant.payload)
    assert fields["room_id"] == int(stay.room.room_id)
    assert (grant.valid_from, grant.valid_until) == (stay.starts, stay.ends)
    await backend.record_key(stay, "99EED5C1", "ref-card")
    await backend.record_key(stay, "99EED5C1", "ref-card")  # a replay: not sent again
    await backend.record_key(stay, "99eed5c1", "ref-card-again")  # the PMS keeps one card
    cards = await client.get_all_accom_card(AccomRef(accom_id=int(stay.stay_id)))
    assert [c.card_uid.upper() for c in cards] == ["99EED5C1"]
    pin = await backend.door_pin(stay, "ref-pin")
    assert pin and pin.isdigit()
    assert await backend.door_pin(stay, "ref-pin-2") == pin  # the same password, not a new one
    # generateRoomCard reads the stay's key payload: not a write, not in the outbox.
    assert [(e.operation, e.reference) for e in outbox.entries(ALL_STATES)] == [
        ("checkIn", "ref-ci"),
        ("addAccomCard", "ref-card"),
        ("addAccomCard", "ref-card-again"),
        ("sendOfflinePassword", "ref-pin"),
    ]
    assert outbox.counts() == {"delivered": 4}


# --- the outbox, and a back-end that is gone ----------------------------------------------


async def test_outbox_holds_every_mutation_and_only_mutations(
    backend: PmsBackend, demo: dict, outbox: DurableOutbox
) -> None:
    reservation = await find(backend, demo["balance_due"])
    (stay,) = reservation.stays
    assert stay.room is not None
    guest = replace(stay.guests[0], id_kind=IdKind.PASSPORT, id_number="E7")
    await backend.register_guests(stay, [guest], "j-guests")
    await backend.assignable_rooms(stay)
    await backend.record_payment(reservation.reservation_id, reservation.amount_due, "T-9", "j-pay")
    await backend.check_in(reservation, {stay.stay_id: stay.room}, "j-ci")
    await backend.key_grant(stay)
    await backend.record_key(stay, "0A0B0C0D", "j-card")
    await backend.door_pin(stay, "j-pin")
    await find(backend, demo["balance_due"])
    assert operations(outbox) == [
        "updateAccomTenant",
        "cashier",
        "checkIn",
        "addAccomCard",
        "sendOfflinePassword",
    ]
    assert all(not OPERATIONS[op].read for op in operations(outbox))
    assert outbox.counts() == {"delivered": 5}
    references = [e.reference for e in outbox.entries(ALL_STATES)]
    assert references[:4] == ["j-guests", "j-pay", "j-ci", "j-card"]


async def test_backend_down_is_unreachable_and_writes_wait_in_the_outbox(
    backend: PmsBackend, demo: dict, sim_server: SimServer, outbox: DurableOutbox
) -> None:
    # Looked up on another connection: SimServer.stop() leaves open keep-alive
    # connections served, and a back-end that goes down closes them.
    async with PmsClient(sim_server.url, SIM_TOKEN) as other:
        reservation = await find(pms_backend(other, outbox), demo["balance_due"])
    sim_server.stop()
    with pytest.raises(BackendUnreachable) as caught:
        await find(backend, demo["balance_due"])
    assert not caught.value.ambiguous
    # A deferrable write counts as done: it waits in the outbox for the relay.
    await backend.record_payment(reservation.reservation_id, Decimal("1.00"), "T", "down-pay")
    (stay,) = reservation.stays
    with pytest.raises(BackendUnreachable):
        await backend.key_grant(stay)  # a read: nothing to queue
    [entry] = outbox.entries(ALL_STATES)
    assert (entry.operation, entry.reference, entry.state) == ("cashier", "down-pay", "pending")
    assert (entry.attempts, entry.ambiguous, entry.error) == (1, False, "TransportError")
    assert outbox.depth() == 1


async def test_logs_carry_no_guest_data(
    backend: PmsBackend, demo: dict, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    reservation = await find(backend, demo["prepaid"])
    (stay,) = reservation.stays
    guest = replace(stay.guests[0], id_kind=IdKind.PASSPORT, id_number="E99887766")
    await backend.register_guests(stay, [guest], "log-guests")
    await backend.door_pin(stay, "log-pin")
    assert "log-guests" in caplog.text  # the outbox did log the mutation
    for secret in (guest.name, guest.id_number, reservation.holder_phone, SIM_TOKEN):
        assert secret not in caplog.text
