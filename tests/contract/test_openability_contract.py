"""OpenAbilityClient against the property simulator over real HTTP on loopback: each of the
13 commands, and the refusals a kiosk meets (unknown ids, used codes, taken slots, bad
token, unknown command).

The rules behind the refusals are exercised at length in test_openability_rules.py.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import httpx
import pytest

from kiosk.api import HttpStatusError, OpenAbilityError
from kiosk.api import openability_types as t
from kiosk.api.openability import OPERATIONS, USER_COMMANDS, OAOperation, OpenAbilityClient
from kiosk.sim.openability import property as oa_property
from kiosk.sim.params import BAD_PARAMS, CONFLICT, NOT_FOUND, UNKNOWN_OPERATION
from kiosk.sim.server import SimServer
from tests.conftest import SIM_NOW, SIM_TOKEN

pytestmark = pytest.mark.timeout(30)

TODAY = SIM_NOW.date()
TOMORROW = TODAY + timedelta(days=1)
GUEST = t.NewGuest(
    guest_name="Chen Mei Guest",
    email="chen.mei@example.org",
    phone="13800138000",
    id_card="110101199003071234",
)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), UTC)


@dataclass(frozen=True)
class Property:
    """What the tests book on: two residences, two amenities, one unclaimed code."""

    residence_id: str
    other_residence_id: str
    room_type_id: str
    gym: str  # 06:00-20:00 UTC, closed 12:00-13:00, bookings succeed at once
    meeting_room: str  # 08:00-18:00 UTC, bookings wait for approval
    code: str  # books the gym tomorrow 08:00-09:00 for residence_id


def set_up_property(server: SimServer, seed: int = 11) -> Property:
    rng = random.Random(seed)
    with server.db.transaction() as conn:
        room_type_id = oa_property.add_room_type(conn, rng, "Standard King")
        residences = [
            oa_property.add_residence(
                conn,
                rng,
                residence_no=no,
                building_name="A",
                family_name="home",
                room_type_id=room_type_id,
            )
            for no in ("101", "102")
        ]
        gym = oa_property.add_amenity(
            conn, rng, name="Gym", window=("06:00", "20:00"), closed=(("12:00", "13:00"),)
        )
        meeting_room = oa_property.add_amenity(
            conn, rng, name="Meeting room", window=("08:00", "18:00"), requires_approval=True
        )
        code = oa_property.add_booking_code(
            conn,
            rng,
            residence_id=residences[0],
            amenity_id=gym,
            start=at(TOMORROW, 8),
            duration=60,
        )
    return Property(residences[0], residences[1], room_type_id, gym, meeting_room, code)


@pytest.fixture
def prop(sim_server: SimServer) -> Property:
    return set_up_property(sim_server)


@pytest.fixture
async def client(sim_server: SimServer) -> AsyncIterator[OpenAbilityClient]:
    async with OpenAbilityClient(sim_server.url, SIM_TOKEN, timeout=5, read_retries=0) as c:
        yield c


class RecordingTransport(httpx.AsyncHTTPTransport):
    """The real HTTP transport, keeping each request body to look at afterwards."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[dict] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        return await super().handle_async_request(request)


def order_request(prop: Property, day: date = TODAY, nights: int = 1) -> t.CreateOrderRequest:
    return t.CreateOrderRequest(
        residence_id=prop.residence_id,
        start_time=at(day, 6),
        finish_time=at(day + timedelta(days=nights), 4),
        guest=GUEST,
        source="kiosk-test",
        enable_booking=True,
    )


def gym_booking(prop: Property, hour: int = 9, duration: int = 60) -> t.CreateBookingRequest:
    return t.CreateBookingRequest(
        residence_id=prop.residence_id,
        amenity_id=prop.gym,
        start_time=at(TOMORROW, hour),
        duration=duration,
    )


async def assert_refused(call: object, code: int) -> OpenAbilityError:
    with pytest.raises(OpenAbilityError) as caught:
        await call  # type: ignore[misc]
    assert caught.value.code == code, caught.value
    return caught.value


# --- user-commands -------------------------------------------------------------------------


async def test_get_booking_amenity_list(client: OpenAbilityClient, prop: Property) -> None:
    amenities = await client.get_booking_amenity_list(
        t.ResidenceRef(residence_id=prop.residence_id)
    )
    assert [(a.amenity_id, a.amenity_name) for a in amenities] == [
        (prop.gym, "Gym"),
        (prop.meeting_room, "Meeting room"),
    ]


async def test_get_booking_time_list(client: OpenAbilityClient, prop: Property) -> None:
    times = await client.get_booking_time_list(
        t.BookingTimeListRequest(residence_id=prop.residence_id, amenity_id=prop.gym, date=TOMORROW)
    )
    assert times.allowed_booking_time.on(TOMORROW) == (at(TOMORROW, 6), at(TOMORROW, 20))
    assert [w.on(TOMORROW) for w in times.disallowed_booking_time] == [
        (at(TOMORROW, 12), at(TOMORROW, 13))
    ]


async def test_create_booking_info_then_get_booking_info(
    client: OpenAbilityClient, prop: Property
) -> None:
    created = await client.create_booking_info(gym_booking(prop, hour=9, duration=45))
    info = await client.get_booking_info(
        t.BookingRef(residence_id=prop.residence_id, booking_id=created.booking_id)
    )
    assert (info.amenity_id, info.amenity_name) == (prop.gym, "Gym")
    assert (info.start_time, info.finish_time) == (at(TOMORROW, 9), at(TOMORROW, 9, 45))
    assert info.state is t.BookingState.SUCCESS
    assert info.is_expired is False
    assert len(info.pin_code) == 6 and info.pin_code.isdigit()
    assert created.booking_id in info.qr_code_url
    assert info.created_time == SIM_NOW
    assert (info.building_name, info.family_name) == ("A", "home")


async def test_get_booking_list(client: OpenAbilityClient, prop: Property) -> None:
    late = await client.create_booking_info(gym_booking(prop, hour=15))
    early = await client.create_booking_info(gym_booking(prop, hour=7))
    bookings = await client.get_booking_list(t.ResidenceRef(residence_id=prop.residence_id))
    assert [b.booking_id for b in bookings] == [early.booking_id, late.booking_id]
    other = await client.get_booking_list(t.ResidenceRef(residence_id=prop.other_residence_id))
    assert other == []


async def test_create_code_booking_info(client: OpenAbilityClient, prop: Property) -> None:
    created = await client.create_code_booking_info(
        t.CodeBookingRequest(residence_id=prop.residence_id, booking_code=prop.code)
    )
    info = await client.get_booking_info(
        t.BookingRef(residence_id=prop.residence_id, booking_id=created.booking_id)
    )
    assert (info.amenity_id, info.start_time, info.finish_time) == (
        prop.gym,
        at(TOMORROW, 8),
        at(TOMORROW, 9),
    )
    assert info.state is t.BookingState.SUCCESS


async def test_delete_booking_info(client: OpenAbilityClient, prop: Property) -> None:
    created = await client.create_booking_info(gym_booking(prop))
    ref = t.BookingRef(residence_id=prop.residence_id, booking_id=created.booking_id)
    assert await client.delete_booking_info(ref) is None
    await assert_refused(client.get_booking_info(ref), NOT_FOUND)


async def test_batch_delete_booking_info(client: OpenAbilityClient, prop: Property) -> None:
    ids = [(await client.create_booking_info(gym_booking(prop, hour=h))).booking_id for h in (7, 9)]
    kept = await client.create_booking_info(gym_booking(prop, hour=14))
    await client.batch_delete_booking_info(
        t.BatchDeleteBookingsRequest(
            residence_id=prop.residence_id, bookings=[t.BookingId(booking_id=i) for i in ids]
        )
    )
    left = await client.get_booking_list(t.ResidenceRef(residence_id=prop.residence_id))
    assert [b.booking_id for b in left] == [kept.booking_id]


# --- hotel-commands ------------------------------------------------------------------------


async def test_create_order_info_then_get_order_info(
    client: OpenAbilityClient, prop: Property
) -> None:
    created = await client.create_order_info(order_request(prop))
    assert len(created.order_number) == 20 and created.order_number.isdigit()
    info = await client.get_order_info(t.OrderRef(order_id=created.order_id))
    assert info.residence_id == prop.residence_id
    assert (info.residence_no, info.room_type_id, info.room_type_name) == (
        "101",
        prop.room_type_id,
        "Standard King",
    )
    assert (info.start_time, info.finish_time) == (at(TODAY, 6), at(TOMORROW, 4))
    assert info.order_state is t.OrderState.CHECK_IN
    assert (info.source, info.enable_booking) == ("kiosk-test", True)
    (guest,) = info.guests
    assert guest.guest_id == created.guest_id
    assert (guest.guest_name, guest.phone, guest.id_card) == (
        GUEST.guest_name,
        GUEST.phone,
        GUEST.id_card,
    )


async def test_get_order_list(client: OpenAbilityClient, prop: Property) -> None:
    created = await client.create_order_info(order_request(prop))
    (order,) = await client.get_order_list(t.OrderListRequest(page_size=10, page_index=1))
    assert (order.order_id, order.order_number) == (created.order_id, created.order_number)
    assert order.guests[0].guest_name == GUEST.guest_name
    assert await client.get_order_list(t.OrderListRequest(page_size=10, page_index=2)) == []


async def test_update_order_info(client: OpenAbilityClient, prop: Property) -> None:
    created = await client.create_order_info(order_request(prop))
    await client.update_order_info(
        t.UpdateOrderRequest(
            order_id=created.order_id,
            order_state=t.OrderState.CHECKED_IN,
            finish_time=at(TOMORROW, 10),
            remark="late check-out",
        )
    )
    info = await client.get_order_info(t.OrderRef(order_id=created.order_id))
    assert info.order_state is t.OrderState.CHECKED_IN
    assert info.finish_time == at(TOMORROW, 10)
    assert info.remark == "late check-out"
    assert info.start_time == at(TODAY, 6)  # not sent, not changed


async def test_delete_order_info(client: OpenAbilityClient, prop: Property) -> None:
    created = await client.create_order_info(order_request(prop))
    await client.delete_order_info(t.OrderRef(order_id=created.order_id))
    await assert_refused(client.get_order_info(t.OrderRef(order_id=created.order_id)), NOT_FOUND)


# --- refusals ------------------------------------------------------------------------------


async def test_a_claimed_code_is_refused_the_second_time(
    client: OpenAbilityClient, prop: Property
) -> None:
    claim = t.CodeBookingRequest(residence_id=prop.residence_id, booking_code=prop.code)
    await client.create_code_booking_info(claim)
    error = await assert_refused(client.create_code_booking_info(claim), CONFLICT)
    assert "already been used" in error.message  # not merely "the slot is taken"


async def test_unknown_codes_and_other_residences_codes_are_refused(
    client: OpenAbilityClient, prop: Property
) -> None:
    for residence_id, code in (
        (prop.residence_id, "k" + "0" * 32),
        (prop.other_residence_id, prop.code),  # a code only books for its own residence
    ):
        await assert_refused(
            client.create_code_booking_info(
                t.CodeBookingRequest(residence_id=residence_id, booking_code=code)
            ),
            NOT_FOUND,
        )


async def test_an_overlapping_booking_is_refused(client: OpenAbilityClient, prop: Property) -> None:
    await client.create_booking_info(gym_booking(prop, hour=9, duration=60))
    error = await assert_refused(
        client.create_booking_info(
            t.CreateBookingRequest(
                residence_id=prop.other_residence_id,
                amenity_id=prop.gym,
                start_time=at(TOMORROW, 9, 30),
                duration=60,
            )
        ),
        CONFLICT,
    )
    assert "already booked" in error.message


async def test_an_unknown_residence_is_refused(client: OpenAbilityClient, prop: Property) -> None:
    unknown = "r" + "f" * 32
    await assert_refused(client.get_booking_list(t.ResidenceRef(residence_id=unknown)), NOT_FOUND)
    await assert_refused(
        client.create_order_info(order_request(prop).model_copy(update={"residence_id": unknown})),
        NOT_FOUND,
    )


async def test_unknown_order_and_amenity_ids_are_refused(
    client: OpenAbilityClient, prop: Property
) -> None:
    await assert_refused(client.get_order_info(t.OrderRef(order_id="o" + "0" * 32)), NOT_FOUND)
    await assert_refused(
        client.get_booking_time_list(
            t.BookingTimeListRequest(
                residence_id=prop.residence_id, amenity_id="a" + "0" * 32, date=TOMORROW
            )
        ),
        NOT_FOUND,
    )


async def test_a_bad_token_is_http_401(sim_server: SimServer, prop: Property) -> None:
    async with OpenAbilityClient(sim_server.url, "wrong-token", read_retries=0) as c:
        with pytest.raises(HttpStatusError) as caught:
            await c.get_booking_list(t.ResidenceRef(residence_id=prop.residence_id))
    assert caught.value.status_code == 401


async def test_an_unknown_command_is_refused(client: OpenAbilityClient, prop: Property) -> None:
    op = OAOperation(
        name="get_booking_history",
        request=t.ResidenceRef,
        response=list[t.Booking],
        read=True,
        endpoint=USER_COMMANDS,
    )
    await assert_refused(
        client.invoke(op, t.ResidenceRef(residence_id=prop.residence_id)), UNKNOWN_OPERATION
    )


async def test_wrong_types_and_missing_fields_are_refused_by_the_simulator(
    client: OpenAbilityClient, prop: Property
) -> None:
    """What the typed client cannot send, sent through loose request models."""

    class LooseBooking(t.OARequest):
        residence_id: str
        amenity_id: str
        start_time: str | None = None
        duration: object = None

    op = OAOperation(
        name="create_booking_info",
        request=LooseBooking,
        response=t.CreatedBooking,
        read=False,
        endpoint=USER_COMMANDS,
    )
    base = {"residence_id": prop.residence_id, "amenity_id": prop.gym}
    for extra, field in [
        ({"duration": 30}, "start_time"),
        ({"start_time": "2026-03-05 09:00:00"}, "duration"),
        ({"start_time": "tomorrow", "duration": 30}, "start_time"),
        ({"start_time": "2026-03-05 09:00:00", "duration": "30"}, "duration"),
        ({"start_time": "2026-03-05 09:00:00", "duration": 601}, "duration"),
    ]:
        error = await assert_refused(client.invoke(op, LooseBooking(**base, **extra)), BAD_PARAMS)
        assert field in error.message


async def test_the_caller_s_command_id_is_sent_and_fresh_ones_otherwise(
    sim_server: SimServer, prop: Property
) -> None:
    transport = RecordingTransport()
    async with OpenAbilityClient(sim_server.url, SIM_TOKEN, transport=transport) as c:
        await c.create_booking_info(gym_booking(prop), command_id="c-kiosk-ref-0001")
        await c.get_booking_list(t.ResidenceRef(residence_id=prop.residence_id))
        await c.get_booking_list(t.ResidenceRef(residence_id=prop.residence_id))
    ids = [body["id"] for body in transport.bodies]
    assert ids[0] == "c-kiosk-ref-0001"
    assert len(set(ids)) == 3
    assert [body["command"] for body in transport.bodies] == [
        "create_booking_info",
        "get_booking_list",
        "get_booking_list",
    ]


async def test_guest_data_and_token_never_reach_the_logs(
    client: OpenAbilityClient, prop: Property, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = await client.create_order_info(order_request(prop))
    await client.get_order_info(t.OrderRef(order_id=created.order_id))
    await assert_refused(
        client.create_order_info(order_request(prop)), CONFLICT
    )  # refusals are logged by both sides
    await assert_refused(
        client.create_code_booking_info(
            t.CodeBookingRequest(residence_id=prop.other_residence_id, booking_code=prop.code)
        ),
        NOT_FOUND,
    )
    assert caplog.records
    for secret in (SIM_TOKEN, GUEST.guest_name, GUEST.phone, GUEST.id_card, GUEST.email, prop.code):
        assert secret not in caplog.text


def test_every_command_has_a_contract_test() -> None:
    tests = [name for name in globals() if name.startswith("test_")]
    assert {op for op in OPERATIONS if any(op in test for test in tests)} == set(OPERATIONS)
