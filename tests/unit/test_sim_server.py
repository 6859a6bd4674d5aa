"""The simulator's HTTP core: auth, envelopes for bad input, fault knobs, down and up."""

from __future__ import annotations

import random
import time

import httpx
import pytest

from kiosk.sim.openability.demo import seed_openability
from kiosk.sim.pms.property import add_room, add_room_type
from kiosk.sim.server import SimServer
from tests.conftest import SIM_TOKEN

AUTH = {"Authorization": f"Bearer {SIM_TOKEN}"}
OA_USER = "/api/v1.0/invoke/open-ability/method/user-commands"


def post(server: SimServer, path: str, body: object = None, **kw) -> httpx.Response:
    headers = kw.pop("headers", AUTH)
    return httpx.post(server.url + path, json=body, headers=headers, timeout=5, **kw)


def test_wrong_or_missing_token_is_401_with_an_envelope(sim_server: SimServer) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}):
        reply = post(sim_server, "/api/v1/pmsRoom/getAllRoomList", {"pms_id": 1}, headers=headers)
        assert reply.status_code == 401
        assert reply.json()["error_code"] == 401


@pytest.mark.parametrize(
    ("path", "content", "check"),
    [
        ("/api/v1/pmsOrder/nope", b"{}", lambda b: b["error_code"] == 404),
        ("/api/v1/pmsOrder/checkIn", b"{not json", lambda b: b["error_code"] == 400),
        ("/api/v1/pmsOrder/checkIn", b"[1,2]", lambda b: b["error_code"] == 400),
        (OA_USER, b'{"command":"nope","id":"1","param":{}}', lambda b: b["success"] is False),
        (OA_USER, b'{"id":"1","param":{}}', lambda b: "command" in b["message"]),
        (OA_USER, b"\xff\xfe", lambda b: b["code"] == 400),
    ],
)
def test_bad_requests_get_a_clean_envelope_never_a_500(sim_server, path, content, check) -> None:
    reply = httpx.post(sim_server.url + path, content=content, headers=AUTH, timeout=5)
    assert reply.status_code == 200
    assert check(reply.json())


def test_oversized_body_is_refused(sim_server: SimServer) -> None:
    reply = httpx.post(
        sim_server.url + "/api/v1/pmsOrder/checkIn", content=b"x" * (2 << 20), headers=AUTH
    )
    assert reply.status_code == 413


def test_latency_and_failure_knobs(sim_server: SimServer) -> None:
    set_faults = post(sim_server, "/_sim/faults", {"latency_ms": 150})
    assert set_faults.json()["latency_ms"] == 150
    started = time.monotonic()
    post(sim_server, "/api/v1/pmsRoom/getAllRoomList", {"pms_id": 1})
    assert time.monotonic() - started >= 0.15

    post(sim_server, "/_sim/faults", {"latency_ms": 0, "failure_rate": 1})
    assert post(sim_server, "/api/v1/pmsRoom/getAllRoomList", {"pms_id": 1}).status_code == 503
    assert post(sim_server, "/_sim/faults", {"failure_rate": 2}).status_code == 400


def test_lost_reply_applies_the_request_but_drops_the_answer(sim_server: SimServer) -> None:
    with sim_server.db.transaction() as conn:
        room_type = add_room_type(conn, 1, "King", "K", "100.00")
        room_id = add_room(conn, 1, room_type, "101", 1)
    order = {
        "pms_id": 1,
        "name": "Test Guest",
        "reminder_list": [],
        "room_list": [
            {
                "room_id": room_id,
                "accom_type": 10,
                "checkin_start_time": 1772604000,
                "checkin_end_time": 1772683200,
                "amount": "100.00",
                "accom_status": 40,
            }
        ],
    }
    sim_server.faults.lost_reply_rate = 1
    with pytest.raises(httpx.TransportError):
        post(sim_server, "/api/v1/pmsOrder/create", order)
    sim_server.faults.lost_reply_rate = 0
    stays = post(
        sim_server,
        "/api/v1/pmsOrder/getAccomlist",
        {"pms_id": 1, "start_date": 1772604000, "end_date": 1772683200},
    ).json()["data"]
    assert [len(room["order_list"]) for room in stays if room["room_id"] == room_id] == [1]


def test_stop_drops_keep_alive_connections_and_start_brings_state_back(
    sim_server: SimServer,
) -> None:
    with httpx.Client(base_url=sim_server.url, headers=AUTH, timeout=2) as client:
        assert client.get("/_sim/health").status_code == 200
        sim_server.stop()
        with pytest.raises(httpx.TransportError):
            client.get("/_sim/health")
        sim_server.start()
        assert client.get("/_sim/health").status_code == 200


def test_outage_takes_the_server_down_then_up_by_itself(sim_server: SimServer) -> None:
    assert post(sim_server, "/_sim/outage", {"seconds": 0.5}).json() == {"down_for": 0.5}
    time.sleep(0.2)
    with pytest.raises(httpx.TransportError):
        httpx.get(sim_server.url + "/_sim/health", timeout=1)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            assert httpx.get(sim_server.url + "/_sim/health", timeout=1).status_code == 200
            return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("the simulator did not come back after its outage")


def test_a_replayed_open_ability_command_is_answered_not_applied_again(
    sim_server: SimServer,
) -> None:
    with sim_server.db.transaction() as conn:
        codes = seed_openability(conn, random.Random(1), sim_server.clock())
    code = next(c for c in codes if c["case"] == "oa_gym")
    claim = {
        "command": "create_code_booking_info",
        "id": "kiosk-1-claim-1",
        "param": {"residence_id": code["residence_id"], "booking_code": code["booking_code"]},
    }
    first = post(sim_server, OA_USER, claim).json()
    replay = post(sim_server, OA_USER, claim).json()
    assert first["success"] and replay["result"] == first["result"]
    other_id = post(sim_server, OA_USER, {**claim, "id": "kiosk-1-claim-2"}).json()
    assert other_id["success"] is False  # a new command with a used code is refused
    listed = post(
        sim_server,
        OA_USER,
        {"command": "get_booking_list", "id": "q", "param": {"residence_id": code["residence_id"]}},
    ).json()["result"]
    assert [b["booking_id"] for b in listed] == [first["result"]["booking_id"]]
