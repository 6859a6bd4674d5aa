"""The outbox seam: Mutation values, the durable outbox's entries, idempotent keys, API
routing.

The entry and key rules are checked with a plain recording sender (the seam's own
extension point) over a state database in tmp_path; routing and outcomes go through the
real clients to the property simulator over loopback.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kiosk.api import PmsError, TransportError
from kiosk.api.openability import OpenAbilityClient
from kiosk.api.pms import PmsClient
from kiosk.api.pms_types import BillType, CashierPayment, CashierRequest, CreatedReminder
from kiosk.outbox import Backoff, DurableOutbox, Mutation, OutboxEntry, Queued, Sender
from kiosk.sealing import Sealer
from kiosk.sim.server import SimServer
from kiosk.state import DB_FILE, StateDb
from tests.conftest import SIM_TOKEN
from tests.journey_kit import durable_outbox

pytestmark = pytest.mark.timeout(30)

ALL_STATES = ("pending", "in_flight", "delivered", "refused", "dead")


def _mutation(reference: str = "ref-1", amount: str = "10.00", **kw: Any) -> Mutation:
    request = {"order_id": 1, "bills": [{"bill_type": 10, "name": "x", "amount": amount}]}
    return Mutation.of(kw.pop("api", "pms"), kw.pop("operation", "cashier"), request, reference)


class RecordingSender:
    """Answers with a typed reply numbered by the sends so far, or raises the queued
    errors first."""

    def __init__(self, *errors: Exception) -> None:
        self.sent: list[Mutation] = []
        self._errors = list(errors)

    async def __call__(self, mutation: Mutation) -> Any:
        self.sent.append(mutation)
        if self._errors:
            raise self._errors.pop(0)
        return CreatedReminder(remind_id=len(self.sent))


def _outbox(folder: Path, sender: Sender) -> DurableOutbox:
    """A durable outbox in ``folder`` whose PMS writes go to ``sender`` (no reconciler)."""
    return DurableOutbox(
        StateDb.in_dir(folder),
        Sealer.for_state_dir(folder),
        {"pms": sender},
        backoff=Backoff(base_s=0.01, cap_s=0.05),
    )


def _entries(outbox: DurableOutbox) -> list[OutboxEntry]:
    return outbox.entries(ALL_STATES)


def _is_utc(text: str) -> bool:
    return datetime.fromisoformat(text).utcoffset() == timedelta(0)


# --- Mutation -----------------------------------------------------------------------------


def test_mutation_from_a_request_model_is_the_seed_json() -> None:
    request = CashierRequest(
        order_id=7,
        bills=[CashierPayment(bill_type=BillType.PAYMENT, name="n", amount=Decimal("12.5"))],
    )
    mutation = Mutation.of("pms", "cashier", request, "r")
    assert mutation.request == {
        "order_id": 7,
        "bills": [{"bill_type": 10, "name": "n", "amount": "12.50"}],
    }
    assert mutation.created_at.tzinfo is not None
    assert mutation.key == ("pms", "cashier", "r")


def test_mutation_refuses_naive_or_non_utc_times_and_non_json() -> None:
    with pytest.raises(ValueError, match="UTC"):
        Mutation("pms", "cashier", {}, "r", datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="UTC"):
        Mutation(
            "pms", "cashier", {}, "r", datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=8)))
        )
    with pytest.raises(ValueError, match="JSON"):
        Mutation("pms", "cashier", {"amount": Decimal("1")}, "r", datetime.now(UTC))
    with pytest.raises(ValueError, match="reference"):
        Mutation("pms", "cashier", {}, "", datetime.now(UTC))


def test_mutation_repr_hides_the_request() -> None:
    mutation = Mutation.of("pms", "updateAccomTenant", {"name": "Zhang Wei"}, "r")
    assert "Zhang" not in repr(mutation)


# --- DurableOutbox: entries and keys -------------------------------------------------------


async def test_an_entry_records_each_attempt_and_where_it_ended(tmp_path: Path) -> None:
    sender = RecordingSender(
        TransportError("cashier", "unreachable", ambiguous=False),
        TransportError("cashier", "timed out", ambiguous=True),
        PmsError("cashier", 409, "conflict"),
    )
    outbox = _outbox(tmp_path, sender)

    with pytest.raises(Queued):  # not reached: committed, left for the relay
        await outbox.send(_mutation())
    [entry] = _entries(outbox)
    assert (entry.state, entry.attempts, entry.ambiguous) == ("pending", 1, False)
    assert entry.error == "TransportError"
    assert outbox.depth() == 1

    with pytest.raises(Queued):  # the reply was lost: it may have landed
        await outbox.send(_mutation())
    [entry] = _entries(outbox)
    assert (entry.state, entry.attempts, entry.ambiguous) == ("pending", 2, True)

    with pytest.raises(PmsError):  # refused by the back-end: the caller hears it
        await outbox.send(_mutation())
    [entry] = _entries(outbox)
    assert (entry.state, entry.attempts, entry.error) == ("refused", 3, "PmsError 409")
    assert outbox.depth() == 0

    assert await outbox.send(_mutation()) == CreatedReminder(remind_id=4)
    [entry] = _entries(outbox)
    assert (entry.state, entry.attempts, entry.error) == ("delivered", 4, "")
    assert (entry.api, entry.operation, entry.reference) == ("pms", "cashier", "ref-1")
    assert outbox.counts() == {"delivered": 1}
    assert len(sender.sent) == 4
    assert _is_utc(entry.created_at) and _is_utc(entry.updated_at)


async def test_an_applied_key_is_not_sent_again_and_returns_the_first_reply(
    tmp_path: Path,
) -> None:
    sender = RecordingSender()
    outbox = _outbox(tmp_path, sender)
    first = await outbox.send(_mutation("a", operation="createReminder"))
    again = await outbox.send(_mutation("a", operation="createReminder"))
    other = await outbox.send(_mutation("b", operation="createReminder"))
    assert first == again == CreatedReminder(remind_id=1)
    assert other == CreatedReminder(remind_id=2)
    assert [m.reference for m in sender.sent] == ["a", "b"]
    assert [(e.reference, e.state, e.attempts) for e in _entries(outbox)] == [
        ("a", "delivered", 1),
        ("b", "delivered", 1),
    ]


async def test_an_applied_key_survives_a_restart(tmp_path: Path) -> None:
    """The key and its reply are in the state database, not in the process."""
    await _outbox(tmp_path, RecordingSender()).send(_mutation("a", operation="createReminder"))
    sender = RecordingSender()
    again = await _outbox(tmp_path, sender).send(_mutation("a", operation="createReminder"))
    assert again == CreatedReminder(remind_id=1)
    assert sender.sent == []


async def test_a_reused_reference_with_another_request_is_refused(tmp_path: Path) -> None:
    sender = RecordingSender(PmsError("cashier", 409, "conflict"))
    outbox = _outbox(tmp_path, sender)
    with pytest.raises(PmsError):
        await outbox.send(_mutation("a", amount="10.00"))
    with pytest.raises(ValueError, match="reused"):
        await outbox.send(_mutation("a", amount="99.00"))
    assert len(sender.sent) == 1
    assert [(e.reference, e.state) for e in _entries(outbox)] == [("a", "refused")]


async def test_an_unconfigured_api_is_refused(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path, RecordingSender())
    with pytest.raises(ValueError, match="openability"):
        await outbox.send(_mutation(api="openability", operation="update_order_info"))
    assert _entries(outbox) == []


async def test_the_relay_delivers_a_queued_write_once_the_backend_answers(
    tmp_path: Path,
) -> None:
    sender = RecordingSender(TransportError("cashier", "unreachable", ambiguous=False))
    outbox = _outbox(tmp_path, sender)
    with pytest.raises(Queued):
        await outbox.send(_mutation())
    assert await outbox.drain(deadline_s=5)
    [entry] = _entries(outbox)
    assert (entry.state, entry.attempts) == ("delivered", 2)
    assert [m.reference for m in sender.sent] == ["ref-1", "ref-1"]
    assert outbox.depth() == 0


async def test_logs_carry_no_request_data(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    outbox = _outbox(tmp_path, RecordingSender(PmsError("x", 400, "bad")))
    mutation = Mutation.of("pms", "updateAccomTenant", {"name": "Zhang Wei"}, "ref-9")
    with pytest.raises(PmsError):
        await outbox.send(mutation)
    await outbox.send(mutation)
    assert "ref-9" in caplog.text
    assert "Zhang" not in caplog.text
    assert all("Zhang" not in e.error for e in _entries(outbox))


async def test_the_stored_request_is_sealed_and_purged_once_delivered(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path, RecordingSender(PmsError("x", 400, "bad")))
    mutation = Mutation.of("pms", "updateAccomTenant", {"name": "Zhang Wei"}, "ref-9")
    with pytest.raises(PmsError):
        await outbox.send(mutation)

    def stored_requests() -> list[bytes | None]:
        with sqlite3.connect(tmp_path / DB_FILE) as conn:
            return [row[0] for row in conn.execute("SELECT request FROM outbox")]

    [sealed] = stored_requests()  # refused: kept (a new send may try again), sealed
    assert sealed is not None and b"Zhang" not in sealed
    assert Sealer.for_state_dir(tmp_path).open(sealed) == {"name": "Zhang Wei"}
    for path in tmp_path.glob(DB_FILE + "*"):  # the database and its WAL
        assert b"Zhang" not in path.read_bytes()

    await outbox.send(mutation)
    assert stored_requests() == [None]  # delivered: the guest data is gone


# --- through the real clients to the simulator ---------------------------------------------


@pytest.fixture
async def clients(sim_server: SimServer) -> AsyncIterator[tuple[PmsClient, OpenAbilityClient]]:
    async with (
        PmsClient(sim_server.url, SIM_TOKEN, retry_backoff=0.01) as pms,
        OpenAbilityClient(sim_server.url, SIM_TOKEN, retry_backoff=0.01) as oa,
    ):
        yield pms, oa  # type: ignore[misc]


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """The kiosk's state directory, apart from the simulator's database."""
    return tmp_path / "state"


async def test_read_operations_are_not_mutations(
    clients: tuple[PmsClient, OpenAbilityClient], state_dir: Path
) -> None:
    pms, oa = clients
    outbox = durable_outbox(state_dir, pms=pms, openability=oa)
    for api, operation, request in (
        ("pms", "getAccomDetail", {"order_id": 1}),
        ("pms", "noSuchOperation", {}),
        ("openability", "get_order_info", {"order_id": "o1"}),
    ):
        with pytest.raises(ValueError, match=r"not an? .*mutation"):
            await outbox.send(Mutation.of(api, operation, request, "r"))  # type: ignore[arg-type]
    assert _entries(outbox) == []  # refused before anything is stored


async def test_a_pms_refusal_is_stored_as_refused(
    clients: tuple[PmsClient, OpenAbilityClient], state_dir: Path
) -> None:
    outbox = durable_outbox(state_dir, pms=clients[0])
    mutation = Mutation.of("pms", "checkIn", {"order_id": 999999, "checkin_rooms": []}, "r1")
    with pytest.raises(PmsError) as refused:
        await outbox.send(mutation)
    [entry] = _entries(outbox)
    assert (entry.operation, entry.reference, entry.state, entry.attempts) == (
        "checkIn",
        "r1",
        "refused",
        1,
    )
    assert entry.error == f"PmsError {refused.value.error_code}"


@pytest.fixture
def recording_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback HTTP server that answers every open-ability command with success."""
    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            data = json.dumps({"success": True, "timestamp": 0, "result": {}}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", bodies
    httpd.shutdown()
    httpd.server_close()


async def test_an_openability_command_carries_the_reference_as_its_id(
    recording_server: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, bodies = recording_server
    async with OpenAbilityClient(url, SIM_TOKEN) as oa:
        outbox = durable_outbox(tmp_path, openability=oa)
        request = {"order_id": "o1", "order_state": "checked_in"}
        await outbox.send(Mutation.of("openability", "update_order_info", request, "kiosk-ref-1"))
    assert bodies == [{"command": "update_order_info", "id": "kiosk-ref-1", "param": request}]
    assert [(e.api, e.reference, e.state) for e in _entries(outbox)] == [
        ("openability", "kiosk-ref-1", "delivered")
    ]


async def test_a_stopped_backend_leaves_the_write_pending(
    clients: tuple[PmsClient, OpenAbilityClient], sim_server: SimServer, state_dir: Path
) -> None:
    outbox = durable_outbox(state_dir, pms=clients[0])
    sim_server.stop()
    with pytest.raises(Queued) as queued:
        await outbox.send(_mutation())
    [entry] = _entries(outbox)
    assert entry.id == queued.value.entry_id
    assert (entry.state, entry.attempts, entry.ambiguous) == ("pending", 1, False)
    assert entry.error == "TransportError"
    assert outbox.depth() == 1


# --- backoff, Retry-After, order, recovery --------------------------------------------------


def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    backoff = Backoff(base_s=1.0, cap_s=10.0)
    for attempts, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (5, 10.0), (9, 10.0)):
        delays = [backoff.delay(attempts) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 10  # jittered, not one fixed value
    assert backoff.delay(1, retry_after=7.0) == 7.0
    assert backoff.delay(1, retry_after=999.0) == 999.0  # the back-end's word, not the cap


async def test_a_new_write_while_the_backend_is_away_is_stored_not_tried(tmp_path: Path) -> None:
    sender = RecordingSender(TransportError("cashier", "unreachable", ambiguous=False))
    outbox = DurableOutbox(
        StateDb.in_dir(tmp_path), Sealer.for_state_dir(tmp_path), {"pms": sender}, quiet_s=60
    )
    with pytest.raises(Queued):
        await outbox.send(_mutation("a"))
    with pytest.raises(Queued):
        await outbox.send(_mutation("b"))
    assert [m.reference for m in sender.sent] == ["a"]  # b was only stored
    b = next(e for e in _entries(outbox) if e.reference == "b")
    assert (b.state, b.attempts) == ("pending", 0)
    assert b.next_at >= outbox.entries()[0].next_at - 1  # due when the relay tries next


async def test_later_writes_of_a_journey_wait_behind_its_queued_one(tmp_path: Path) -> None:
    from kiosk.state import JourneyMark, current_journey

    sender = RecordingSender(TransportError("checkIn", "unreachable", ambiguous=False))
    outbox = DurableOutbox(
        StateDb.in_dir(tmp_path), Sealer.for_state_dir(tmp_path), {"pms": sender}, quiet_s=0
    )
    token = current_journey.set(JourneyMark("journey-1", "7"))
    try:
        with pytest.raises(Queued):
            await outbox.send(Mutation.of("pms", "checkIn", {"order_id": 7}, "c1"))
        with pytest.raises(Queued):  # the back-end answers now, but the check-in goes first
            await outbox.send(Mutation.of("pms", "addAccomCard", {"accom_id": 1}, "k1"))
    finally:
        current_journey.reset(token)
    assert [m.reference for m in sender.sent] == ["c1"]
    assert outbox.retry() == 2
    assert await outbox.drain(deadline_s=5)
    assert [m.reference for m in sender.sent] == ["c1", "c1", "k1"]  # in the journey's order
    steps = outbox.db.query("SELECT booking, step FROM journeys WHERE id = 'journey-1'")
    assert (steps[0]["booking"], steps[0]["step"]) == ("7", "addAccomCard")


async def test_a_crash_in_flight_is_reconciled_before_its_replay(tmp_path: Path) -> None:
    landed: list[str] = []

    async def reconcile(mutation: Mutation, booking: str, maybe_landed: bool) -> Any:
        from kiosk.outbox import Verdict

        assert maybe_landed  # its reply never came: it may have
        landed.append(mutation.reference)
        return Verdict.LANDED  # the back-end shows it applied

    sender = RecordingSender()
    outbox = DurableOutbox(
        StateDb.in_dir(tmp_path), Sealer.for_state_dir(tmp_path), {"pms": sender},
        {"pms": reconcile},
    )  # fmt: skip
    with outbox.db.transaction() as conn:  # what a kill -9 mid-send leaves behind
        conn.execute(
            "INSERT INTO outbox (journey, api, operation, reference, request, state, next_at,"
            " created_at, updated_at) VALUES ('j', 'pms', 'cashier', 'r', ?, 'in_flight', 0,"
            " '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00')",
            (Sealer.for_state_dir(tmp_path).seal({"order_id": 1}),),
        )
    assert outbox.recover() == 1
    assert _entries(outbox)[0].ambiguous
    assert await outbox.drain(deadline_s=5)
    assert landed == ["r"] and sender.sent == []  # never sent twice
    assert outbox.counts() == {"delivered": 1}


def test_the_state_database_survives_power_loss(tmp_path: Path) -> None:
    db = StateDb.in_dir(tmp_path)
    assert db.query("PRAGMA journal_mode")[0][0] == "wal"
    assert db.query("PRAGMA synchronous")[0][0] == 2  # FULL


async def test_retry_after_sets_when_the_entry_is_tried_again(tmp_path: Path) -> None:
    from kiosk.api import HttpStatusError
    from kiosk.api._client import retry_after_s

    assert retry_after_s("42") == 42.0
    assert retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past
    assert retry_after_s("soon") is None
    sender = RecordingSender(HttpStatusError("cashier", 503, retry_after=42.0))
    outbox = _outbox(tmp_path, sender)
    with pytest.raises(Queued):
        await outbox.send(_mutation())
    entry = _entries(outbox)[0]
    assert (entry.state, entry.error) == ("pending", "HTTP 503")
    assert 40 < entry.next_at - datetime.now(UTC).timestamp() <= 42


async def test_old_delivered_entries_and_their_journeys_are_purged(tmp_path: Path) -> None:
    from kiosk.state import JourneyMark, current_journey

    outbox = _outbox(tmp_path, RecordingSender())
    token = current_journey.set(JourneyMark("journey-old", "7"))
    try:
        await outbox.send(_mutation("a"))
    finally:
        current_journey.reset(token)
    assert outbox.purge_delivered(older_than_s=3600) == 0  # too recent
    assert outbox.purge_delivered(older_than_s=0) == 1
    assert _entries(outbox) == []
    assert outbox.db.query("SELECT id FROM journeys") == []
