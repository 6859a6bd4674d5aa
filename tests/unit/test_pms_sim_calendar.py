"""The simulated PMS's calendar rules, called in-process: "today" is the property's day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.sim import pms
from kiosk.sim.params import CONFLICT, SimError
from kiosk.sim.pms import property as prop
from kiosk.sim.pms.keys import room_card_payload
from kiosk.sim.server import SimServer
from tests.conftest import SIM_TOKEN, SimClock

pytestmark = pytest.mark.timeout(30)

# 14:00 in Shanghai on 4 March is 06:00 UTC; 01:00 on 4 March is 17:00 UTC on 3 March.
ARRIVAL = int(datetime(2026, 3, 4, 6, 0, tzinfo=UTC).timestamp())
EARLY_MORNING = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)


def _call(server: SimServer, op: str, params: dict) -> dict:
    return server.call(pms.ROUTES[f"/api/v1/pmsOrder/{op}"], params)


@pytest.fixture
def clock() -> SimClock:
    return SimClock(EARLY_MORNING)


@pytest.fixture
def server(tmp_path: Path, clock: SimClock) -> Iterator[SimServer]:
    """A simulator whose handlers are called directly (no HTTP needed for these rules)."""
    server = SimServer(tmp_path / "sim.sqlite", SIM_TOKEN, clock=clock, seed=1)
    with server.db.transaction() as conn:
        king = prop.add_room_type(conn, 1, "King", "K", "300.00")
        prop.add_room(conn, 1, king, "101", 1)
    yield server
    server.db.close()


def _book(server: SimServer, timezone: str) -> tuple[int, int]:
    with server.db.transaction() as conn:
        prop.set_timezone(conn, 1, timezone)
    order = _call(
        server,
        "create",
        {
            "pms_id": 1,
            "name": "G",
            "reminder_list": [],
            "room_list": [
                {
                    "room_id": 1,
                    "accom_type": 10,
                    "checkin_start_time": ARRIVAL,
                    "checkin_end_time": ARRIVAL + 22 * 3600,
                    "amount": "300.00",
                    "accom_status": 40,
                }
            ],
        },
    )
    detail = _call(server, "getAccomDetail", {"order_id": order["order_id"]})
    return order["order_id"], detail["accom_list"][0]["accom_id"]


@pytest.mark.parametrize(("timezone", "checkable"), [("Asia/Shanghai", True), ("UTC", False)])
def test_arrival_day_is_the_propertys_day(
    server: SimServer, timezone: str, checkable: bool
) -> None:
    """At 01:00 in Shanghai a 14:00 arrival is today's; by UTC's calendar it is tomorrow's."""
    order_id, accom_id = _book(server, timezone)
    listed = _call(server, "getCheckInAccom", {"order_id": order_id})
    assert [s["accom_id"] for s in listed] == ([accom_id] if checkable else [])
    check_in = {"order_id": order_id, "checkin_rooms": [{"accom_id": accom_id, "room_id": 1}]}
    if checkable:
        _call(server, "checkIn", check_in)
    else:
        with pytest.raises(SimError) as refused:
            _call(server, "checkIn", check_in)
        assert refused.value.code == CONFLICT and "not today" in refused.value.message


def test_a_stay_that_has_ended_cannot_be_checked_in(server: SimServer, clock: SimClock) -> None:
    order_id, accom_id = _book(server, "Asia/Shanghai")
    clock.now = EARLY_MORNING + timedelta(days=2)
    assert _call(server, "getCheckInAccom", {"order_id": order_id}) == []
    with pytest.raises(SimError, match="already ended"):
        _call(
            server,
            "checkIn",
            {"order_id": order_id, "checkin_rooms": [{"accom_id": accom_id, "room_id": 1}]},
        )


def test_room_card_payload_is_the_seeds_format() -> None:
    """The seed's example hex decodes to exactly what the simulator writes for those values."""
    seed_hex = (
        "7b22726f6f6d5f6964223a33322c22636865636b5f696e5f74696d65223a313734333438373230302c"
        "22636865636b5f6f75745f74696d65223a313734333537303030307d"
    )
    row = {"room_id": 32, "start_time": 1743487200, "end_time": 1743570000}
    assert room_card_payload(row).hex() == seed_hex  # type: ignore[arg-type]
