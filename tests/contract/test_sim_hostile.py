"""The simulator against a hostile client (issue 10): the concrete cases of the issue's table.

Raw sockets for what an HTTP library will not send (a bad ``Content-Length``, a body cut
short, a stall, a non-ASCII ``Authorization``), httpx for hostile bodies. Every case
gets a reply or a clean close, never a 500, and changes nothing.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiosk.sim.demo import seed_demo
from kiosk.sim.params import BAD_PARAMS
from kiosk.sim.server import SimServer
from tests.conftest import SIM_NOW, SIM_TOKEN, SimClock

pytestmark = pytest.mark.timeout(60)

AUTH = {"Authorization": f"Bearer {SIM_TOKEN}"}
OA_USER = "/api/v1.0/invoke/open-ability/method/user-commands"
OA_HOTEL = "/api/v1.0/invoke/open-ability/method/hotel-commands"
REMINDER = "/api/v1/pmsOrder/createReminder"
NOW = int(SIM_NOW.timestamp())
TOMORROW = f"{SIM_NOW.date() + timedelta(days=1)} 02:00:00"


@pytest.fixture
def demo(sim_server: SimServer) -> dict[str, Any]:
    return seed_demo(sim_server, seed=3)


@pytest.fixture
def order_id(demo: dict[str, Any]) -> int:
    return demo["arrivals"][0]["order_id"]


def dump(server: SimServer) -> dict[str, list[tuple]]:
    db = sqlite3.connect(server.db.path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: db.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}
    finally:
        db.close()


def post(server: SimServer, path: str, body: Any, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(server.url + path, content=content, headers={**AUTH, **headers}, timeout=5)


def pms_refusal(server: SimServer, path: str, body: Any) -> str:
    """The error message of a PMS refusal with code 400 (asserting its envelope)."""
    reply = post(server, path, body)
    assert reply.status_code == 200
    envelope = reply.json()
    assert set(envelope) == {"error_code", "description", "error_msg", "data"}
    assert envelope["error_code"] == BAD_PARAMS, envelope
    return envelope["error_msg"]


def oa_refusal(server: SimServer, path: str, body: Any) -> str:
    reply = post(server, path, body).json()
    assert reply["success"] is False and reply["code"] == BAD_PARAMS, reply
    return reply["message"]


# --- raw sockets ------------------------------------------------------------------------------


def exchange(server: SimServer, data: bytes, *, shut_write: bool = False) -> tuple[bytes, bool]:
    """Send ``data`` raw; what comes back until the server closes, and whether it closed
    (False: still open after 5 s)."""
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(data)
        if shut_write:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                return received, False
            except ConnectionResetError:
                return received, True
            if not chunk:
                return received, True
            received += chunk


def request(path: str, body: bytes, *headers: str, auth: bytes | None = None) -> bytes:
    lines = [f"POST {path} HTTP/1.1".encode(), b"Host: sim", *(h.encode() for h in headers)]
    lines.append(b"Authorization: " + (auth or f"Bearer {SIM_TOKEN}".encode()))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def one_reply(sock: socket.socket) -> bytes:
    """One whole response off a connection the server keeps open."""
    received = b""
    while b"\r\n\r\n" not in received or len(received.partition(b"\r\n\r\n")[2]) < int(
        received.split(b"Content-Length: ")[1].split(b"\r\n")[0]
    ):
        chunk = sock.recv(65536)
        assert chunk, "closed before a whole reply"
        received += chunk
    return received


def status_and_body(reply: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)


@pytest.mark.parametrize(
    ("length", "status"),
    [
        ("abc", 400),  # non-numeric: no reply at all before
        ("-1", 400),  # negative: read to EOF, a hang before
        ("+2", 400),
        ("1_0", 400),  # int() takes these three; HTTP does not
        ("２", 400),
        ("99999999999", 400),
        ("2000000", 413),
    ],
)
def test_a_bad_content_length_is_refused_and_the_connection_closed(
    sim_server: SimServer, length: str, status: int
) -> None:
    data = request(REMINDER, b"{}", f"Content-Length: {length}")
    started = time.monotonic()
    reply, closed = exchange(sim_server, data)
    assert closed and time.monotonic() - started < 3
    code, body = status_and_body(reply)
    assert code == status and body["error_code"] == BAD_PARAMS
    assert "Content-Length" in body["error_msg"] or "larger" in body["error_msg"]


def test_two_different_content_lengths_are_refused(sim_server: SimServer) -> None:
    data = request(REMINDER, b"{}", "Content-Length: 2", "Content-Length: 3")
    reply, closed = exchange(sim_server, data)
    assert closed and status_and_body(reply)[0] == 400


def test_a_chunked_body_is_refused_not_read_as_the_next_request(sim_server: SimServer) -> None:
    data = request(REMINDER, b"2\r\n{}\r\n0\r\n\r\n", "Transfer-Encoding: chunked")
    reply, closed = exchange(sim_server, data)
    assert closed and status_and_body(reply)[0] == 400
    assert reply.count(b"HTTP/1.1") == 1  # the chunks were not taken for a second request


def test_a_body_shorter_than_its_content_length_is_never_applied(
    sim_server: SimServer, order_id: int
) -> None:
    body = json.dumps({"order_id": order_id, "remind_date": NOW, "content": "x"}).encode()
    before = dump(sim_server)
    data = request(REMINDER, body, f"Content-Length: {len(body) + 40}")
    reply, closed = exchange(sim_server, data, shut_write=True)
    assert closed
    code, envelope = status_and_body(reply)
    assert code == 400 and "shorter" in envelope["error_msg"]
    assert dump(sim_server) == before
    applied = post(sim_server, REMINDER, body)  # the same body, whole: applied
    assert applied.json()["error_code"] == 0 and dump(sim_server) != before


@pytest.mark.parametrize(
    "auth", [b"Bearer t\xc3\xa9st", b"Bearer \xff\xfe", "Bearer ０".encode(), b"\x80"]
)
def test_a_non_ascii_authorization_is_401_at_once(sim_server: SimServer, auth: bytes) -> None:
    data = request("/api/v1/pmsRoom/getAllRoomList", b"{}", "Content-Length: 2", auth=auth)
    started = time.monotonic()
    with socket.create_connection((sim_server.host, sim_server.port), timeout=5) as sock:
        sock.sendall(data)
        reply = one_reply(sock)
    assert time.monotonic() - started < 3
    code, body = status_and_body(reply)
    assert code == 401 and body["error_code"] == 401


def test_two_authorization_headers_are_401(sim_server: SimServer) -> None:
    path = "/api/v1/pmsRoom/getAllRoomList"
    data = request(path, b"{}", "Content-Length: 2", "Authorization: Bearer x")
    with socket.create_connection((sim_server.host, sim_server.port), timeout=5) as sock:
        sock.sendall(data)
        assert status_and_body(one_reply(sock))[0] == 401


@pytest.fixture
def impatient(sim_db_path: Path, sim_clock: SimClock) -> Iterator[SimServer]:
    """A simulator that drops a client silent for half a second."""
    with SimServer(sim_db_path, SIM_TOKEN, clock=sim_clock, read_timeout=0.5) as server:
        yield server


@pytest.mark.parametrize(
    "half",
    [
        b"POST /api/v1/pmsOrder/createReminder HTTP/1.1\r\nHost: sim\r\n",  # headers unfinished
        b'POST /api/v1/pmsOrder/createReminder HTTP/1.1\r\nContent-Length: 50\r\n\r\n{"order',
        b"",  # connected, says nothing
    ],
)
def test_a_client_that_stalls_mid_request_is_disconnected(
    impatient: SimServer, half: bytes
) -> None:
    before = dump(impatient)
    started = time.monotonic()
    reply, closed = exchange(impatient, half)
    assert closed, "the simulator kept a stalled connection open"
    assert 0.4 < time.monotonic() - started < 4
    assert b"200 OK" not in reply
    assert dump(impatient) == before


def test_the_read_timeout_does_not_cut_a_slow_but_steady_client(impatient: SimServer) -> None:
    body = b'{"pms_id": 1}'
    data = request("/api/v1/pmsRoom/getAllRoomList", body, f"Content-Length: {len(body)}")
    with socket.create_connection((impatient.host, impatient.port), timeout=5) as sock:
        for i in range(0, len(data), 40):
            sock.sendall(data[i : i + 40])
            time.sleep(0.05)
        code, envelope = status_and_body(one_reply(sock))
    assert code == 200 and envelope["error_code"] == 404  # no property 1 here: a clean answer


@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_request_trickled_a_byte_at_a_time_is_cut_at_the_deadline(
    impatient: SimServer, part: str
) -> None:
    """Each byte comes well inside the read timeout, the whole request never does."""
    body = b'{"pms_id": 1, "note": "' + b"x" * 200 + b'"}'
    data = request("/api/v1/pmsRoom/getAllRoomList", body, f"Content-Length: {len(body)}")
    head, rest = data.split(b"\r\n\r\n", 1)
    before = dump(impatient)
    started = time.monotonic()
    with socket.create_connection((impatient.host, impatient.port), timeout=5) as sock:
        if part == "body":
            sock.sendall(head + b"\r\n\r\n")
        trickle = head if part == "headers" else rest
        closed = False
        for byte in trickle:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            sock.settimeout(0.1)
            try:
                if sock.recv(4096) == b"":
                    closed = True
                    break
            except TimeoutError:
                pass
            except OSError:
                closed = True
                break
    assert closed, "the simulator kept a trickling connection open"
    assert time.monotonic() - started < 3  # 0.5 s deadline, the poll interval, a loaded machine
    assert dump(impatient) == before


# --- hostile bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_deep_json_is_refused_cleanly(sim_server: SimServer, depth: int) -> None:
    body = b'{"pms_id": ' + b"[" * depth + b"]" * depth + b"}"
    assert "nests deeper" in pms_refusal(sim_server, "/api/v1/pmsRoom/getAllRoomList", body)


def test_json_nested_as_deep_as_allowed_is_read(sim_server: SimServer) -> None:
    body = b'{"pms_id": 1, "x": ' + b"[" * 30 + b"]" * 30 + b"}"
    reply = post(sim_server, "/api/v1/pmsRoom/getAllRoomList", body).json()
    assert reply["error_code"] == 404  # past the parser: the property does not exist


@pytest.mark.parametrize("token", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_standard_json_constants_are_refused(sim_server: SimServer, token: bytes) -> None:
    body = b'{"pms_id": ' + token + b"}"
    assert "not valid JSON" in pms_refusal(sim_server, "/api/v1/pmsRoom/getAllRoomList", body)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/pmsRoom/getAllRoomList", "pms_id"),
        ("/api/v1/pmsOrder/getAccomDetail", "order_id"),
        ("/api/v1/pmsOrder/generateRoomCard", "accom_id"),
        ("/api/v1/pmsOrder/checkRoomAvailability", "room_id"),
        ("/api/v1/pmsOrder/cancelBill", "bill_id"),
        ("/api/v1/pmsOrder/deleteReminder", "remind_id"),
    ],
)
@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30])
def test_integers_past_64_bits_are_refused_by_name(
    sim_server: SimServer, path: str, field: str, value: int
) -> None:
    assert f"param.{field} must be an integer" in pms_refusal(sim_server, path, {field: value})


def test_the_largest_64_bit_id_is_an_unknown_id(sim_server: SimServer) -> None:
    reply = post(sim_server, "/api/v1/pmsOrder/getAccomDetail", {"order_id": 2**63 - 1}).json()
    assert reply["error_code"] == 404


def cashier(order_id: int, amount: Any) -> dict[str, Any]:
    return {"order_id": order_id, "bills": [{"bill_type": 10, "name": "Card", "amount": amount}]}


@pytest.mark.parametrize(
    "amount",
    ["1e30", "1E2", "NaN", "Infinity", "-Infinity", "1_000.00", "１００.００", "١٠٠", "100.001",
     "-5.00", " 100.00", "0x10", "", "1000000000.00", 100, 1.5],
)  # fmt: skip
def test_money_outside_plain_decimal_strings_is_refused(
    sim_server: SimServer, order_id: int, amount: Any
) -> None:
    before = dump(sim_server)
    message = pms_refusal(sim_server, "/api/v1/pmsOrder/cashier", cashier(order_id, amount))
    assert "param.bills[0].amount must be" in message
    assert dump(sim_server) == before


@pytest.mark.parametrize("amount", ["100", "100.5", "100.50", "0.01", "999999999.99"])
def test_money_as_the_seeds_write_it_is_accepted(
    sim_server: SimServer, order_id: int, amount: str
) -> None:
    reply = post(sim_server, "/api/v1/pmsOrder/cashier", cashier(order_id, amount)).json()
    assert reply["error_code"] == 0, reply


@pytest.mark.parametrize(
    ("path", "change", "field"),
    [
        ("getBillList", {"page_no": 2**62}, "page_no"),
        ("getBillList", {"start_date": 10**12}, "start_date"),
        ("createReminder", {"remind_date": 2**63}, "remind_date"),
        ("createReminder", {"content": "\ud800"}, "content"),
    ],
)
def test_out_of_range_fields_are_refused_by_name(
    sim_server: SimServer, order_id: int, path: str, change: dict, field: str
) -> None:
    body = {"order_id": order_id, "type": 10, "remind_date": NOW, "content": "x", **change}
    before = dump(sim_server)
    assert f"param.{field} must be" in pms_refusal(sim_server, f"/api/v1/pmsOrder/{path}", body)
    assert dump(sim_server) == before


def test_a_huge_quantity_or_a_fullwidth_date_on_a_bill_is_refused(
    sim_server: SimServer, order_id: int
) -> None:
    detail = post(sim_server, "/api/v1/pmsOrder/getAccomDetail", {"order_id": order_id}).json()
    accom_id = detail["data"]["accom_list"][0]["accom_id"]
    item = {"consume_id": 1, "date": "2026-03-04", "price": "10.00", "num": 1}
    for change, field in (
        ({"num": 2**62}, "num"),
        ({"date": "２０２６-03-04"}, "date"),
        ({"date": "20260304"}, "date"),
        ({"date": "9999-12-31"}, "date"),
    ):
        body = {"accom_id": accom_id, "bill_list": [{**item, **change}]}
        message = pms_refusal(sim_server, "/api/v1/pmsOrder/addAccomBill", body)
        assert f"bill_list[0].{field} must be" in message
    reply = post(
        sim_server, "/api/v1/pmsOrder/addAccomBill", {"accom_id": accom_id, "bill_list": [item]}
    )
    assert reply.json()["error_code"] == 0


def command(name: str, command_id: Any, **param: Any) -> dict[str, Any]:
    return {"command": name, "id": command_id, "param": param}


@pytest.mark.parametrize("command_id", ["", "   "])
def test_an_empty_open_ability_id_is_refused_and_nothing_applied(
    sim_server: SimServer, demo: dict[str, Any], command_id: str
) -> None:
    code = demo["booking_codes"][0]
    body = command(
        "create_code_booking_info",
        command_id,
        residence_id=code["residence_id"],
        booking_code=code["booking_code"],
    )
    before = dump(sim_server)
    assert "body.id" in oa_refusal(sim_server, OA_USER, body)
    assert dump(sim_server) == before
    body["id"] = "kiosk-ref-1"
    assert post(sim_server, OA_USER, body).json()["success"] is True


@pytest.mark.parametrize(
    ("name", "param", "field"),
    [
        ("get_booking_time_list", {"date": "9999-12-31"}, "date"),  # a 500 before
        ("get_booking_time_list", {"date": "２０２６-03-05"}, "date"),
        ("create_booking_info", {"start_time": "9999-12-31 23:59:59"}, "start_time"),
        ("create_booking_info", {"start_time": "２０２６-03-05 02:00:00"}, "start_time"),
        ("create_booking_info", {"start_time": TOMORROW, "duration": 2**64}, "duration"),
    ],
)
def test_open_ability_fields_out_of_range_are_refused_by_name(
    sim_server: SimServer, demo: dict[str, Any], name: str, param: dict, field: str
) -> None:
    db = sqlite3.connect(sim_server.db.path)
    residence_id, amenity_id = db.execute(
        "SELECT residence_id, amenity_id FROM oa_residence, oa_amenity LIMIT 1"
    ).fetchone()
    db.close()
    ids = {"residence_id": residence_id, "amenity_id": amenity_id, "duration": 60}
    body = command(name, "ref-2", **{**ids, **param})
    assert f"param.{field} must be" in oa_refusal(sim_server, OA_USER, body)


def test_a_fullwidth_page_size_is_refused(sim_server: SimServer) -> None:
    body = command("get_order_list", "ref-3", page_size="２０", page_index=1)
    assert "param.page_size must be" in oa_refusal(sim_server, OA_HOTEL, body)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1]",
        b'{"latency_ms": 50, "failure_rate": 2}',
        b'{"latency_ms": 50, "failure_rate": NaN}',
        b'{"latency_ms": 50, "fail_next": 99999999999999999999999}',
        b'{"latency_ms": 50, "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"latency_ms": 1e400}',
    ],
)
def test_faults_change_nothing_while_answering_400(sim_server: SimServer, body: bytes) -> None:
    assert post(sim_server, "/_sim/faults", body).status_code == 400
    assert sim_server.faults.knobs()["latency_ms"] == 0


def test_faults_with_a_body_cut_short_change_nothing(sim_server: SimServer) -> None:
    body = b'{"latency_ms": 50}'
    data = request("/_sim/faults", body, f"Content-Length: {len(body) + 10}")
    reply, closed = exchange(sim_server, data, shut_write=True)
    assert closed and status_and_body(reply)[0] == 400
    assert sim_server.faults.knobs()["latency_ms"] == 0


@pytest.mark.parametrize(
    ("contact", "field"),
    [({"phone": "１３９１２３４５６７８"}, "phone"), ({"country_code": "+８６"}, "country_code")],
)
def test_fullwidth_digits_in_a_phone_are_refused(
    sim_server: SimServer, order_id: int, contact: dict, field: str
) -> None:
    detail = post(sim_server, "/api/v1/pmsOrder/getAccomDetail", {"order_id": order_id}).json()
    stay = detail["data"]["accom_list"][0]
    body = {
        "accom_id": stay["accom_id"],
        "start_time": stay["checkin_start_time"],
        "end_time": stay["checkin_end_time"],
        "phone_list": [{"country_code": "+86", "phone": "13912345678"}],
    }
    path = "/api/v1/pmsDevice/sendOfflinePassword"
    bad = {**body, "phone_list": [{**body["phone_list"][0], **contact}]}
    assert field in pms_refusal(sim_server, path, bad)
    assert post(sim_server, path, body).json()["error_code"] == 0
