"""The network between the kiosk and the back-end misbehaves: a loopback TCP proxy in front
of the property simulator drops connections before or after the request reached it,
stalls, answers 500 after the write was applied, or answers late. Guests check in through
it; then the network heals, the outbox drains, and the books must be exactly right."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from hardware.payment.protocol import Outcome
from kiosk.api.pms import PmsClient
from kiosk.api.pms_types import (
    AccomDetailRequest,
    AccomRef,
    AccomStatus,
    BillListRequest,
    BillListType,
)
from kiosk.demo.script import GuestScript, run_script
from kiosk.journeys.payment import PaymentLog
from kiosk.outbox import DurableOutbox
from kiosk.qr_payload import PmsOrderRef, encode_payload
from kiosk.sim.demo import seed_demo
from kiosk.sim.server import SimServer
from tests.conftest import SIM_TOKEN, SimClock
from tests.journey_kit import FAST, any_guest, fast_devices, pms_journey, state_db
from tests.loopback import LoopbackServer, forward

pytestmark = pytest.mark.timeout(120)

KEY = b"flaky-network-key-not-a-secret"
SETTINGS = FAST.model_copy(update={"backend_timeout_s": 8, "max_cards_per_room": 1})
FAULTS = ("drop_before", "drop_after", "stall", "error_500", "slow")
EVERY = 3  # one connection in three meets the next fault: a flaky link, not a dead one
CLIENT_TIMEOUT_S = 0.5


@dataclass
class FlakyProxy(LoopbackServer):
    """Each new connection gets a mode: ``pass`` forwards both ways; ``drop_before``
    closes it before the request reaches the back-end; ``drop_after`` forwards the
    request and drops the reply; ``stall`` forwards it and never answers; ``error_500``
    forwards it and answers 500 in place of the reply; ``slow`` answers late, within the
    client's timeout. Every third connection meets the next fault, in a shuffled cycle."""

    upstream: tuple[str, int]
    rng: random.Random
    healthy: bool = False
    _faults: list[str] = field(default_factory=list)
    modes_seen: list[str] = field(default_factory=list)

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        mode = "pass"
        if not self.healthy and len(self.modes_seen) % EVERY == EVERY - 1:
            if not self._faults:
                self._faults = self.rng.sample(FAULTS, len(FAULTS))
            mode = self._faults.pop()
        self.modes_seen.append(mode)
        try:
            request = await client_r.read(65536)  # one small JSON request per connection
            if mode == "drop_before" or not request:
                return
            reply = await forward(self.upstream, request)
            if mode == "drop_after":
                return
            if mode == "stall":
                await asyncio.sleep(CLIENT_TIMEOUT_S * 4)
                return
            if mode == "error_500":
                reply = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"
            if mode == "slow":
                await asyncio.sleep(CLIENT_TIMEOUT_S / 3)
            client_w.write(reply)
            await client_w.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            client_w.close()


@pytest.fixture
def demo(sim_server: SimServer) -> dict[str, dict[str, Any]]:
    return {a["case"]: a for a in seed_demo(sim_server, seed=1)["arrivals"]}


@pytest.fixture(params=[1, 2, 3])  # the order the faults come in
async def proxy(
    request: pytest.FixtureRequest, sim_server: SimServer
) -> AsyncIterator[tuple[FlakyProxy, str]]:
    host, port = sim_server.url.removeprefix("http://").split(":")
    flaky = FlakyProxy((host, int(port)), random.Random(request.param))
    url = await flaky.start()
    yield flaky, url
    await flaky.stop()


@pytest.fixture
async def client(proxy: tuple[FlakyProxy, str]) -> AsyncIterator[PmsClient]:
    # One connection per request, so that each request meets a fresh draw of the proxy.
    transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))
    async with PmsClient(
        proxy[1], SIM_TOKEN, timeout=CLIENT_TIMEOUT_S, read_retries=3, retry_backoff=0.01,
        transport=transport,
    ) as client:  # fmt: skip
        yield client  # type: ignore[misc]


@pytest.fixture
def devices(tmp_path: Path) -> Iterator[Any]:
    with fast_devices(tmp_path) as bundle:
        yield bundle


GUEST = [
    *any_guest(("Li Na", "G87654321")),  # two rooms: a second guest
    {"on": "refusal", "tap": "finish", "optional": True},
]


async def test_books_balance_after_drops_stalls_500s_and_late_replies(
    proxy: tuple[FlakyProxy, str],
    client: PmsClient,
    devices: Any,
    tmp_path: Path,
    sim_server: SimServer,
    sim_clock: SimClock,
    demo: dict[str, dict[str, Any]],
) -> None:
    flaky, _ = proxy
    db = state_db(tmp_path)
    payment_log = PaymentLog(db)
    journey = pms_journey(client, devices, SETTINGS, payment_log, signing_key=KEY, now=sim_clock)
    outbox: DurableOutbox = journey.backend._outbox  # type: ignore[attr-defined]
    results = {}
    for case in ("prepaid", "balance_due", "two_rooms", "unassigned_room"):
        arrival = demo[case]
        code = encode_payload(
            PmsOrderRef(arrival["order_id"], arrival["order_no"]), signing_key=KEY
        )
        script = GuestScript.model_validate(
            {"name": case, "actions": GUEST, "expect": {"outcome": "checked_in"},
             "max_seconds": 60}
        )  # fmt: skip
        results[case] = (await run_script(journey, script, {"code": code})).result
    assert set(FAULTS) <= set(flaky.modes_seen), flaky.modes_seen  # every fault was met
    assert any(r.cards for r in results.values())  # some guests got through it all
    print({case: r.outcome for case, r in results.items()}, len(flaky.modes_seen), "connections")

    flaky.healthy = True
    assert await outbox.drain(deadline_s=30), outbox.counts()
    assert not outbox.entries(("dead",)), [(e.operation, e.error) for e in outbox.entries()]

    async with PmsClient(sim_server.url, SIM_TOKEN) as direct:
        for case, result in results.items():
            order_id = demo[case]["order_id"]
            detail = await direct.get_accom_detail(AccomDetailRequest(order_id=order_id))
            bills = await direct.get_bill_list(
                BillListRequest(
                    order_id=order_id, list_type=BillListType.CASHIER, page_no=1, page_size=100
                )
            )
            kept = [
                r.reference
                for r in payment_log.records()
                if r.booking == str(order_id) and r.state == "recorded"
            ]
            for reference in {*result.payments, *result.voided}:
                on_folio = sum(reference in b.remark.split() for b in bills.bills)
                assert on_folio == (1 if reference in kept else 0), (case, reference, on_folio)
            records = []
            for accom in detail.accom_list:
                cards = await direct.get_all_accom_card(AccomRef(accom_id=accom.accom_id))
                records += [c.card_uid.upper() for c in cards]
            assert len(records) == len(set(records)), (case, records)
            taken = [uid.upper() for uid in result.cards]
            states = {a.accom_status for a in detail.accom_list}
            if taken:  # a key in hand: checked in, paid, its card on record
                assert set(taken) <= set(records), (case, taken, records)
                assert states == {AccomStatus.CHECKED_IN}, (case, result.outcome, states)
                if case == "balance_due":  # never a key without money
                    assert len(kept) == 1, (case, kept)
            else:  # no key: no money kept, nobody shown in the room
                assert not kept, (case, kept)
                assert states <= {AccomStatus.BOOKED}, (case, result.outcome, states)
    terminal_kept = {
        e.reference for e in devices.terminal.journal() if e.event == Outcome.APPROVED.value
    } - {e.reference for e in devices.terminal.journal() if e.event == Outcome.VOIDED.value}
    recorded = {r.reference for r in payment_log.records() if r.state == "recorded"}
    assert terminal_kept == recorded  # every approved payment is on the folio or voided
