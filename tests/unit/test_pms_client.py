"""PmsClient's envelope, error, retry and timeout handling against a real loopback HTTP server.

The server replies with canned bodies queued by each test: this checks the client
alone. The client against the property simulator is in tests/contract.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from kiosk.api import (
    HttpStatusError,
    PmsError,
    PmsOverpaid,
    PmsReservedRoomsExist,
    PmsRoomsNotCheckedOut,
    PmsUnsettledBills,
    ResponseFormatError,
    TransportError,
)
from kiosk.api import pms_types as t
from kiosk.api.pms import OPERATIONS, PmsClient
from tests.unit.test_pms_models import EXAMPLES

pytestmark = pytest.mark.timeout(20)

TOKEN = "tok-7f3a9c-never-logged"
GUEST_NAME = "Li Si Guest"
GUEST_ID_NUMBER = "110101198001011234"
TIMEOUT = 0.3  # client timeout; a "slow" reply waits longer than this


@dataclass
class Reply:
    """One canned answer: HTTP status, body (a dict is sent as JSON), delay before answering."""

    body: Any = None
    status: int = 200
    delay: float = 0.0


def envelope(data: Any = None, error_code: int = 0, error_msg: str = "success") -> dict:
    return {
        "error_code": error_code,
        "description": error_msg,
        "error_msg": error_msg,
        "data": data,
    }


@dataclass
class CannedServer:
    """A ThreadingHTTPServer on loopback answering POSTs from a queue of :class:`Reply`."""

    replies: deque[Reply] = field(default_factory=deque)
    received: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""


def _handler(server: CannedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            server.received.append((self.path, dict(self.headers), json.loads(raw)))
            reply = server.replies.popleft() if server.replies else Reply(status=599)
            if reply.delay:
                server.release.wait(reply.delay)  # set at teardown so shutdown never waits
            body = reply.body
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting: that is what the timeout test wants

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def server() -> Iterator[CannedServer]:
    canned = CannedServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(canned))
    httpd.daemon_threads = True
    canned.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield canned
    canned.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
async def client(server: CannedServer) -> AsyncIterator[PmsClient]:
    async with PmsClient(
        server.url, TOKEN, timeout=TIMEOUT, read_retries=2, retry_backoff=0.01
    ) as pms:
        yield pms


def client_request(name: str) -> Any:
    """The seed's request example of ``name`` as its request model."""
    return OPERATIONS[name].request.model_validate(EXAMPLES[name]["request"])


def seed_reply(name: str) -> Reply:
    return Reply(EXAMPLES[name]["response"])


def settle_request() -> t.SettleRequest:
    return t.SettleRequest.model_validate(EXAMPLES["settle"]["request"])


async def test_read_sends_documented_body_with_bearer_token(
    client: PmsClient, server: CannedServer
) -> None:
    server.replies.append(seed_reply("getAccomDetail"))
    detail = await client.get_accom_detail(t.AccomDetailRequest(order_id=1, accom_ids=1))
    assert detail.order_no == "202503041332075890"
    assert detail.accom_list[0].bill_list[0].price == Decimal("300.00")
    [(path, headers, body)] = server.received
    assert path == "/api/v1/pmsOrder/getAccomDetail"
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert body == {"order_id": 1, "accom_ids": 1}


@pytest.mark.parametrize(
    ("name", "method", "path"),
    [
        ("getAllRoomList", "get_all_room_list", "/api/v1/pmsRoom/getAllRoomList"),
        ("remoteUnlock", "remote_unlock", "/api/v1/pmsDevice/remoteUnlock"),
        ("getAllAccomCard", "get_all_accom_card", "/api/v1/pmsOrder/getAllAccomCard"),
    ],
)
async def test_each_prefix_reaches_its_path(
    client: PmsClient, server: CannedServer, name: str, method: str, path: str
) -> None:
    server.replies.append(seed_reply(name))
    request = client_request(name)
    await getattr(client, method)(request)
    assert server.received[0][0] == path
    assert server.received[0][2] == EXAMPLES[name]["request"]


async def test_write_with_empty_data_returns_none(client: PmsClient, server: CannedServer) -> None:
    server.replies.append(seed_reply("checkIn"))
    assert await client.check_in(client_request("checkIn")) is None


@pytest.mark.parametrize("data", [[], None])
async def test_write_accepts_php_style_empty_data(
    client: PmsClient, server: CannedServer, data: Any
) -> None:
    server.replies.append(Reply(envelope(data)))
    await client.cashier(client_request("cashier"))


async def test_error_446_raises_the_named_error_without_retry(
    client: PmsClient, server: CannedServer
) -> None:
    server.replies.append(Reply(envelope({}, 446, "unsettled bills")))
    with pytest.raises(PmsUnsettledBills) as caught:
        await client.check_out(client_request("checkOut"))
    assert caught.value.error_code == 446
    assert caught.value.operation == "checkOut"
    assert caught.value.error_msg == "unsettled bills"
    assert len(server.received) == 1


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (444, PmsReservedRoomsExist),
        (445, PmsRoomsNotCheckedOut),
        (446, PmsUnsettledBills),
        (447, PmsOverpaid),
        (500, PmsError),
    ],
)
async def test_settle_error_codes(
    client: PmsClient, server: CannedServer, code: int, error: type[PmsError]
) -> None:
    server.replies.append(Reply(envelope(None, code, "nope")))
    with pytest.raises(PmsError) as caught:
        await client.settle(settle_request())
    assert type(caught.value) is error
    assert caught.value.error_code == code


async def test_error_code_on_a_read_is_not_retried(client: PmsClient, server: CannedServer) -> None:
    server.replies.extend([Reply(envelope(None, 1001, "no such order")), seed_reply("getBillList")])
    with pytest.raises(PmsError, match="1001"):
        await client.get_bill_list(client_request("getBillList"))
    assert len(server.received) == 1


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (Reply(b"<html>gateway</html>"), "not JSON"),
        (Reply([1, 2]), "not a JSON object"),
        (Reply({"data": {}}), "no error_code"),
        (Reply(envelope(None)), "no data"),
        (Reply({**envelope({}), "error_code": "zero"}), "not an integer"),
        (Reply(envelope({"ic_card_string": 42})), "does not match"),
    ],
    ids=["html", "array", "no-code", "no-data", "bad-code", "wrong-type"],
)
async def test_malformed_reply_is_a_response_format_error(
    client: PmsClient, server: CannedServer, reply: Reply, why: str
) -> None:
    server.replies.append(reply)
    with pytest.raises(ResponseFormatError, match=why):
        await client.generate_room_card(t.AccomRef(accom_id=1))


async def test_error_code_as_digit_string_is_understood(
    client: PmsClient, server: CannedServer
) -> None:
    server.replies.append(Reply({**envelope({}), "error_code": "446"}))
    with pytest.raises(PmsUnsettledBills):
        await client.settle(settle_request())


async def test_bare_bill_summary_is_accepted(client: PmsClient, server: CannedServer) -> None:
    bare = EXAMPLES["getBillSummary"]["response"]
    assert "error_code" not in bare
    server.replies.append(Reply(bare))
    summary = await client.get_bill_summary(t.BillSummaryRequest(order_id=1))
    assert summary.order_amount == Decimal("12700.00")
    assert summary.accom_consume_list[0].count == 5


async def test_enveloped_bill_summary_is_accepted_too(
    client: PmsClient, server: CannedServer
) -> None:
    server.replies.append(Reply(envelope(EXAMPLES["getBillSummary"]["response"])))
    summary = await client.get_bill_summary(t.BillSummaryRequest(order_id=1))
    assert summary.unchecked_amount == Decimal("12700.00")


async def test_http_500_on_a_read_is_retried(client: PmsClient, server: CannedServer) -> None:
    server.replies.extend(
        [Reply({}, status=500), Reply({}, status=502), seed_reply("listCheckout")]
    )
    [stay] = await client.list_checkout(client_request("listCheckout"))
    assert stay.accom_id == 73
    assert len(server.received) == 3


async def test_read_gives_up_after_its_retries(client: PmsClient, server: CannedServer) -> None:
    server.replies.extend([Reply({}, status=500)] * 3)
    with pytest.raises(HttpStatusError) as caught:
        await client.get_room_status(client_request("getRoomStatus"))
    assert caught.value.status_code == 500
    assert len(server.received) == 3


async def test_http_500_on_a_write_is_not_retried(client: PmsClient, server: CannedServer) -> None:
    server.replies.extend([Reply({}, status=500), seed_reply("cashier")])
    with pytest.raises(HttpStatusError) as caught:
        await client.cashier(client_request("cashier"))
    assert caught.value.status_code == 500
    assert len(server.received) == 1


async def test_slow_reply_is_an_ambiguous_transport_error(
    client: PmsClient, server: CannedServer
) -> None:
    server.replies.append(Reply(envelope({}), delay=5 * TIMEOUT))
    with pytest.raises(TransportError) as caught:
        await client.check_in(client_request("checkIn"))
    assert caught.value.ambiguous is True
    assert len(server.received) == 1


async def test_connection_refused_is_an_unambiguous_transport_error() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with PmsClient(f"http://127.0.0.1:{port}", TOKEN, timeout=TIMEOUT) as pms:
        with pytest.raises(TransportError) as caught:
            await pms.check_in(client_request("checkIn"))
    assert caught.value.ambiguous is False


async def test_wrong_request_model_is_refused_before_sending(
    client: PmsClient, server: CannedServer
) -> None:
    with pytest.raises(TypeError, match="CheckInRequest"):
        await client.check_in(t.OrderRef(order_id=1))  # type: ignore[arg-type]
    assert server.received == []


async def test_token_and_guest_data_never_reach_the_logs(
    client: PmsClient, server: CannedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tenant = t.TenantEdit(name=GUEST_NAME, id_type=10, id_number=GUEST_ID_NUMBER)
    request = t.UpdateAccomTenantRequest(accom_id=1, tenant_list=[tenant])
    detail = json.loads(json.dumps(EXAMPLES["getAccomDetail"]["response"]))
    detail["data"]["room_list"][0]["tenant_list"][0].update(
        name=GUEST_NAME, id_number=GUEST_ID_NUMBER
    )
    bad_stay = {**detail["data"]["room_list"][0], "room_type_id": GUEST_NAME}
    bad_detail = {**detail, "data": {**detail["data"], "room_list": [bad_stay]}}
    server.replies.extend(
        [Reply(envelope({})), Reply({}, status=503), Reply(detail), Reply(bad_detail)]
    )
    # What a caller would log: the models it got, and a failure with its traceback.
    await client.update_accom_tenant(request)
    parsed = await client.get_accom_detail(t.AccomDetailRequest(order_id=1))
    logging.getLogger("kiosk.test").info("got %r / %s", parsed, parsed)
    with pytest.raises(ResponseFormatError) as caught:
        await client.get_accom_detail(t.AccomDetailRequest(order_id=1))
    logging.getLogger("kiosk.test").error("failed", exc_info=caught.value)

    assert server.received[0][2]["tenant_list"][0]["name"] == GUEST_NAME  # it was sent
    assert parsed.accom_list[0].tenant_list[0].name == GUEST_NAME  # and received
    assert any(r.name == "kiosk.api" and "retry" in r.getMessage() for r in caplog.records)
    assert "ValidationError" in caplog.text  # the traceback was logged, inputs hidden
    logged = caplog.text + str(caught.value)
    for secret in (TOKEN, GUEST_NAME, GUEST_ID_NUMBER):
        assert secret not in logged


async def test_refused_time_or_amount_is_not_echoed_in_the_error(
    client: PmsClient, server: CannedServer
) -> None:
    reply = json.loads(json.dumps(EXAMPLES["getAccomDetail"]["response"]))
    reply["data"]["created_date"] = GUEST_NAME
    server.replies.append(Reply(reply))
    with pytest.raises(ResponseFormatError) as caught:
        await client.get_accom_detail(t.AccomDetailRequest(order_id=1))
    assert GUEST_NAME not in str(caught.value.__cause__)
