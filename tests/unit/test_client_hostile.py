"""The API clients against a hostile back-end: a real asyncio server on loopback that answers
malformed JSON, huge bodies, slow trickles, resets, wrong types, deep nesting and huge
numbers. Whatever it does, a call ends in a reply or a typed :class:`ApiError`, within its
deadline, without reading a huge body whole (issue 10, "Clients")."""

from __future__ import annotations

import asyncio
import copy
import json
import socket
import struct
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from kiosk.api import ApiError, OpenAbilityError, PmsError, ResponseFormatError, TransportError
from kiosk.api import openability_types as oa
from kiosk.api import pms_types as t
from kiosk.api.openability import OpenAbilityClient
from kiosk.api.pms import PmsClient
from kiosk.backends.factory import open_client
from kiosk.config import BackendConfig
from tests.unit.test_pms_models import EXAMPLES

pytestmark = pytest.mark.timeout(60)

TIMEOUT = 1.0  # the client's deadline per exchange
MARGIN = 0.5  # what a loaded 2-core machine may add to it
CAP = 256 * 1024  # the client's reply cap in these tests

Behaviour = Callable[["HostileServer", asyncio.StreamWriter], Awaitable[None]]


@dataclass
class HostileServer:
    """Reads one request per connection, counts it, then answers with ``behave``."""

    behave: Behaviour
    requests: int = 0
    sent: int = 0  # body bytes written, for the huge replies
    server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            await reader.readexactly(length)
            self.requests += 1
            await self.behave(self, writer)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


def head(status: int = 200, length: int | None = None, *extra: str) -> bytes:
    lines = [f"HTTP/1.1 {status} X", "Content-Type: application/json", "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join([*lines, *extra]) + "\r\n\r\n").encode()


def answer(body: bytes, *extra: str, status: int = 200) -> Behaviour:
    async def behave(server: HostileServer, writer: asyncio.StreamWriter) -> None:
        writer.write(head(status, len(body), *extra) + body)
        await writer.drain()

    return behave


def trickle(body: bytes, every_s: float) -> Behaviour:
    """Each byte of the body on its own, ``every_s`` apart: never idle long enough for a
    per-read timeout."""

    async def behave(server: HostileServer, writer: asyncio.StreamWriter) -> None:
        writer.write(head(200, len(body)))
        for byte in body:
            await writer.drain()
            await asyncio.sleep(every_s)
            writer.write(bytes([byte]))
            server.sent += 1

    return behave


def endless(total: int, *, declared: bool = False) -> Behaviour:
    """Up to ``total`` bytes of a JSON string as fast as the client takes them (its length
    declared or not), stopping when the client goes."""

    async def behave(server: HostileServer, writer: asyncio.StreamWriter) -> None:
        chunk = b"x" * 65536
        writer.write(head(200, total if declared else None) + b'{"error_code": 0, "data": "')
        while server.sent < total:
            writer.write(chunk)
            server.sent += len(chunk)
            await writer.drain()

    return behave


async def reset(server: HostileServer, writer: asyncio.StreamWriter) -> None:
    """A TCP reset after the request was read (it may have been applied)."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def envelope(data: Any = None, error_code: Any = 0) -> bytes:
    return json.dumps({"error_code": error_code, "error_msg": "", "data": data}).encode()


def pms(url: str) -> PmsClient:
    return PmsClient(url, "tok", timeout=TIMEOUT, read_retries=0, max_reply_bytes=CAP)


def openability(url: str) -> OpenAbilityClient:
    return OpenAbilityClient(url, "tok", timeout=TIMEOUT, read_retries=0, max_reply_bytes=CAP)


CASHIER = t.CashierRequest.model_validate(
    {"order_id": 7, "bills": [{"bill_type": 10, "name": "Kiosk payment", "amount": "100.00"}]}
)
DETAIL = t.AccomDetailRequest(order_id=7)


async def call(behave: Behaviour, operation: str = "cashier") -> tuple[Any, HostileServer]:
    """One call against ``behave``: its reply or the exception it raised. ``operation`` is
    a PMS write or read, or an open-ability write or read ("oa:" ...)."""
    server = HostileServer(behave)
    async with server as url:
        try:
            if operation.startswith("oa:"):
                async with openability(url) as oa_client:
                    request = oa.OrderRef(order_id="o-1")
                    if operation == "oa:delete_order_info":
                        return await oa_client.delete_order_info(request), server
                    return await oa_client.get_order_info(request), server
            async with pms(url) as client:
                if operation == "cashier":
                    return await client.cashier(CASHIER), server
                return await client.get_accom_detail(DETAIL), server
        except Exception as exc:
            return exc, server


# --- the deadline -------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["cashier", "getAccomDetail"])
async def test_a_trickled_reply_ends_within_the_deadline(operation: str) -> None:
    """The probe's case: a 119-byte reply, a byte every 0.2 s, took 35.5 s against 1 s."""
    body = envelope({}).ljust(119)
    started = time.monotonic()
    error, server = await call(trickle(body, 0.2), operation)
    elapsed = time.monotonic() - started
    assert isinstance(error, TransportError) and error.ambiguous  # it was sent: may have landed
    assert elapsed < TIMEOUT + MARGIN, elapsed
    assert server.sent < len(body)


async def test_a_reply_that_never_comes_ends_within_the_deadline() -> None:
    async def silent(server: HostileServer, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(10 * TIMEOUT)

    started = time.monotonic()
    error, _ = await call(silent)
    assert isinstance(error, TransportError) and error.ambiguous
    assert time.monotonic() - started < TIMEOUT + MARGIN


async def test_an_unsent_request_is_not_ambiguous() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with pms(f"http://127.0.0.1:{port}") as client:
        with pytest.raises(TransportError) as raised:
            await client.cashier(CASHIER)
    assert not raised.value.ambiguous


# --- the size cap -------------------------------------------------------------------------


@pytest.mark.parametrize("declared", [False, True], ids=["streamed", "content_length"])
async def test_a_huge_reply_is_refused_as_it_arrives(declared: bool) -> None:
    """The probe's case: a 29 MB reply was read whole (+352 MB)."""
    total = 29 * 1024 * 1024
    await call(answer(envelope({})))  # lazy imports are not the reply's memory
    tracemalloc.start()
    try:
        error, server = await call(endless(total, declared=declared))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(error, ResponseFormatError), error
    assert "cap" in str(error)
    assert server.sent < total / 4, server.sent  # the client stopped reading early
    assert peak < 8 * CAP, peak  # never the whole body in memory


async def test_a_reply_just_under_the_cap_is_read() -> None:
    example = EXAMPLES["getAccomDetail"]["response"]["data"]
    room = len(envelope(example))
    body = envelope({**example, "remark": "x" * (CAP - room - 10)})
    assert CAP - 100 < len(body) < CAP
    reply, _ = await call(answer(body), "getAccomDetail")
    assert isinstance(reply, t.AccomDetail), reply


# --- replies that cannot be read ----------------------------------------------------------


def detail_with(path: tuple[Any, ...], value: Any) -> bytes:
    """The seed's getAccomDetail example with one field replaced."""
    reply = copy.deepcopy(EXAMPLES["getAccomDetail"]["response"])
    node = reply
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return json.dumps(reply).encode()


STAY = ("data", "room_list", 0)
UNREADABLE = {
    "not_json": b"<html>502 Bad Gateway</html>",
    "truncated": envelope({})[:-3],
    "bad_utf8": b'{"error_code": 0, "data": "\xff\xfe"}',
    "nan": b'{"error_code": 0, "data": NaN}',
    "huge_float": b'{"error_code": 0, "data": 1e999}',
    "deep_nesting": b'{"error_code": 0, "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "nested_past_depth": envelope(json.loads("[" * 40 + "]" * 40)),
    "int_of_5000_digits": b'{"error_code": 0, "data": ' + b"9" * 5000 + b"}",
    "int_past_64_bits": envelope({"order_id": 2**70}),
    "error_code_fullwidth_zero": envelope({}, "\uff10"),
    "error_code_minus_zero": envelope({}, "-0"),
    "error_code_true": envelope({}, True),
    "error_code_text_true": envelope({}, "true"),
    "error_code_float": envelope({}, 0.0),
    "error_code_superscript": envelope({}, "\u00b2"),
    "error_code_list": envelope({}, [0]),
    "reply_a_list": b"[0]",
    "compressed_garbage": b"\x1f\x8b not gzip at all",
}


@pytest.mark.parametrize("name", sorted(UNREADABLE))
async def test_an_unreadable_reply_to_a_write_is_a_format_error(name: str) -> None:
    extra = ("Content-Encoding: gzip",) if name == "compressed_garbage" else ()
    error, server = await call(answer(UNREADABLE[name], *extra))
    assert isinstance(error, ResponseFormatError), repr(error)
    assert server.requests == 1  # a write is sent once


WRONG_VALUES = {
    "timestamp_past_year_9999": ((*STAY, "checkin_start_time"), 10**15),
    "timestamp_overflowing": ((*STAY, "checkin_start_time"), 10**20),
    "timestamp_negative": ((*STAY, "checkin_start_time"), -(10**12)),
    "timestamp_superscript_digits": ((*STAY, "checkin_start_time"), "\u00b9\u00b2\u00b3"),
    "timestamp_a_list": ((*STAY, "checkin_start_time"), [1]),
    "money_1e30": ((*STAY, "amount"), "1e30"),
    "money_with_underscores": ((*STAY, "amount"), "1_000.00"),
    "money_fullwidth": ((*STAY, "amount"), "\uff11\uff10\uff10"),
    "money_past_the_bound": ((*STAY, "amount"), "99999999999999.00"),
    "money_a_float": ((*STAY, "amount"), 100.5),
    "money_an_object": ((*STAY, "amount"), {"v": 1}),
    "status_text": ((*STAY, "accom_status"), "checked in"),
    "stays_an_object": (("data", "room_list"), {"0": 1}),
    "data_a_string": (("data",), "ok"),
}


@pytest.mark.parametrize("name", sorted(WRONG_VALUES))
async def test_a_wrong_value_in_a_reply_is_a_format_error(name: str) -> None:
    error, _ = await call(answer(detail_with(*WRONG_VALUES[name])), "getAccomDetail")
    assert isinstance(error, ResponseFormatError), repr(error)


@pytest.mark.parametrize("code", ["0", 0])
async def test_error_code_zero_in_plain_spellings_is_success(code: Any) -> None:
    reply, _ = await call(answer(envelope({}, code)))
    assert reply is None


async def test_error_code_446_as_text_is_the_named_refusal() -> None:
    error, _ = await call(answer(envelope(None, "446")))
    assert isinstance(error, PmsError) and error.error_code == 446


async def test_a_reset_after_the_request_is_ambiguous() -> None:
    error, server = await call(reset)
    assert isinstance(error, TransportError) and error.ambiguous, repr(error)
    assert server.requests == 1


# --- open-ability: success is JSON true -----------------------------------------------------


@pytest.mark.parametrize(
    ("success", "ok"),
    [(True, True), (False, False), ("true", None), (1, None), ("1", None), ("yes", None)],
)
async def test_open_ability_success_is_json_true_only(success: Any, ok: bool | None) -> None:
    body = json.dumps({"success": success, "timestamp": 1_700_000_000_000, "result": {}})
    server = HostileServer(answer(body.encode()))
    async with server as url, openability(url) as client:
        request = oa.OrderRef(order_id="o-1")
        if ok:
            assert await client.delete_order_info(request) is None
            return
        with pytest.raises(OpenAbilityError if ok is False else ResponseFormatError):
            await client.delete_order_info(request)


async def test_open_ability_timestamp_past_year_9999_is_a_format_error() -> None:
    body = json.dumps({"success": True, "timestamp": 10**17, "result": {}}).encode()
    server = HostileServer(answer(body))
    async with server as url, openability(url) as client:
        with pytest.raises(ResponseFormatError):
            await client.delete_order_info(oa.OrderRef(order_id="o-1"))


# --- anything at all ----------------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.sampled_from([10**20, -(10**20), 2**63, 10**15, "10000000000000000000", "\uff10"])
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = st.sampled_from(
    [
        ("data",),
        ("error_code",),
        ("data", "room_list"),
        STAY,
        (*STAY, "checkin_start_time"),
        (*STAY, "amount"),
        (*STAY, "accom_status"),
        (*STAY, "tenant_list"),
        ("data", "total_amount"),
        ("data", "status_control"),
    ]
)
BODIES = st.one_of(
    st.binary(max_size=300),
    JSON.map(lambda value: json.dumps(value).encode()),
    st.builds(envelope, JSON, st.one_of(JSON, st.just(0))),
    st.builds(detail_with, FIELDS, JSON),
    st.builds(lambda b, n: b[:n], st.builds(detail_with, FIELDS, JSON), st.integers(0, 2000)),
    st.builds(
        lambda success, stamp, result: json.dumps(
            {"success": success, "timestamp": stamp, "result": result}
        ).encode(),
        st.one_of(st.just(True), JSON),
        st.one_of(st.just(1_700_000_000_000), JSON),
        JSON,
    ),
)
OPERATIONS = ["cashier", "getAccomDetail", "oa:delete_order_info", "oa:get_order_info"]


@settings(
    max_examples=80,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(body=BODIES, operation=st.sampled_from(OPERATIONS))
def test_any_reply_ends_in_a_result_or_a_typed_error(body: bytes, operation: str) -> None:
    outcome, _ = asyncio.run(call(answer(body), operation))
    replies = t.AccomDetail | oa.OrderInfo | ApiError
    assert outcome is None or isinstance(outcome, replies), repr(outcome)


async def test_the_configured_cap_reaches_the_client() -> None:
    config = BackendConfig(base_url="http://127.0.0.1:1", max_reply_bytes=64 * 1024)
    body = envelope({"remark": "x" * 100 * 1024})
    server = HostileServer(answer(body))
    async with server as url:
        client = open_client(config.model_copy(update={"base_url": url}))
        async with client:
            assert isinstance(client, PmsClient)
            with pytest.raises(ResponseFormatError, match="cap"):
                await client.cashier(CASHIER)
    with pytest.raises(ValidationError):
        BackendConfig(max_reply_bytes=1024)  # too small for the documented replies
