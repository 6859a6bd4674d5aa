"""The outbox seam: Mutation values, DirectOutbox's journal, idempotent keys, API routing.

The journal and key rules are checked with a plain recording sender (the seam's own
extension point); routing and outcomes go through the real clients to the property
simulator over loopback.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from kiosk.api import PmsError, TransportError
from kiosk.api.openability import OpenAbilityClient
from kiosk.api.pms import PmsClient
from kiosk.api.pms_types import BillType, CashierPayment, CashierRequest
from kiosk.outbox import DirectOutbox, Mutation, Outcome
from kiosk.sim.server import SimServer
from tests.conftest import SIM_TOKEN

pytestmark = pytest.mark.timeout(30)


def _mutation(reference: str = "ref-1", amount: str = "10.00", **kw: Any) -> Mutation:
    request = {"order_id": 1, "bills": [{"bill_type": 10, "name": "x", "amount": amount}]}
    return Mutation.of(kw.pop("api", "pms"), kw.pop("operation", "cashier"), request, reference)


class RecordingSender:
    """Answers with a counter, or raises the queued errors first."""

    def __init__(self, *errors: Exception) -> None:
        self.sent: list[Mutation] = []
        self._errors = list(errors)

    async def __call__(self, mutation: Mutation) -> Any:
        self.sent.append(mutation)
        if self._errors:
            raise self._errors.pop(0)
        return {"reply": len(self.sent)}


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


# --- DirectOutbox: journal and keys --------------------------------------------------------


async def test_journal_records_each_attempt_with_its_outcome() -> None:
    sender = RecordingSender(
        TransportError("cashier", "unreachable", ambiguous=False),
        TransportError("cashier", "timed out", ambiguous=True),
        PmsError("cashier", 409, "conflict"),
    )
    outbox = DirectOutbox({"pms": sender})
    for _ in range(3):
        with pytest.raises((TransportError, PmsError)):
            await outbox.send(_mutation())
    assert await outbox.send(_mutation()) == {"reply": 4}
    assert [e.outcome for e in outbox.journal] == [
        Outcome.UNREACHABLE,
        Outcome.AMBIGUOUS,
        Outcome.REFUSED,
        Outcome.APPLIED,
    ]
    assert outbox.journal[2].error == "PmsError 409"
    assert all(e.at.tzinfo is UTC for e in outbox.journal)


async def test_an_applied_key_is_not_sent_again_and_returns_the_first_reply() -> None:
    sender = RecordingSender()
    outbox = DirectOutbox({"pms": sender})
    first = await outbox.send(_mutation("a"))
    again = await outbox.send(_mutation("a"))
    other = await outbox.send(_mutation("b"))
    assert first == again == {"reply": 1}
    assert other == {"reply": 2}
    assert [m.reference for m in sender.sent] == ["a", "b"]
    assert len(outbox.journal) == 2


async def test_a_reused_reference_with_another_request_is_refused() -> None:
    outbox = DirectOutbox({"pms": RecordingSender()})
    await outbox.send(_mutation("a", amount="10.00"))
    with pytest.raises(ValueError, match="reused"):
        await outbox.send(_mutation("a", amount="99.00"))


async def test_an_unconfigured_api_is_refused() -> None:
    outbox = DirectOutbox({"pms": RecordingSender()})
    with pytest.raises(ValueError, match="openability"):
        await outbox.send(_mutation(api="openability", operation="update_order_info"))
    assert outbox.journal == ()


async def test_logs_carry_no_request_data(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    outbox = DirectOutbox({"pms": RecordingSender(PmsError("x", 400, "bad"))})
    mutation = Mutation.of("pms", "updateAccomTenant", {"name": "Zhang Wei"}, "ref-9")
    with pytest.raises(PmsError):
        await outbox.send(mutation)
    await outbox.send(mutation)
    assert "ref-9" in caplog.text
    assert "Zhang" not in caplog.text


# --- through the real clients to the simulator ---------------------------------------------


@pytest.fixture
async def clients(sim_server: SimServer) -> AsyncIterator[tuple[PmsClient, OpenAbilityClient]]:
    async with (
        PmsClient(sim_server.url, SIM_TOKEN, retry_backoff=0.01) as pms,
        OpenAbilityClient(sim_server.url, SIM_TOKEN, retry_backoff=0.01) as oa,
    ):
        yield pms, oa  # type: ignore[misc]


async def test_read_operations_are_not_mutations(
    clients: tuple[PmsClient, OpenAbilityClient],
) -> None:
    pms, oa = clients
    outbox = DirectOutbox.for_clients(pms=pms, openability=oa)
    for api, operation, request in (
        ("pms", "getAccomDetail", {"order_id": 1}),
        ("pms", "noSuchOperation", {}),
        ("openability", "get_order_info", {"order_id": "o1"}),
    ):
        with pytest.raises(ValueError, match=r"not an? .*mutation"):
            await outbox.send(Mutation.of(api, operation, request, "r"))  # type: ignore[arg-type]
    assert outbox.journal == ()


async def test_a_pms_refusal_is_journalled_as_refused(
    clients: tuple[PmsClient, OpenAbilityClient],
) -> None:
    outbox = DirectOutbox.for_clients(pms=clients[0])
    mutation = Mutation.of("pms", "checkIn", {"order_id": 999999, "checkin_rooms": []}, "r1")
    with pytest.raises(PmsError):
        await outbox.send(mutation)
    assert [(e.mutation, e.outcome) for e in outbox.journal] == [(mutation, Outcome.REFUSED)]


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
    recording_server: tuple[str, list[dict[str, Any]]],
) -> None:
    url, bodies = recording_server
    async with OpenAbilityClient(url, SIM_TOKEN) as oa:
        outbox = DirectOutbox.for_clients(openability=oa)
        request = {"order_id": "o1", "order_state": "checked_in"}
        await outbox.send(Mutation.of("openability", "update_order_info", request, "kiosk-ref-1"))
    assert bodies == [{"command": "update_order_info", "id": "kiosk-ref-1", "param": request}]
    assert [e.outcome for e in outbox.journal] == [Outcome.APPLIED]


async def test_a_stopped_backend_is_journalled_as_unreachable(
    clients: tuple[PmsClient, OpenAbilityClient], sim_server: SimServer
) -> None:
    outbox = DirectOutbox.for_clients(pms=clients[0])
    sim_server.stop()
    with pytest.raises(TransportError):
        await outbox.send(_mutation())
    assert [e.outcome for e in outbox.journal] == [Outcome.UNREACHABLE]
