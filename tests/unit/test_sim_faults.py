"""The simulator's counted faults (fail_next, lose_next), its admin clock, and knob updates
that are all or nothing; over loopback HTTP."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from kiosk.api.pms import is_read
from kiosk.sim import pms
from kiosk.sim.openability.demo import seed_openability
from kiosk.sim.pms.property import add_room, add_room_type
from kiosk.sim.server import SimServer, _is_pms_read
from tests.conftest import SIM_NOW, SIM_TOKEN, SimClock

AUTH = {"Authorization": f"Bearer {SIM_TOKEN}"}
OA_USER = "/api/v1.0/invoke/open-ability/method/user-commands"
ROOMS = "/api/v1/pmsRoom/getAllRoomList"
CREATE = "/api/v1/pmsOrder/create"
STAYS = "/api/v1/pmsOrder/getAccomlist"
ARRIVAL, DEPARTURE = 1772604000, 1772683200


def post(server: SimServer, path: str, body: object = None) -> httpx.Response:
    return httpx.post(server.url + path, json=body, headers=AUTH, timeout=5)


def add_king_room(server: SimServer) -> int:
    with server.db.transaction() as conn:
        return add_room(conn, 1, add_room_type(conn, 1, "King", "K", "100.00"), "101", 1)


def order_for(room_id: int) -> dict:
    return {
        "pms_id": 1,
        "name": "Test Guest",
        "reminder_list": [],
        "room_list": [
            {
                "room_id": room_id,
                "accom_type": 10,
                "checkin_start_time": ARRIVAL,
                "checkin_end_time": DEPARTURE,
                "amount": "100.00",
                "accom_status": 40,
            }
        ],
    }


def orders_on(server: SimServer, room_id: int) -> int:
    rooms = post(server, STAYS, {"pms_id": 1, "start_date": ARRIVAL, "end_date": DEPARTURE}).json()[
        "data"
    ]
    return sum(len(room["order_list"]) for room in rooms if room["room_id"] == room_id)


def test_fail_next_refuses_so_many_requests_with_retry_after(sim_server: SimServer) -> None:
    knobs = post(sim_server, "/_sim/faults", {"fail_next": 2}).json()
    assert knobs["fail_next"] == 2
    refused = [post(sim_server, ROOMS, {"pms_id": 1}) for _ in range(2)]
    assert [r.status_code for r in refused] == [503, 503]
    assert all(r.headers["Retry-After"] == "1" for r in refused)
    assert post(sim_server, ROOMS, {"pms_id": 1}).status_code == 200
    assert sim_server.faults.fail_next == 0


def test_fail_next_refuses_writes_before_any_state_change(sim_server: SimServer) -> None:
    room_id = add_king_room(sim_server)
    post(sim_server, "/_sim/faults", {"fail_next": 1})
    assert post(sim_server, CREATE, order_for(room_id)).status_code == 503
    assert orders_on(sim_server, room_id) == 0


def test_fail_next_zero_clears_it(sim_server: SimServer) -> None:
    post(sim_server, "/_sim/faults", {"fail_next": 5})
    post(sim_server, "/_sim/faults", {"fail_next": 0})
    assert post(sim_server, ROOMS, {"pms_id": 1}).status_code == 200


def test_failure_rate_answers_503_with_retry_after(sim_server: SimServer) -> None:
    sim_server.faults.failure_rate = 1.0
    reply = post(sim_server, ROOMS, {"pms_id": 1})
    assert reply.status_code == 503 and reply.headers["Retry-After"] == "1"


def test_lose_next_spares_reads_and_drops_the_reply_of_applied_writes(
    sim_server: SimServer,
) -> None:
    room_id = add_king_room(sim_server)
    post(sim_server, "/_sim/faults", {"lose_next": 1})
    assert post(sim_server, ROOMS, {"pms_id": 1}).status_code == 200  # a read keeps its reply
    assert sim_server.faults.lose_next == 1
    with pytest.raises(httpx.TransportError):
        post(sim_server, CREATE, order_for(room_id))
    assert orders_on(sim_server, room_id) == 1  # applied all the same
    second = post(sim_server, CREATE, {**order_for(room_id), "name": "Other Guest"})
    assert second.status_code == 200 and second.json()["error_code"] in (0, 409)
    assert sim_server.faults.lose_next == 0


def test_lose_next_spares_a_refused_write(sim_server: SimServer) -> None:
    post(sim_server, "/_sim/faults", {"lose_next": 1})
    refused = post(sim_server, CREATE, order_for(room_id=999))  # no such room
    assert refused.json()["error_code"] != 0
    assert sim_server.faults.lose_next == 1


def test_lose_next_on_an_open_ability_command(sim_server: SimServer) -> None:
    with sim_server.db.transaction() as conn:
        codes = seed_openability(conn, random.Random(1), sim_server.clock())
    code = next(c for c in codes if c["case"] == "oa_gym")
    residence = code["residence_id"]
    listing = {"command": "get_booking_list", "id": "q", "param": {"residence_id": residence}}
    claim = {
        "command": "create_code_booking_info",
        "id": "kiosk-1-claim-1",
        "param": {"residence_id": residence, "booking_code": code["booking_code"]},
    }
    post(sim_server, "/_sim/faults", {"lose_next": 1})
    assert post(sim_server, OA_USER, listing).json()["result"] == []  # a get_ keeps its reply
    with pytest.raises(httpx.TransportError):
        post(sim_server, OA_USER, claim)
    assert len(post(sim_server, OA_USER, listing).json()["result"]) == 1


def test_the_simulator_reads_the_pms_routes_as_the_client_does() -> None:
    names = [path.rsplit("/", 1)[-1] for path in pms.ROUTES]
    assert {name: _is_pms_read(name) for name in names} == {name: is_read(name) for name in names}
    assert not _is_pms_read("checkIn") and _is_pms_read("generateRoomCard")


@pytest.mark.parametrize(
    "bad",
    [
        {"latency_ms": 100, "failure_rate": 2},  # the good knob must not be set either
        {"latency_ms": 100, "fail_next": -1},
        {"latency_ms": 100, "fail_next": 1.5},
        {"latency_ms": 100, "lose_next": True},
        {"latency_ms": 100, "lose_next": 10_001},
        {"latency_ms": 100, "lost_reply_rate": None},
        {"latency_ms": 100, "fail_nxt": 1},  # a misspelt knob is not ignored
    ],
)
def test_a_bad_knob_answers_400_and_changes_nothing(sim_server: SimServer, bad: dict) -> None:
    before = sim_server.faults.knobs()
    assert post(sim_server, "/_sim/faults", bad).status_code == 400
    assert sim_server.faults.knobs() == before
    assert before["latency_ms"] == 0


def test_clock_admin_path_moves_the_clock_and_back(
    sim_server: SimServer, sim_clock: SimClock
) -> None:
    late = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)
    reply = post(sim_server, "/_sim/clock", {"now": late.timestamp()})
    assert reply.json() == {"now": int(late.timestamp())}
    health = httpx.get(sim_server.url + "/_sim/health", timeout=5).json()
    assert health["now"] == int(late.timestamp())
    sim_clock.now += timedelta(minutes=1)  # the moved clock runs on at its base's pace
    assert sim_server.clock() == late + timedelta(minutes=1)
    assert post(sim_server, "/_sim/clock", {"now": None}).json() == {
        "now": int(sim_clock.now.timestamp())
    }
    assert sim_server.clock is sim_clock


@pytest.mark.parametrize("bad", [{}, {"now": "tomorrow"}, {"now": -1}, {"now": True}, [1]])
def test_clock_admin_path_refuses_bad_bodies(sim_server: SimServer, bad: object) -> None:
    assert post(sim_server, "/_sim/clock", bad).status_code == 400
    assert sim_server.clock() == SIM_NOW


def test_set_clock_twice_moves_from_the_real_clock(sim_server: SimServer) -> None:
    sim_server.set_clock(SIM_NOW + timedelta(hours=1))
    sim_server.set_clock(SIM_NOW + timedelta(hours=2))
    assert sim_server.clock() == SIM_NOW + timedelta(hours=2)
    with pytest.raises(ValueError):
        sim_server.set_clock(datetime(2026, 3, 4, 12, 0))  # naive


def test_outage_returns_once_down(sim_server: SimServer) -> None:
    sim_server.outage(0.3)
    assert not sim_server.running
    with pytest.raises(httpx.TransportError):
        httpx.get(sim_server.url + "/_sim/health", timeout=1)
    deadline = time.monotonic() + 5
    while not sim_server.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert httpx.get(sim_server.url + "/_sim/health", timeout=1).status_code == 200
