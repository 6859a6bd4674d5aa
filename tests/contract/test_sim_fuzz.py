"""Arbitrary and hostile bodies on every one of the simulator's 55 operations (issue 10).

Each operation starts from its seed example with the ids of a seeded demo property, so
that mutations reach past the first lookup; then one field (or the whole body) is
replaced by something hostile: integers past 64 bits, money like "1e30" or "1_000.00",
fullwidth digits, lone surrogates, far dates, deep nesting, wrong types. Asserted for
every request: a reply in time, never code 500, and no change to any SQLite table when
the reply is an error. Fixed seed (``derandomize``), a small budget per operation.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.sim.demo import seed_demo
from kiosk.sim.server import SimServer
from tests.conftest import SIM_NOW, SIM_TOKEN, SimClock

FIXTURES = Path(__file__).parents[1] / "fixtures" / "seed_examples"
OA_BASE = "/api/v1.0/invoke/open-ability/method/"
EXAMPLES_PER_OPERATION = 30

pytestmark = pytest.mark.timeout(300)


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(name, path, seed request example) for all 55 operations."""
    ops = []
    for op in json.loads((FIXTURES / "pms.json").read_text()):
        ops.append((op["name"], op["path"], op["request"]))
    for family in ("user", "hotel"):
        for op in json.loads((FIXTURES / f"openability_{family}.json").read_text()):
            ops.append((op["command"], f"{OA_BASE}{family}-commands", op["request"]))
    return ops


OPERATIONS = _operations()


class Sim:
    """The seeded simulator and what a template needs: ids that exist, a dump of the state."""

    def __init__(self, server: SimServer, http: httpx.Client) -> None:
        self.server, self.http = server, http
        db = sqlite3.connect(server.db.path, isolation_level=None)  # each read sees the latest

        def q(sql: str) -> list[Any]:
            return [row[0] for row in db.execute(sql)]

        now = int(SIM_NOW.timestamp())
        tomorrow = (SIM_NOW + timedelta(days=1)).strftime("%Y-%m-%d")
        self.pms: dict[str, list[Any]] = {
            "pms_id": [1],
            "order_id": q("SELECT order_id FROM pms_order"),
            "accom_id": q("SELECT accom_id FROM pms_accom"),
            "room_id": [*q("SELECT room_id FROM pms_room"), 0],
            "room_type_id": q("SELECT room_type_id FROM pms_room_type"),
            "bill_id": q("SELECT bill_id FROM pms_bill"),
            "tenant_id": q("SELECT tenant_id FROM pms_tenant"),
            "consume_id": [1, 2],
            "pay_id": [1, 5],
            "checkin_start_time": [now - 3600, now],
            "checkin_end_time": [now + 86400, now + 2 * 86400],
            "start_date": [now - 86400, now],
            "end_date": [now + 86400],
            "start_time": [now, now + 600],
            "end_time": [now + 86400],
            "remind_date": [now + 3600],
            "date": [SIM_NOW.strftime("%Y-%m-%d")],
        }
        self.oa: dict[str, list[Any]] = {
            "residence_id": q("SELECT residence_id FROM oa_residence"),
            "amenity_id": q("SELECT amenity_id FROM oa_amenity"),
            "booking_id": q("SELECT booking_id FROM oa_booking") or ["none"],
            "order_id": q("SELECT order_id FROM oa_order"),
            "room_type_id": q("SELECT room_type_id FROM oa_room_type"),
            "booking_code": q("SELECT booking_code FROM oa_booking_code"),
            "start_time": [f"{tomorrow} 02:00:00", f"{tomorrow} 09:30:00"],
            "end_time": [f"{tomorrow} 10:00:00"],
            "finish_time": [f"{tomorrow} 10:00:00"],
            "date": [tomorrow],
        }
        self.db = db
        self.tables = q("SELECT name FROM sqlite_master WHERE type = 'table'")

    def dump(self) -> dict[str, list[tuple]]:
        """Every row of every table, in rowid order (requests are sequential: one snapshot)."""
        return {
            table: self.db.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
            for table in self.tables
        }


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    path = tmp_path_factory.mktemp("fuzz") / "sim.sqlite"
    with SimServer(path, SIM_TOKEN, clock=SimClock(), seed=11) as server:
        seed_demo(server, seed=5)
        headers = {"Authorization": f"Bearer {SIM_TOKEN}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=10) as http:
            sim = Sim(server, http)
            yield sim
            sim.db.close()


# --- hostile values ------------------------------------------------------------------------

HOSTILE_SCALARS = [
    2**63, -(2**63) - 1, 2**64, 10**30, -1, 0, 2**63 - 1, 1.5, -0.0, 1e308, 1e-308,
    True, False, None, "", " ", "0", "-0", "1", "1e30", "1E3", "NaN", "nan", "Infinity",
    "-Infinity", "1_000.00", "１００.００", "１", "٣", "²", "100.001", "-100.00", "+5", "0x10",
    " 100.00 ", "100.", ".5", "9" * 40, "9" * 5000, "\ud800", "a\x00b", "é" * 600,
    "9999-12-31", "0001-01-01", "0000-00-00", "2026-02-30", "20260304", "2026-W10-3",
    "２０２６-03-04", "9999-12-31 23:59:59", "0001-01-01 00:00:00", "2026-03-04T10:00:00",
    "２０２６-03-05 02:00:00", "25:61", "#GGGGGG", "+８６", "１８０００００００００",
    "check_in", "checked_out", "ＡＢＣＤＥＦ12",
]  # fmt: skip

scalars = st.one_of(
    st.sampled_from(HOSTILE_SCALARS),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
# Deep nesting goes out as raw text (json.dumps here would recurse as deep): a marker.
deep = st.integers(min_value=30, max_value=5000).map(lambda n: f"__deep_{n}__")
_DEEP = re.compile(r'"__deep_(\d+)__"')


def _paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*prefix, i))


def _replace(value: Any, path: tuple, new: Any, delete: bool) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        if delete and not rest:
            copy.pop(head, None)
        else:
            copy[head] = _replace(value[head], rest, new, delete)
        return copy
    copy = list(value)
    copy[head] = _replace(value[head], rest, new, delete)
    return copy


@st.composite
def requests(draw: st.DrawFn, sim: Sim, name: str, path: str, example: dict) -> Any:
    """The seed example with real ids, then one part of it made hostile."""
    oa = path.startswith(OA_BASE)
    pools = sim.oa if oa else sim.pms

    def fill(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: fill(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v, key) for v in value]
        pool = pools.get(key) or pools.get(key.removesuffix("s"))
        return draw(st.sampled_from(pool)) if pool else value

    body = fill(example)
    if oa:
        body["id"] = draw(st.text(alphabet="0123456789abcdef", min_size=8, max_size=12))
    kind = draw(st.sampled_from(["field", "field", "field", "delete", "whole", "deep", "none"]))
    if kind == "whole":
        return draw(json_values)
    if kind == "none":
        return body
    target = draw(st.sampled_from(list(_paths(body))[1:] or [()]))
    new = draw(deep if kind == "deep" else json_values)
    return _replace(body, target, new, delete=kind == "delete")


def _post(sim: Sim, path: str, body: Any) -> httpx.Response:
    # NaN and Infinity go out as JSON's non-standard tokens, as a hostile client sends them
    text = _DEEP.sub(lambda m: "[" * int(m[1]) + "]" * int(m[1]), json.dumps(body))
    content = text.encode("utf-8", "surrogatepass")
    return sim.http.post(path, content=content)


def _is_error(path: str, reply: dict[str, Any]) -> bool:
    if path.startswith(OA_BASE):
        return reply.get("success") is not True
    return reply.get("error_code") != 0


@pytest.mark.parametrize(("name", "path", "example"), OPERATIONS, ids=[o[0] for o in OPERATIONS])
def test_hostile_bodies_get_a_clean_refusal_and_change_nothing(
    sim: Sim, name: str, path: str, example: dict
) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def check(data: st.DataObject) -> None:
        body = data.draw(requests(sim, name, path, example))
        before = sim.dump()
        response = _post(sim, path, body)
        assert response.status_code in (200, 400, 413), response.status_code
        reply = response.json()
        assert reply.get("error_code") != 500 and reply.get("code") != 500, reply
        if response.status_code != 200 or _is_error(path, reply):
            assert sim.dump() == before, reply

    check()


def test_all_55_operations_are_fuzzed() -> None:
    assert len(OPERATIONS) == 55
    assert len({(path, name) for name, path, _ in OPERATIONS}) == 55


KNOB_NAMES = ["latency_ms", "failure_rate", "lost_reply_rate", "fail_next", "lose_next", "now"]


@settings(max_examples=150, derandomize=True, database=None, deadline=None)
@given(
    body=st.one_of(
        json_values,
        st.dictionaries(st.sampled_from(KNOB_NAMES), scalars, min_size=1, max_size=4),
    ),
    admin=st.sampled_from(["/_sim/faults", "/_sim/clock"]),
)
def test_admin_paths_change_nothing_while_answering_400(sim: Sim, body: Any, admin: str) -> None:
    knobs, clock = sim.server.faults.knobs(), sim.server.clock
    response = _post(sim, admin, body)
    try:
        assert response.status_code in (200, 400)
        if response.status_code == 400:
            assert (sim.server.faults.knobs(), sim.server.clock) == (knobs, clock)
    finally:  # a knob that was set must not slow or fail the next example
        sim.server.faults.update({name: 0 for name in knobs})
        sim.server.set_clock(None)
