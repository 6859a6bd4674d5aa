"""The simulator's open-ability rules, driven through OpenAbilityClient over loopback HTTP:
booking and order lifecycles, booking windows, one-time codes, restarts, races, the demo."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from kiosk.api import OpenAbilityError
from kiosk.api import openability_types as t
from kiosk.api.openability import OpenAbilityClient
from kiosk.sim.openability.demo import seed_openability
from kiosk.sim.params import BAD_PARAMS, CONFLICT, NOT_FOUND
from kiosk.sim.server import SimServer
from tests.conftest import SIM_NOW, SIM_TOKEN, SimClock
from tests.contract import test_openability_contract as contract
from tests.contract.test_openability_contract import (
    TODAY,
    TOMORROW,
    Property,
    assert_refused,
    at,
    gym_booking,
    order_request,
    set_up_property,
)

pytestmark = pytest.mark.timeout(30)

# The contract tests' fixtures, used here under the same names.
client = contract.client
prop = contract.prop

HOTEL_EXAMPLES = {
    example["command"]: example
    for example in json.loads(
        (
            Path(__file__).parents[1] / "fixtures" / "seed_examples" / "openability_hotel.json"
        ).read_text("utf-8")
    )
}


# --- amenity bookings ----------------------------------------------------------------------


async def test_amenity_booking_lifecycle(client: OpenAbilityClient, prop: Property) -> None:
    residence = t.ResidenceRef(residence_id=prop.residence_id)
    amenities = await client.get_booking_amenity_list(residence)
    gym = next(a for a in amenities if a.amenity_name == "Gym")
    times_request = t.BookingTimeListRequest(
        residence_id=prop.residence_id, amenity_id=gym.amenity_id, date=TOMORROW
    )
    times = await client.get_booking_time_list(times_request)
    opens, _ = times.allowed_booking_time.on(TOMORROW)

    created = await client.create_booking_info(
        t.CreateBookingRequest(
            residence_id=prop.residence_id,
            amenity_id=gym.amenity_id,
            start_time=opens,
            duration=90,
        )
    )
    (listed,) = await client.get_booking_list(residence)
    assert listed.booking_id == created.booking_id
    ref = t.BookingRef(residence_id=prop.residence_id, booking_id=created.booking_id)
    info = await client.get_booking_info(ref)
    assert (info.start_time, info.finish_time) == (opens, opens + timedelta(minutes=90))
    taken = await client.get_booking_time_list(times_request)
    assert [w.on(TOMORROW) for w in taken.disallowed_booking_time] == [
        (opens, opens + timedelta(minutes=90)),
        (at(TOMORROW, 12), at(TOMORROW, 13)),
    ]

    await client.delete_booking_info(ref)
    assert await client.get_booking_list(residence) == []
    assert await client.get_booking_time_list(times_request) == times
    await assert_refused(client.delete_booking_info(ref), NOT_FOUND)


@pytest.mark.parametrize(
    ("hour", "minute", "duration", "why"),
    [
        (5, 30, 60, "from 06:00 to 20:00"),  # starts before the window opens
        (19, 30, 60, "from 06:00 to 20:00"),  # ends after it closes
        (11, 30, 60, "closed from 12:00 to 13:00"),
        (12, 59, 1, "closed from 12:00 to 13:00"),
    ],
)
async def test_bookings_outside_the_window_or_in_a_closed_slot_are_refused(
    client: OpenAbilityClient, prop: Property, hour: int, minute: int, duration: int, why: str
) -> None:
    request = gym_booking(prop, duration=duration).model_copy(
        update={"start_time": at(TOMORROW, hour, minute)}
    )
    error = await assert_refused(client.create_booking_info(request), CONFLICT)
    assert why in error.message


async def test_a_slot_that_is_over_is_refused_and_adjacent_slots_are_fine(
    client: OpenAbilityClient, prop: Property, sim_clock: SimClock
) -> None:
    sim_clock.now = at(TODAY, 11)
    past = gym_booking(prop).model_copy(update={"start_time": at(TODAY, 9, 59)})
    assert "over" in (await assert_refused(client.create_booking_info(past), CONFLICT)).message
    ongoing = gym_booking(prop).model_copy(update={"start_time": at(TODAY, 10, 30)})
    await client.create_booking_info(ongoing)  # not over yet: it ends at 11:30
    await client.create_booking_info(gym_booking(prop, hour=9))
    await client.create_booking_info(gym_booking(prop, hour=10))  # starts as the other ends
    await client.create_booking_info(gym_booking(prop, hour=13, duration=420))  # to 20:00
    assert len(await client.get_booking_list(t.ResidenceRef(residence_id=prop.residence_id))) == 4


async def test_an_amenity_that_needs_approval_books_pending(
    client: OpenAbilityClient, prop: Property
) -> None:
    created = await client.create_booking_info(
        t.CreateBookingRequest(
            residence_id=prop.residence_id,
            amenity_id=prop.meeting_room,
            start_time=at(TOMORROW, 8),
            duration=600,  # the longest booking, the whole window
        )
    )
    info = await client.get_booking_info(
        t.BookingRef(residence_id=prop.residence_id, booking_id=created.booking_id)
    )
    assert info.state is t.BookingState.PENDING


async def test_is_expired_follows_the_simulator_clock(
    client: OpenAbilityClient, prop: Property, sim_clock: SimClock
) -> None:
    created = await client.create_booking_info(gym_booking(prop, hour=9, duration=60))
    ref = t.BookingRef(residence_id=prop.residence_id, booking_id=created.booking_id)
    sim_clock.now = at(TOMORROW, 9, 59)
    assert (await client.get_booking_info(ref)).is_expired is False
    sim_clock.now = at(TOMORROW, 10)
    assert (await client.get_booking_info(ref)).is_expired is True


async def test_a_residence_cannot_see_or_delete_another_residence_s_booking(
    client: OpenAbilityClient, prop: Property
) -> None:
    mine = await client.create_booking_info(gym_booking(prop, hour=9))
    theirs = t.BookingRef(residence_id=prop.other_residence_id, booking_id=mine.booking_id)
    await assert_refused(client.get_booking_info(theirs), NOT_FOUND)
    await assert_refused(client.delete_booking_info(theirs), NOT_FOUND)
    assert len(await client.get_booking_list(t.ResidenceRef(residence_id=prop.residence_id))) == 1


async def test_a_batch_delete_with_a_foreign_booking_deletes_nothing(
    client: OpenAbilityClient, prop: Property
) -> None:
    mine = await client.create_booking_info(gym_booking(prop, hour=9))
    other = await client.create_booking_info(
        gym_booking(prop, hour=11).model_copy(update={"residence_id": prop.other_residence_id})
    )
    batch = t.BatchDeleteBookingsRequest(
        residence_id=prop.residence_id,
        bookings=[
            t.BookingId(booking_id=mine.booking_id),
            t.BookingId(booking_id=other.booking_id),
        ],
    )
    await assert_refused(client.batch_delete_booking_info(batch), NOT_FOUND)
    for residence_id in (prop.residence_id, prop.other_residence_id):
        assert len(await client.get_booking_list(t.ResidenceRef(residence_id=residence_id))) == 1


# --- booking codes -------------------------------------------------------------------------


async def test_a_code_is_claimed_once_and_a_refused_claim_leaves_it_unclaimed(
    client: OpenAbilityClient, prop: Property
) -> None:
    # Someone else takes the code's slot (the gym, tomorrow 08:00-09:00) first.
    blocker = await client.create_booking_info(
        gym_booking(prop, hour=8, duration=30).model_copy(
            update={"residence_id": prop.other_residence_id}
        )
    )
    claim = t.CodeBookingRequest(residence_id=prop.residence_id, booking_code=prop.code)
    await assert_refused(client.create_code_booking_info(claim), CONFLICT)

    await client.delete_booking_info(
        t.BookingRef(residence_id=prop.other_residence_id, booking_id=blocker.booking_id)
    )
    created = await client.create_code_booking_info(claim)  # the code was not used up
    error = await assert_refused(client.create_code_booking_info(claim), CONFLICT)
    assert "already been used" in error.message
    # Deleting the booking does not make the code claimable again.
    await client.delete_booking_info(
        t.BookingRef(residence_id=prop.residence_id, booking_id=created.booking_id)
    )
    await assert_refused(client.create_code_booking_info(claim), CONFLICT)


# --- hotel orders --------------------------------------------------------------------------


async def set_state(client: OpenAbilityClient, order_id: str, state: t.OrderState) -> None:
    await client.update_order_info(t.UpdateOrderRequest(order_id=order_id, order_state=state))


async def state_of(client: OpenAbilityClient, order_id: str) -> t.OrderState:
    return (await client.get_order_info(t.OrderRef(order_id=order_id))).order_state


async def test_order_lifecycle_moves_forward_only(
    client: OpenAbilityClient, prop: Property
) -> None:
    order_id = (await client.create_order_info(order_request(prop))).order_id
    assert await state_of(client, order_id) is t.OrderState.CHECK_IN
    skip = set_state(client, order_id, t.OrderState.CHECKED_OUT)
    assert "skip" in (await assert_refused(skip, CONFLICT)).message

    await set_state(client, order_id, t.OrderState.CHECKED_IN)
    await set_state(client, order_id, t.OrderState.CHECKED_IN)  # a replay changes nothing
    assert await state_of(client, order_id) is t.OrderState.CHECKED_IN
    back = set_state(client, order_id, t.OrderState.CHECK_IN)
    assert "back" in (await assert_refused(back, CONFLICT)).message
    await assert_refused(client.delete_order_info(t.OrderRef(order_id=order_id)), CONFLICT)

    await set_state(client, order_id, t.OrderState.CHECKED_OUT)
    assert await state_of(client, order_id) is t.OrderState.CHECKED_OUT
    await assert_refused(set_state(client, order_id, t.OrderState.CHECKED_IN), CONFLICT)
    moved = t.UpdateOrderRequest(order_id=order_id, finish_time=at(TOMORROW, 12))
    await assert_refused(client.update_order_info(moved), CONFLICT)
    # A checked-out order frees its residence for the rest of its period.
    await client.create_order_info(order_request(prop))
    await client.delete_order_info(t.OrderRef(order_id=order_id))


async def test_orders_on_one_residence_do_not_overlap(
    client: OpenAbilityClient, prop: Property
) -> None:
    first = await client.create_order_info(order_request(prop, nights=2))
    await assert_refused(client.create_order_info(order_request(prop, day=TOMORROW)), CONFLICT)
    # Another residence, or the day the first order ends, are fine.
    await client.create_order_info(
        order_request(prop).model_copy(update={"residence_id": prop.other_residence_id})
    )
    after = order_request(prop, day=TODAY + timedelta(days=2))
    second = await client.create_order_info(after)
    # Moving the first onto the second is refused as well.
    stretch = t.UpdateOrderRequest(
        order_id=first.order_id, finish_time=at(TODAY + timedelta(days=5), 6)
    )
    await assert_refused(client.update_order_info(stretch), CONFLICT)
    assert second.order_id != first.order_id


async def test_an_order_must_end_after_it_starts(client: OpenAbilityClient, prop: Property) -> None:
    backwards = order_request(prop).model_copy(update={"finish_time": at(TODAY, 6)})
    await assert_refused(client.create_order_info(backwards), BAD_PARAMS)
    order_id = (await client.create_order_info(order_request(prop))).order_id
    shrink = t.UpdateOrderRequest(order_id=order_id, finish_time=at(TODAY, 5))
    await assert_refused(client.update_order_info(shrink), BAD_PARAMS)


async def test_the_simulator_accepts_the_seed_example_s_end_time(
    sim_server: SimServer, prop: Property, client: OpenAbilityClient
) -> None:
    """Seed 001's create_order_info example, as written (end_time), with our residence."""
    body = HOTEL_EXAMPLES["create_order_info"]["request"]
    body = {**body, "param": {**body["param"], "residence_id": prop.residence_id}}
    async with httpx.AsyncClient(base_url=sim_server.url) as raw:
        reply = await raw.post(
            "/api/v1.0/invoke/open-ability/method/hotel-commands",
            json=body,
            headers={"Authorization": f"Bearer {SIM_TOKEN}"},
        )
    order_id = reply.json()["result"]["order_id"]
    info = await client.get_order_info(t.OrderRef(order_id=order_id))
    assert (info.start_time, info.finish_time) == (
        datetime(2025, 8, 6, 3, 0, 3, tzinfo=UTC),
        datetime(2025, 8, 6, 3, 30, 3, tzinfo=UTC),
    )


async def test_order_list_pages_in_start_order(client: OpenAbilityClient, prop: Property) -> None:
    created = []
    for day_offset in (4, 0, 2, 6, 8):  # created out of order
        request = order_request(prop, day=TODAY + timedelta(days=day_offset))
        created.append((day_offset, (await client.create_order_info(request)).order_id))
    pages = [
        await client.get_order_list(t.OrderListRequest(page_size=2, page_index=i))
        for i in (1, 2, 3, 4)
    ]
    assert [len(p) for p in pages] == [2, 2, 1, 0]
    assert [o.order_id for p in pages for o in p] == [o for _, o in sorted(created)]
    with pytest.raises(OpenAbilityError):
        await client.get_order_list(t.OrderListRequest(page_size=1000))


# --- persistence, races, demo --------------------------------------------------------------


async def test_state_survives_a_server_restart(sim_db_path: Path, sim_clock: SimClock) -> None:
    with SimServer(sim_db_path, SIM_TOKEN, clock=sim_clock, seed=1) as first:
        prop = set_up_property(first)
        async with OpenAbilityClient(first.url, SIM_TOKEN) as c:
            booking = await c.create_booking_info(gym_booking(prop))
            order = await c.create_order_info(order_request(prop))
            await set_state(c, order.order_id, t.OrderState.CHECKED_IN)
            await c.create_code_booking_info(
                t.CodeBookingRequest(residence_id=prop.residence_id, booking_code=prop.code)
            )
    with SimServer(sim_db_path, SIM_TOKEN, clock=sim_clock, seed=2) as second:
        async with OpenAbilityClient(second.url, SIM_TOKEN) as c:
            info = await c.get_booking_info(
                t.BookingRef(residence_id=prop.residence_id, booking_id=booking.booking_id)
            )
            assert info.start_time == at(TOMORROW, 9)
            assert await state_of(c, order.order_id) is t.OrderState.CHECKED_IN
            claim = t.CodeBookingRequest(residence_id=prop.residence_id, booking_code=prop.code)
            await assert_refused(c.create_code_booking_info(claim), CONFLICT)


async def test_clients_racing_for_one_slot_exactly_one_wins(
    sim_server: SimServer, prop: Property
) -> None:
    residences = [prop.residence_id, prop.other_residence_id] * 3
    clients = [OpenAbilityClient(sim_server.url, SIM_TOKEN) for _ in residences]
    try:
        results = await asyncio.gather(
            *(
                c.create_booking_info(
                    gym_booking(prop, hour=9).model_copy(update={"residence_id": r})
                )
                for c, r in zip(clients, residences, strict=True)
            ),
            return_exceptions=True,
        )
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    won = [r for r in results if isinstance(r, t.CreatedBooking)]
    lost = [r for r in results if isinstance(r, OpenAbilityError)]
    assert (len(won), len(lost)) == (1, len(clients) - 1), results
    assert all(e.code == CONFLICT for e in lost)


async def test_the_demo_is_deterministic_and_its_codes_work(
    tmp_path: Path, sim_server: SimServer
) -> None:
    def seed(server: SimServer) -> list[dict]:
        with server.db.transaction() as conn:
            return seed_openability(conn, random.Random(42), SIM_NOW)

    codes = seed(sim_server)
    with SimServer(tmp_path / "again.sqlite", SIM_TOKEN) as again:
        assert seed(again) == codes
    assert {"residence_id", "booking_code", "case"} == set(codes[0])

    async with OpenAbilityClient(sim_server.url, SIM_TOKEN) as c:
        residence = t.ResidenceRef(residence_id=codes[0]["residence_id"])
        names = {a.amenity_name for a in await c.get_booking_amenity_list(residence)}
        assert {"Gym", "Pool", "Meeting room"} <= names
        orders = await c.get_order_list(t.OrderListRequest(page_size=100))
        assert {o.residence_id for o in orders} == {code["residence_id"] for code in codes}
        assert all(o.start_time.date() == TODAY and o.guests for o in orders)
        unclaimed = 0
        for code in codes:
            claim = t.CodeBookingRequest(
                residence_id=code["residence_id"], booking_code=code["booking_code"]
            )
            if code["case"] == "oa_code_already_used":
                error = await assert_refused(c.create_code_booking_info(claim), CONFLICT)
                assert "already been used" in error.message
                continue
            created = await c.create_code_booking_info(claim)
            info = await c.get_booking_info(
                t.BookingRef(residence_id=code["residence_id"], booking_id=created.booking_id)
            )
            assert info.start_time.date() == TOMORROW and not info.is_expired
            unclaimed += 1
        assert unclaimed >= 3
        checked_in = {o.residence_id for o in orders if o.order_state is t.OrderState.CHECKED_IN}
        in_house = ("oa_already_checked_in", "oa_amenity_guest")  # the amenity guest stays now
        expected = {c["residence_id"] for c in codes if c["case"] in in_house}
        assert checked_in == expected
