"""A write whose reply cannot be read may have landed, exactly like a write whose reply was
lost: it stays in the outbox's journal, pending and ambiguous, and is reconciled before any
replay; a guest who holds a card never sees an error for it (issue 10, "Clients").

The probe's case: a ``cashier`` whose reply could not be decoded had been applied at the
PMS, yet the outbox journal had no entry for it and the run reported nothing unrecorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiosk.api import pms_types as t
from kiosk.api.pms import PmsClient
from kiosk.demo.script import GuestScript, run_script
from kiosk.journeys.payment import RECORDED, PaymentLog
from kiosk.outbox import PENDING, DurableOutbox, Mutation, Queued
from kiosk.qr_payload import PmsOrderRef, encode_payload
from kiosk.sealing import Sealer
from kiosk.sim.demo import seed_demo
from kiosk.sim.server import SimServer
from tests.conftest import SIM_TOKEN, SimClock
from tests.journey_kit import FAST, any_guest, durable_outbox, fast_devices, pms_journey, state_db
from tests.loopback import LoopbackServer, forward, read_http_message
from tests.unit.test_client_hostile import (
    CASHIER,
    HostileServer,
    answer,
    endless,
    envelope,
    trickle,
)

pytestmark = pytest.mark.timeout(120)

KEY = b"ambiguous-writes-key-not-a-secret"
SETTINGS = FAST.model_copy(update={"max_cards_per_room": 1})
CAP = 64 * 1024  # the journey's client: a reply past this is refused

UNREADABLE_REPLIES: dict[str, Callable[[], Any]] = {
    "undecodable": lambda: answer(b"\x8b\x00 not json \xff"),
    "compressed": lambda: answer(b"\x1f\x8b garbage", "Content-Encoding: gzip"),
    "oversized": lambda: endless(2 * 1024 * 1024),
    "trickled": lambda: trickle(envelope({}).ljust(119), 0.2),
    "wrong_types": lambda: answer(envelope({}, "\uff10")),
    "deep_nesting": lambda: answer(b'{"error_code": 0, "data": ' + b"[" * 50_000 + b"}"),
}


@pytest.mark.parametrize("kind", sorted(UNREADABLE_REPLIES))
async def test_a_write_whose_reply_cannot_be_read_is_queued_as_ambiguous(
    kind: str, tmp_path: Path
) -> None:
    server = HostileServer(UNREADABLE_REPLIES[kind]())
    async with server as url, PmsClient(url, "tok", timeout=1.0, max_reply_bytes=CAP) as client:
        outbox = durable_outbox(tmp_path, pms=client)
        with pytest.raises(Queued):
            await outbox.send(Mutation.of("pms", "cashier", CASHIER, "bill-pay-1"))
    assert server.requests == 1  # sent once; a replay waits for the reconciler
    [entry] = outbox.entries()
    assert (entry.operation, entry.reference) == ("cashier", "bill-pay-1")
    assert entry.state == PENDING and entry.ambiguous, entry
    assert "may have landed" in entry.error
    assert outbox.depth() == 1  # what the operator's "N queued" counts


async def test_a_sender_bug_parks_the_write_as_ambiguous(tmp_path: Path) -> None:
    """Whatever escapes a sender, the entry stays in the journal, reconciled if retried."""

    async def broken(mutation: Mutation) -> Any:
        raise RecursionError("a bug")

    outbox = DurableOutbox(
        state_db(tmp_path),
        Sealer.for_state_dir(tmp_path),
        {"pms": broken},
    )
    with pytest.raises(RecursionError):
        await outbox.send(Mutation.of("pms", "cashier", CASHIER, "bill-pay-2"))
    [entry] = outbox.entries()
    assert entry.state == "dead" and entry.ambiguous, entry


# --- the journey: the PMS applied the write, the kiosk could not read its reply -----------


@dataclass
class CorruptingProxy(LoopbackServer):
    """Forwards to the simulator; the reply to ``operation`` (once it was applied there)
    is replaced by one the client cannot read, ``kind`` of :data:`PROXY_REPLIES`."""

    upstream: tuple[str, int]
    operation: str
    kind: str
    healthy: bool = False
    spare: int = 0  # this many matching replies pass untouched first
    corrupted: list[str] = field(default_factory=list)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await read_http_message(reader)
            path = request.split(b" ", 2)[1].decode()
            hit = not self.healthy and path.endswith(f"/{self.operation}")
            if hit and self.spare:
                self.spare, hit = self.spare - 1, False
            if hit and self.kind == "refused":  # the PMS says no: nothing applied
                self.corrupted.append(path)
                writer.write(PROXY_REPLIES[self.kind])
                await writer.drain()
                return
            reply = await forward(self.upstream, request)
            if hit:
                self.corrupted.append(path)
                reply = PROXY_REPLIES[self.kind]
            writer.write(reply)
            await writer.drain()
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


def _reply(body: bytes, *extra: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", f"Content-Length: {len(body)}", "Connection: close", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


PROXY_REPLIES = {
    "undecodable": _reply(b"\x8b\x00 not json \xff"),
    "oversized": _reply(json.dumps({"error_code": 0, "data": "x" * 2 * CAP}).encode()),
    "compressed": _reply(b"\x1f\x8b garbage", "Content-Encoding: gzip"),
    "refused": _reply(json.dumps({"error_code": 500, "error_msg": "card store busy"}).encode()),
}


GUEST = any_guest()


@pytest.fixture
def devices(tmp_path: Path) -> Iterator[Any]:
    with fast_devices(tmp_path) as bundle:
        yield bundle


@pytest.fixture
def balance_due(sim_server: SimServer) -> dict[str, Any]:
    arrivals = seed_demo(sim_server, seed=1)["arrivals"]
    return next(a for a in arrivals if a["case"] == "balance_due")


@contextlib.asynccontextmanager
async def _proxied(
    sim_server: SimServer, operation: str, kind: str, spare: int = 0
) -> AsyncIterator[tuple[CorruptingProxy, PmsClient]]:
    host, port = sim_server.url.removeprefix("http://").split(":")
    proxy = CorruptingProxy((host, int(port)), operation, kind, spare=spare)
    url = await proxy.start()
    transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))
    client = PmsClient(url, SIM_TOKEN, timeout=2.0, max_reply_bytes=CAP, transport=transport)
    try:
        yield proxy, client
    finally:
        await client.aclose()
        await proxy.stop()


Checked = Callable[[PmsClient, dict[str, Any], Any], Awaitable[int]]


async def _cashier_bills(direct: PmsClient, arrival: dict[str, Any], result: Any) -> int:
    """How many folio entries carry the journey's payment reference."""
    bills = await direct.get_bill_list(
        t.BillListRequest(
            order_id=arrival["order_id"],
            list_type=t.BillListType.CASHIER,
            page_no=1,
            page_size=100,
        )
    )
    [reference] = result.payments
    return sum(reference in bill.remark.split() for bill in bills.bills)


async def _card_records(direct: PmsClient, arrival: dict[str, Any], result: Any) -> int:
    """How many card records of the stays hold the card the guest took."""
    detail = await direct.get_accom_detail(t.AccomDetailRequest(order_id=arrival["order_id"]))
    [uid] = result.cards
    count = 0
    for accom in detail.accom_list:
        cards = await direct.get_all_accom_card(t.AccomRef(accom_id=accom.accom_id))
        count += sum(card.card_uid.upper() == uid.upper() for card in cards)
    return count


@pytest.mark.parametrize(
    ("operation", "kind", "on_record"),
    [
        ("cashier", "undecodable", _cashier_bills),
        ("cashier", "oversized", _cashier_bills),
        ("cashier", "compressed", _cashier_bills),
        ("addAccomCard", "undecodable", _card_records),
    ],
)
async def test_an_applied_write_with_an_unreadable_reply_is_journaled_and_the_guest_is_done(
    operation: str,
    kind: str,
    on_record: Checked,
    sim_server: SimServer,
    sim_clock: SimClock,
    devices: Any,
    tmp_path: Path,
    balance_due: dict[str, Any],
) -> None:
    async with _proxied(sim_server, operation, kind) as (proxy, client):
        payment_log = PaymentLog(state_db(tmp_path))
        journey = pms_journey(
            client, devices, SETTINGS, payment_log, signing_key=KEY, now=sim_clock
        )
        outbox: DurableOutbox = journey.backend._outbox  # type: ignore[attr-defined]
        code = encode_payload(
            PmsOrderRef(balance_due["order_id"], balance_due["order_no"]), signing_key=KEY
        )
        script = GuestScript.model_validate(
            {
                "name": "balance_due",
                "actions": GUEST,
                "expect": {"outcome": "checked_in"},
                "max_seconds": 60,
            }
        )
        result = (await run_script(journey, script, {"code": code})).result

        # The guest holds a key and was shown no error; the money stays, its entry queued.
        assert proxy.corrupted, "the write was never sent"
        assert result.outcome == "checked_in", result
        assert result.cards and result.payments and not result.unrecorded, result
        assert "refusal" not in result.steps, result.steps
        assert [r.state for r in payment_log.records()] == [RECORDED]
        [entry] = [e for e in outbox.entries() if e.operation == operation]
        assert entry.state == PENDING and entry.ambiguous, entry
        assert "ResponseFormatError" in entry.error and "may have landed" in entry.error
        assert outbox.depth() >= 1  # "N queued" on the operator's health line

        async with PmsClient(sim_server.url, SIM_TOKEN) as direct:
            assert await on_record(direct, balance_due, result) == 1  # it had landed

            # The network heals: the relay finds the write landed and does not send it again.
            proxy.healthy = True
            assert await outbox.drain(deadline_s=30), outbox.counts()
            assert not outbox.entries(), outbox.entries()
            assert await on_record(direct, balance_due, result) == 1


class BuggyCashier(PmsClient):
    """A client with a planted bug in sending ``cashier``: the outbox's last line of defence."""

    async def invoke(self, name: str, body: dict[str, Any]) -> Any:
        if name == "cashier":
            raise RuntimeError("a planted bug")
        return await super().invoke(name, body)


async def test_a_bug_recording_the_payment_is_reported_not_shown_to_the_guest(
    sim_server: SimServer,
    sim_clock: SimClock,
    devices: Any,
    tmp_path: Path,
    balance_due: dict[str, Any],
) -> None:
    async with BuggyCashier(sim_server.url, SIM_TOKEN, timeout=2.0) as client:
        payment_log = PaymentLog(state_db(tmp_path))
        journey = pms_journey(
            client, devices, SETTINGS, payment_log, signing_key=KEY, now=sim_clock
        )
        outbox: DurableOutbox = journey.backend._outbox  # type: ignore[attr-defined]
        code = encode_payload(
            PmsOrderRef(balance_due["order_id"], balance_due["order_no"]), signing_key=KEY
        )
        script = GuestScript.model_validate(
            {"name": "bug", "actions": GUEST, "expect": {"outcome": "checked_in"}}
        )
        result = (await run_script(journey, script, {"code": code})).result
    assert result.outcome == "checked_in" and result.cards, result
    assert "refusal" not in result.steps, result.steps
    assert result.unrecorded == result.payments != (), result  # told to the operator
    [entry] = outbox.entries(("dead",))
    assert entry.operation == "cashier" and entry.ambiguous, entry
    assert "RuntimeError" in entry.error


async def test_a_refused_record_of_an_extra_card_leaves_the_guest_with_their_key(
    sim_server: SimServer,
    sim_clock: SimClock,
    devices: Any,
    tmp_path: Path,
    balance_due: dict[str, Any],
) -> None:
    """The first card is recorded and taken; the PMS refuses to record the second copy: that
    copy is captured, and the guest, who holds the room's key, is not shown an error."""
    settings = FAST.model_copy(update={"max_cards_per_room": 2})
    async with _proxied(sim_server, "addAccomCard", "refused", spare=1) as (proxy, client):
        payment_log = PaymentLog(state_db(tmp_path))
        journey = pms_journey(
            client, devices, settings, payment_log, signing_key=KEY, now=sim_clock
        )
        code = encode_payload(
            PmsOrderRef(balance_due["order_id"], balance_due["order_no"]), signing_key=KEY
        )
        actions = [*GUEST[:-3], *GUEST[-3:-2], {"on": "keys", "tap": "2"}, *GUEST[-2:]]
        script = GuestScript.model_validate(
            {"name": "copies", "actions": actions, "expect": {"outcome": "checked_in"}}
        )
        result = (await run_script(journey, script, {"code": code})).result
    assert proxy.corrupted  # the second record was refused
    assert result.outcome == "checked_in", result
    assert len(result.cards) == 1 and result.rejected_cards == 1, result
    assert "refusal" not in result.steps, result.steps
    assert [r.state for r in payment_log.records()] == [RECORDED]
