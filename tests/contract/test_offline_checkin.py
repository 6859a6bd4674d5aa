"""Offline check-in end to end: the property simulator over loopback goes down for a whole
journey, the guest still leaves with a working card, and once it is back the relay
delivers every queued write exactly once, after reconciling; conflicts are parked."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hardware.health import HealthLevel
from kiosk.api.pms import PmsClient
from kiosk.api.pms_types import (
    AccomDetailRequest,
    AccomRef,
    AccomStatus,
    BillListRequest,
    BillListType,
)
from kiosk.demo.devices import simulated_devices
from kiosk.demo.script import GuestScript, run_script
from kiosk.i18n import Catalogue
from kiosk.journeys.checkin import CheckinJourney
from kiosk.journeys.payment import PaymentLog
from kiosk.offline import ArrivalsCache, OfflineBackend, OfflinePolicy, prefetch
from kiosk.outbox import DEAD, DurableOutbox
from kiosk.qr_payload import PmsOrderRef, encode_payload
from kiosk.sealing import Sealer
from kiosk.sim.demo import seed_demo
from kiosk.sim.server import SimServer
from tests.conftest import SIM_TOKEN, SimClock
from tests.journey_kit import FAST, durable_outbox, pms_backend, state_db

pytestmark = pytest.mark.timeout(60)

KEY = b"offline-test-key-not-a-secret"
SETTINGS = FAST.model_copy(update={"max_cards_per_room": 1})
GUEST = [
    {"on": "attract", "tap": "start"},
    {"on": "language", "language": "en"},
    {"on": "scan", "scan": "@code"},
    {"on": "summary", "tap": "continue"},
    # Asked unless the booking has the guest on file (the demo's prepaid one).
    {"on": "register", "type": "Wei Wang", "optional": True},
    {"on": "register", "tap": "passport", "optional": True},
    {"on": "register", "type": "E12345678", "optional": True},
]


@dataclass
class Kiosk:
    journey: CheckinJourney
    outbox: DurableOutbox
    cache: ArrivalsCache
    backend: OfflineBackend
    payment_log: PaymentLog


@pytest.fixture
def demo(sim_server: SimServer) -> dict[str, dict[str, Any]]:
    return {a["case"]: a for a in seed_demo(sim_server, seed=1)["arrivals"]}


@pytest.fixture
async def client(sim_server: SimServer) -> AsyncIterator[PmsClient]:
    async with PmsClient(
        sim_server.url, SIM_TOKEN, timeout=1, read_retries=0, retry_backoff=0.01
    ) as client:
        yield client  # type: ignore[misc]


@pytest.fixture
def kiosk(tmp_path: Path, client: PmsClient, sim_clock: SimClock) -> Iterator[Kiosk]:
    db = state_db(tmp_path)
    outbox = durable_outbox(tmp_path, pms=client, db=db)
    devices = simulated_devices(tmp_path, terminal_response_timeout_s=0.05)
    cache = ArrivalsCache(db, Sealer.for_state_dir(tmp_path))
    backend = OfflineBackend(
        pms_backend(client, outbox),
        cache,
        OfflinePolicy(),
        lambda: devices.terminal.health().level is not HealthLevel.FAULT,
    )
    payment_log = PaymentLog(db)
    journey = CheckinJourney(
        backend,
        devices,
        SETTINGS,
        payment_log,
        Catalogue.load(tz=SETTINGS.timezone),
        signing_key=KEY,
        now=sim_clock,
    )
    yield Kiosk(journey, outbox, cache, backend, payment_log)
    devices.terminal.close()
    db.close()


def code(arrival: dict[str, Any]) -> str:
    return encode_payload(PmsOrderRef(arrival["order_id"], arrival["order_no"]), signing_key=KEY)


async def guest(kiosk: Kiosk, arrival: dict[str, Any], *tail: dict, outcome: str) -> Any:
    script = GuestScript.model_validate(
        {
            "name": "offline guest",
            "actions": [*GUEST, *tail],
            "expect": {"outcome": outcome},
            "max_seconds": 40,
        }
    )
    report = await run_script(kiosk.journey, script, {"code": code(arrival)})
    assert report.passed, (report.failures, report.transcript)
    return report.result


async def checked_in_offline(
    kiosk: Kiosk, sim_server: SimServer, arrival: dict[str, Any], *tail: dict
) -> Any:
    """The arrivals prefetched, then the guest checks in with the back-end down; it is up
    again afterwards."""
    await prefetch(kiosk.backend, kiosk.cache, SETTINGS.zone, sim_server.clock())
    sim_server.stop()
    try:
        return await guest(
            kiosk,
            arrival,
            *tail,
            {"on": "receipt", "tap": "continue"},
            {"on": "done", "tap": "finish"},
            outcome="checked_in",
        )
    finally:
        sim_server.start()


async def folio(client: PmsClient, order_id: int) -> tuple[list[Any], list[str], Any]:
    detail = await client.get_accom_detail(AccomDetailRequest(order_id=order_id))
    bills = await client.get_bill_list(
        BillListRequest(order_id=order_id, list_type=BillListType.CASHIER, page_no=1, page_size=100)
    )
    accom = detail.accom_list[0]
    cards = await client.get_all_accom_card(AccomRef(accom_id=accom.accom_id))
    return bills.bills, [c.card_uid for c in cards], accom


async def test_a_whole_journey_with_the_backend_down_then_everything_lands_once(
    kiosk: Kiosk, sim_server: SimServer, client: PmsClient, demo: dict[str, Any]
) -> None:
    report = await prefetch(kiosk.backend, kiosk.cache, SETTINGS.zone, sim_server.clock())
    assert report.reservations >= 3
    arrival = demo["balance_due"]
    encoder = kiosk.journey.devices.encoder
    written: list[bytes] = []
    write_key = encoder.write_key

    def observed(key: bytes) -> Any:  # the real encoder, only watched
        written.append(key)
        return write_key(key)

    encoder.write_key = observed  # type: ignore[method-assign]
    sim_server.stop()
    try:
        result = await guest(
            kiosk,
            arrival,
            {"on": "payment", "pay": "approve"},
            {"on": "receipt", "tap": "continue"},
            {"on": "done", "tap": "finish"},
            outcome="checked_in",
        )
        assert kiosk.backend.offline
        assert len(result.cards) == 1 and len(result.payments) == 1
        queued = kiosk.outbox.entries()
        assert [e.operation for e in queued] == [
            "updateAccomTenant",
            "checkIn",
            "addAccomCard",
            "cashier",
        ]
        assert all(e.state == "pending" for e in queued)
        # The card holds generateRoomCard's format, composed by the kiosk.
        payload = json.loads(written[-1])
        assert set(payload) == {"room_id", "check_in_time", "check_out_time"}
    finally:
        sim_server.start()

    assert await kiosk.outbox.drain(deadline_s=20)
    assert kiosk.outbox.counts() == {"delivered": 4}
    bills, cards, accom = await folio(client, arrival["order_id"])
    assert accom.accom_status is AccomStatus.CHECKED_IN
    assert [c.upper() for c in cards] == [result.cards[0].upper()]
    assert len([b for b in bills if result.payments[0] in b.remark]) == 1
    assert [t.id_number for t in accom.tenant_list].count("E12345678") == 1
    # the key the kiosk composed is the one the PMS would have made
    card = await client.generate_room_card(AccomRef(accom_id=accom.accom_id))
    assert json.loads(card.card_bytes) == payload

    # A second drain (or a relay replay) sends nothing again.
    assert kiosk.outbox.retry() == 0
    assert await kiosk.outbox.drain(deadline_s=5)
    bills_again, cards_again, _ = await folio(client, arrival["order_id"])
    assert len(bills_again) == len(bills) and cards_again == cards


async def test_a_booking_cancelled_at_the_desk_meanwhile_is_parked_not_overwritten(
    kiosk: Kiosk, sim_server: SimServer, client: PmsClient, demo: dict[str, Any]
) -> None:
    arrival = demo["prepaid"]
    await checked_in_offline(kiosk, sim_server, arrival)
    # The desk cancels the booking before the kiosk reconnects.
    detail = await client.get_accom_detail(AccomDetailRequest(order_id=arrival["order_id"]))
    stays = [a.accom_id for a in detail.accom_list]
    await client.invoke("cancelBook", {"accom_ids": stays, "penalty_amount": "0.00"})

    await kiosk.outbox.drain(deadline_s=10)
    dead = [e for e in kiosk.outbox.entries() if e.state == DEAD]
    assert dead, kiosk.outbox.counts()
    assert any("cancelled" in e.error for e in dead), [e.error for e in dead]
    _, cards, accom = await folio(client, arrival["order_id"])
    assert cards == []
    assert accom.accom_status is AccomStatus.CANCELLED  # never checked in behind the desk's back


async def test_a_room_given_to_another_guest_meanwhile_is_parked_not_overwritten(
    kiosk: Kiosk, sim_server: SimServer, client: PmsClient, demo: dict[str, Any]
) -> None:
    arrival = demo["dirty_room"]  # its room is dirty: the kiosk assigns a cached clean one
    await checked_in_offline(kiosk, sim_server, arrival, {"on": "room", "tap": "#0"})
    cached = kiosk.cache.reservation(str(arrival["order_id"]))
    assert cached is not None and cached.stays[0].room is not None
    room_id = int(cached.stays[0].room.room_id)
    # Meanwhile the desk checks another guest into that very room.
    other = demo["prepaid"]
    detail = await client.get_accom_detail(AccomDetailRequest(order_id=other["order_id"]))
    await client.invoke(
        "checkIn",
        {
            "order_id": other["order_id"],
            "checkin_rooms": [{"accom_id": detail.accom_list[0].accom_id, "room_id": room_id}],
        },
    )

    await kiosk.outbox.drain(deadline_s=10)
    dead = {e.operation: e.error for e in kiosk.outbox.entries() if e.state == DEAD}
    assert "given to another guest" in dead.get("checkIn", ""), dead
    _, cards, accom = await folio(client, arrival["order_id"])
    assert accom.accom_status is AccomStatus.BOOKED and accom.room_id != room_id
    assert cards == []  # the card record waits on the check-in: parked too, never applied


async def test_a_bill_paid_at_the_desk_meanwhile_is_parked_for_a_refund(
    kiosk: Kiosk, sim_server: SimServer, client: PmsClient, demo: dict[str, Any]
) -> None:
    arrival = demo["balance_due"]
    result = await checked_in_offline(
        kiosk, sim_server, arrival, {"on": "payment", "pay": "approve"}
    )
    # Before the kiosk reconnects, the guest's companion pays the balance at the desk.
    await client.invoke(
        "cashier",
        {"order_id": arrival["order_id"],
         "bills": [{"bill_type": 10, "name": "Desk", "amount": "676.00", "remark": "desk"}]},
    )  # fmt: skip

    await kiosk.outbox.drain(deadline_s=10)
    dead = {e.operation: e.error for e in kiosk.outbox.entries() if e.state == DEAD}
    assert "refund" in dead.get("cashier", ""), dead
    bills, _, accom = await folio(client, arrival["order_id"])
    assert not any(result.payments[0] in b.remark for b in bills)  # not booked twice
    assert accom.accom_status is AccomStatus.CHECKED_IN  # the guest holds a working key


async def test_an_arrival_after_midnight_checks_in_offline(
    kiosk: Kiosk, sim_server: SimServer, sim_clock: SimClock, demo: dict[str, Any]
) -> None:
    """01:30 the next morning (Shanghai) yesterday's arrival is still due: it is cached."""
    sim_clock.now += timedelta(hours=11, minutes=30)
    result = await checked_in_offline(kiosk, sim_server, demo["prepaid"])
    assert result.outcome == "checked_in" and result.cards
