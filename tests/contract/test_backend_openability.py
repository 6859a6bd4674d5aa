"""The open-ability adapter against the property simulator over loopback (seeds 000 + 001)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from kiosk.api.openability import OPERATIONS, OpenAbilityClient
from kiosk.api.openability_types import OrderRef, OrderState, ResidenceRef
from kiosk.api.pms import PmsClient
from kiosk.backends.base import (
    BackendError,
    BackendUnreachable,
    IdKind,
    Reason,
    ReservationNotFound,
    Room,
    StayState,
)
from kiosk.backends.factory import open_backend, open_client
from kiosk.backends.openability import OpenAbilityBackend
from kiosk.config import BackendConfig
from kiosk.outbox import DurableOutbox, OutboxEntry
from kiosk.qr_payload import BookingCodeRef, PmsOrderRef
from kiosk.sim.demo import seed_demo
from kiosk.sim.server import SimServer
from tests.conftest import SIM_NOW, SIM_TOKEN, SimClock
from tests.journey_kit import durable_outbox

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def codes(sim_server: SimServer) -> dict[str, BookingCodeRef]:
    """The demo's booking codes by case."""
    return {
        c["case"]: BookingCodeRef(c["residence_id"], c["booking_code"])
        for c in seed_demo(sim_server, seed=1)["booking_codes"]
    }


@pytest.fixture
async def client(sim_server: SimServer) -> AsyncIterator[OpenAbilityClient]:
    async with OpenAbilityClient(sim_server.url, SIM_TOKEN, timeout=2, retry_backoff=0.01) as c:
        yield c  # type: ignore[misc]


ALL_STATES = ("pending", "in_flight", "delivered", "refused", "dead")


@pytest.fixture
def outbox(client: OpenAbilityClient, tmp_path: Path) -> DurableOutbox:
    return durable_outbox(tmp_path / "state", openability=client)


def make_backend(
    client: OpenAbilityClient, outbox: DurableOutbox, clock: SimClock, kiosk_id: str = "kiosk-1"
) -> OpenAbilityBackend:
    config = BackendConfig(kind="openability", base_url="http://unused", token=SIM_TOKEN)
    backend = open_backend(config, outbox, client=client, kiosk_id=kiosk_id, clock=clock)
    assert isinstance(backend, OpenAbilityBackend)
    return backend


@pytest.fixture
def backend(
    client: OpenAbilityClient, outbox: DurableOutbox, sim_clock: SimClock
) -> OpenAbilityBackend:
    return make_backend(client, outbox, sim_clock)


def entries(outbox: DurableOutbox) -> list[OutboxEntry]:
    return outbox.entries(ALL_STATES)


def operations(outbox: DurableOutbox) -> list[str]:
    return [e.operation for e in entries(outbox)]


# --- find_reservation -----------------------------------------------------------------------


async def test_claims_the_code_and_finds_todays_order(
    backend: OpenAbilityBackend, codes: dict, outbox: DurableOutbox
) -> None:
    ref = codes["oa_gym"]
    reservation = await backend.find_reservation(ref)
    assert reservation.reference.isdigit()
    assert reservation.amount_due == reservation.total == reservation.paid == Decimal("0")
    (stay,) = reservation.stays
    assert stay.stay_id == reservation.reservation_id
    assert stay.state is StayState.BOOKED
    assert stay.starts <= SIM_NOW < stay.ends
    assert stay.room == Room(ref.residence_id, "101", stay.room_type_id)
    (guest,) = stay.guests
    assert guest.registered and guest.id_kind is IdKind.NATIONAL_ID
    assert reservation.holder_name == guest.name
    (entry,) = entries(outbox)
    assert (entry.operation, entry.state) == ("create_code_booking_info", "delivered")
    assert entry.reference == backend.claim_reference(ref)
    assert ref.booking_code not in entry.reference


async def test_the_same_kiosk_finds_a_claimed_code_again(
    backend: OpenAbilityBackend, codes: dict, outbox: DurableOutbox
) -> None:
    first = await backend.find_reservation(codes["oa_pool"])
    again = await backend.find_reservation(codes["oa_pool"])
    assert again == first
    assert operations(outbox) == ["create_code_booking_info"]  # the outbox answered


async def test_a_claim_whose_reply_was_lost_is_recovered(
    backend: OpenAbilityBackend,
    codes: dict,
    client: OpenAbilityClient,
    outbox: DurableOutbox,
    sim_server: SimServer,
) -> None:
    ref = codes["oa_meeting_room"]
    sim_server.faults.lost_reply_rate = 1.0  # the claim is applied, its reply lost
    with pytest.raises(BackendUnreachable) as caught:
        await backend.find_reservation(ref)
    assert caught.value.ambiguous
    # A claim is not deferrable: the outbox never replays it; the next find tries again.
    assert [(e.state, e.attempts) for e in entries(outbox)] == [("refused", 1)]
    assert outbox.depth() == 0
    sim_server.faults.lost_reply_rate = 0.0
    reservation = await backend.find_reservation(ref)
    assert reservation.stays[0].room is not None
    # The retry carries the same command id: the simulator recognises the replay and
    # answers with the first claim's reply (a back-end that does not would refuse it as
    # claimed, and the adapter recovers the booking from its own record of the claim).
    (entry,) = entries(outbox)
    assert (entry.operation, entry.state, entry.attempts) == (
        "create_code_booking_info",
        "delivered",
        2,
    )
    (booking,) = await client.get_booking_list(ResidenceRef(residence_id=ref.residence_id))
    # the PIN of the one booking the lost claim made
    assert await backend.door_pin(reservation.stays[0], "pin") == booking.pin_code


async def test_a_code_claimed_elsewhere_is_refused(
    backend: OpenAbilityBackend,
    codes: dict,
    client: OpenAbilityClient,
    sim_clock: SimClock,
    tmp_path: Path,
) -> None:
    await backend.find_reservation(codes["oa_gym"])
    other_outbox = durable_outbox(tmp_path / "kiosk-2", openability=client)
    other = make_backend(client, other_outbox, sim_clock, "kiosk-2")
    for ref in (codes["oa_gym"], codes["oa_code_already_used"]):
        with pytest.raises(BackendError) as caught:
            await other.find_reservation(ref)
        assert caught.value.reason == Reason.CODE_CLAIMED


async def test_unknown_codes(backend: OpenAbilityBackend, codes: dict) -> None:
    with pytest.raises(ReservationNotFound):
        await backend.find_reservation(replace(codes["oa_gym"], booking_code="k" + "0" * 32))
    with pytest.raises(BackendError) as caught:
        await backend.find_reservation(PmsOrderRef(1))
    assert caught.value.reason == Reason.WRONG_CODE_KIND


async def test_already_checked_in(backend: OpenAbilityBackend, codes: dict) -> None:
    reservation = await backend.find_reservation(codes["oa_already_checked_in"])
    assert reservation.stays[0].state is StayState.CHECKED_IN


# --- verbs --------------------------------------------------------------------------------


async def test_check_in_and_replay(
    backend: OpenAbilityBackend, codes: dict, client: OpenAbilityClient, outbox: DurableOutbox
) -> None:
    reservation = await backend.find_reservation(codes["oa_gym"])
    (stay,) = reservation.stays
    assert stay.room is not None
    assert await backend.assignable_rooms(stay) == [stay.room]
    await backend.check_in(reservation, {stay.stay_id: stay.room}, "ci-1")
    await backend.check_in(reservation, {stay.stay_id: stay.room}, "ci-1")
    order = await client.get_order_info(OrderRef(order_id=stay.stay_id))
    assert order.order_state is OrderState.CHECKED_IN
    assert operations(outbox) == ["create_code_booking_info", "update_order_info"]
    assert entries(outbox)[1].reference == "ci-1"
    assert outbox.counts() == {"delivered": 2}
    other_room = replace(stay.room, room_id="r-elsewhere")
    with pytest.raises(BackendError) as caught:
        await backend.check_in(reservation, {stay.stay_id: other_room}, "ci-2")
    assert caught.value.reason == Reason.NOT_SUPPORTED


async def test_key_grant_door_pin_and_record_key(
    backend: OpenAbilityBackend, codes: dict, client: OpenAbilityClient, outbox: DurableOutbox
) -> None:
    ref = codes["oa_pool"]
    reservation = await backend.find_reservation(ref)
    (stay,) = reservation.stays
    grant = await backend.key_grant(stay)
    assert json.loads(grant.payload) == {
        "room_id": 102,
        "check_in_time": int(stay.starts.timestamp()),
        "check_out_time": int(stay.ends.timestamp()),
    }
    assert (grant.valid_from, grant.valid_until) == (stay.starts, stay.ends)
    (booking,) = await client.get_booking_list(ResidenceRef(residence_id=ref.residence_id))
    assert await backend.door_pin(stay, "pin-1") == booking.pin_code != ""
    await backend.record_key(stay, "99EED5C1", "card-1")
    assert operations(outbox) == ["create_code_booking_info"]  # no card registry


async def test_guests_and_payments_the_api_cannot_take(
    backend: OpenAbilityBackend, codes: dict, outbox: DurableOutbox
) -> None:
    reservation = await backend.find_reservation(codes["oa_gym"])
    (stay,) = reservation.stays
    await backend.register_guests(stay, list(stay.guests), "g-1")  # nothing new: fine
    changed = replace(stay.guests[0], id_kind=IdKind.PASSPORT, id_number="E1")
    for call in (
        backend.register_guests(stay, [changed], "g-2"),
        backend.record_payment(reservation.reservation_id, Decimal("1.00"), "T", "p-1"),
    ):
        with pytest.raises(BackendError) as caught:
            await call
        assert caught.value.reason == Reason.NOT_SUPPORTED
    assert operations(outbox) == ["create_code_booking_info"]
    assert all(not OPERATIONS[op].read for op in operations(outbox))


async def test_backend_down_is_unreachable(
    codes: dict, sim_server: SimServer, sim_clock: SimClock, tmp_path: Path
) -> None:
    sim_server.stop()
    async with OpenAbilityClient(sim_server.url, SIM_TOKEN, retry_backoff=0.01) as client:
        outbox = durable_outbox(tmp_path / "state", openability=client)
        with pytest.raises(BackendUnreachable) as caught:
            await make_backend(client, outbox, sim_clock).find_reservation(codes["oa_gym"])
    assert not caught.value.ambiguous
    # The claim is not deferrable: not left for the relay; the guest's next try claims anew.
    (entry,) = entries(outbox)
    assert (entry.operation, entry.state, entry.error) == (
        "create_code_booking_info",
        "refused",
        "TransportError",
    )
    assert outbox.depth() == 0


# --- the factory ------------------------------------------------------------------------------


async def test_factory_matches_client_and_kind(sim_server: SimServer, tmp_path: Path) -> None:
    config = BackendConfig(kind="openability", base_url=sim_server.url, token=SIM_TOKEN)
    client = open_client(config)
    assert isinstance(client, OpenAbilityClient)
    await client.aclose()
    async with PmsClient(sim_server.url, SIM_TOKEN) as pms:
        with pytest.raises(ValueError, match="OpenAbilityClient"):
            open_backend(config, durable_outbox(tmp_path, pms=pms), client=pms)
    with pytest.raises(ValueError, match="base_url"):
        open_client(BackendConfig(kind="pms", base_url=""))


async def test_a_check_in_cannot_be_revoked_and_nothing_is_sent(
    backend: OpenAbilityBackend, codes: dict, outbox: DurableOutbox
) -> None:
    reservation = await backend.find_reservation(codes["oa_pool"])
    sent = operations(outbox)
    with pytest.raises(BackendError) as caught:
        await backend.undo_check_in(list(reservation.stays), "undo-1")
    assert caught.value.reason == Reason.NOT_SUPPORTED
    assert operations(outbox) == sent  # seed 001's order_state never moves back
