"""The walk-in journey on the assembled kiosk (``start_runtime`` with its embedded simulator
over loopback HTTP), and two ``kiosk play`` processes racing for the last room against one
simulator: the PMS's own state is asserted after each."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kiosk.api.pms_types import AccomStatus
from kiosk.config import WalkInConfig
from kiosk.demo import DEMO_WALK_IN, demo_config
from kiosk.demo.script import GuestScript, ScriptReport, SimServerBackend, run_script
from kiosk.journeys.messages import Step, View
from kiosk.runtime import Runtime, start_runtime
from kiosk.sim.demo import seed_demo
from kiosk.sim.pms import property as pms_property
from kiosk.sim.server import SimServer
from tests.conftest import SIM_TOKEN

pytestmark = pytest.mark.timeout(120)

# A walk-in at 15:00 local: today's arrivals hold their rooms (at 02:00 a room booked
# from 14:00 could still be sold until the check-out time).
CLOCK = {"clock": "15:00"}
REGISTER_AND_PAY = [
    {"on": "summary", "tap": "continue"},
    {"on": "register", "type": "Lucas Garcia"},
    {"on": "register", "tap": "passport"},
    {"on": "register", "type": "P7654321"},
    {"on": "payment", "pay": "approve"},
    {"on": "keys", "tap": "1"},
    {"on": "receipt", "tap": "continue"},
    {"on": "done", "tap": "finish"},
]


async def assembled(folder: Path, **walk_in: Any) -> Runtime:
    config = demo_config(folder)
    return await start_runtime(
        config.model_copy(update={"walk_in": WalkInConfig(**{**DEMO_WALK_IN, **walk_in})})
    )


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    runtime = await assembled(tmp_path)
    yield runtime
    await runtime.aclose()


async def play(
    runtime: Runtime, actions: list[dict[str, Any]], outcome: str, **kwargs: Any
) -> ScriptReport:
    script = GuestScript.model_validate(
        {"name": "walk-in test", "actions": actions, "expect": {"outcome": outcome}}
    )
    report = await run_script(
        runtime.journey, script, {}, lobby=runtime.lobby,
        backend=SimServerBackend(runtime.sim), **kwargs,
    )  # fmt: skip
    assert report.failures == [], report.transcript
    return report


def walk_in_stays(sim: SimServer) -> list[dict[str, Any]]:
    with sim.db.transaction() as conn:
        rows = conn.execute(
            "SELECT a.*, r.name AS room_name FROM pms_accom a JOIN pms_order o USING (order_id)"
            " JOIN pms_room r ON r.room_id = a.room_id WHERE o.name = 'Kiosk walk-in'"
        ).fetchall()
    return [dict(row) for row in rows]


async def test_a_walk_in_guest_buys_a_room_and_checks_in(runtime: Runtime) -> None:
    shown: list[View] = []

    async def seen(view: View) -> None:
        shown.append(view)

    report = await play(
        runtime,
        [CLOCK, {"on": "attract", "tap": "walk_in"}, {"on": "walk_in_nights", "tap": "n2"},
         {"on": "walk_in_room", "tap": "book"}, *REGISTER_AND_PAY],
        "checked_in",
        on_view=seen,
    )  # fmt: skip
    offer = next(v for v in shown if v.step is Step.WALK_IN_ROOM)
    assert offer.params["room_type"].startswith("Standard King")
    assert offer.params["amount_due"] == Decimal("776.00") and offer.params["photo"]
    (stay,) = walk_in_stays(runtime.sim)
    assert stay["accom_status"] == AccomStatus.CHECKED_IN and stay["amount"] == "776.00"
    assert stay["room_name"] == "205"  # the one clean, free King room tonight
    nights = (stay["end_time"] - stay["start_time"]) / 86_400
    assert 1 < nights <= 2
    assert len(report.result.payments) == 1 and len(report.result.cards) == 1


async def test_a_guest_who_walks_away_unpaid_gives_the_room_back(runtime: Runtime) -> None:
    await play(
        runtime,
        [CLOCK, {"on": "attract", "tap": "walk_in"}, {"on": "walk_in_nights", "tap": "n1"},
         {"on": "walk_in_room", "tap": "book"}, {"on": "summary", "tap": "continue"},
         {"on": "register", "cancel": True}],
        "cancelled_by_guest",
    )  # fmt: skip
    assert await runtime.outbox.drain(10)
    (stay,) = walk_in_stays(runtime.sim)
    assert stay["accom_status"] == AccomStatus.CANCELLED


async def test_only_clean_free_rooms_of_the_types_with_a_rate_are_sold(
    runtime: Runtime,
) -> None:
    desk = runtime.walk_in_desk
    assert desk is not None
    now = runtime.journey.now()
    rooms = {r.room.name for r in await desk.sellable_rooms(now, now + timedelta(hours=20))}
    assert "205" in rooms and not rooms & {"201", "202", "203", "204"}  # booked, in, dirty
    with runtime.sim.db.transaction() as conn:
        (room_id,) = conn.execute("SELECT room_id FROM pms_room WHERE name = '205'").fetchone()
        pms_property.set_dirty(conn, room_id, True)
    # King is the only type with a rate here, and its one free room is dirty now.
    runtime_rates = await assembled(runtime.config.state.dir.parent / "k", rates={"1": "388.00"})
    try:
        with runtime_rates.sim.db.transaction() as conn:
            (room_id,) = conn.execute(
                "SELECT room_id FROM pms_room WHERE name = '205'"
            ).fetchone()
            pms_property.set_dirty(conn, room_id, True)
        await play(
            runtime_rates,
            [CLOCK, {"on": "attract", "tap": "walk_in"}, {"on": "walk_in_nights", "tap": "n1"},
             {"on": "refusal", "tap": "finish"}],
            "refused:no_rooms",
        )  # fmt: skip
    finally:
        await runtime_rates.aclose()


def test_walk_in_is_off_unless_the_property_turns_it_on() -> None:
    assert WalkInConfig().enabled is False


async def test_two_kiosks_racing_for_the_last_room_sell_it_once(tmp_path: Path) -> None:
    # The simulator on the real clock, as the two kiosks are (the fixture's is fixed).
    with SimServer(tmp_path / "sim.sqlite", SIM_TOKEN, seed=7) as sim_server:
        seed_demo(sim_server, seed=1)
        await _race(sim_server, tmp_path)


async def _race(sim_server: SimServer, tmp_path: Path) -> None:
    # The last King room tonight is 205: each kiosk sees it free, waits, then books it.
    script = tmp_path / "race.json"
    script.write_text(
        json.dumps(
            {
                "name": "race",
                "actions": [
                    CLOCK,
                    {"on": "attract", "tap": "walk_in"},
                    {"on": "walk_in_nights", "tap": "n1"},
                    {"on": "walk_in_room", "wait": 5},
                    {"on": "walk_in_room", "tap": "book"},
                    # the winner holds the room a while (its release would free it again)
                    {"wait": 5},
                    {"cancel": True},
                ],
                "expect": {"outcome": "cancelled_by_guest"},
            }
        )
    )
    kiosks = [_play(sim_server, tmp_path / f"kiosk{n}", script) for n in (1, 2)]
    results = await asyncio.gather(*kiosks)
    outcomes = sorted(json.loads(out)["outcome"] for out, _err in results)
    assert outcomes == ["cancelled_by_guest", "refused:no_rooms"], results
    loser = next(err for out, err in results if "no_rooms" in out)
    assert "walk-in room sold meanwhile" in loser  # it had seen the room free, then lost it
    assert len(walk_in_stays(sim_server)) == 1  # one booking of room 205, never two


async def _play(sim: SimServer, state: Path, script: Path) -> tuple[str, str]:
    config = state / "kiosk.toml"
    state.mkdir()
    config.write_text(
        f"""
[backend]
base_url = "{sim.url}"
token = "{SIM_TOKEN}"
[state]
dir = "{state}"
[journey]
timezone = "Asia/Shanghai"
view_timeout_s = 20
[devices.payment]
sim_delay_factor = 0
[walk_in]
enabled = true
rates = {{"1" = "388.00"}}
"""
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kiosk.cli", "play", "--config", str(config),
        "--script", str(script), "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 90)
    return out.decode(), err.decode()
