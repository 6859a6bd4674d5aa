"""The scripts' device moves (backend_down, backend_outage, lose_replies, paper, card_stock,
clock) played by the runner against the real simulator over loopback and the device
simulators. A probe stands in for the check-in journey: after each tap it looks at what
the journey would meet (HTTP replies, printer, dispenser, its clock)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from hardware.printer.protocol import PaperLevel, PrinterError
from hardware.printer.receipt import Receipt, Text
from kiosk.demo.devices import simulated_devices
from kiosk.demo.script import (
    GuestScript,
    ScriptBackend,
    ScriptError,
    SimAdminBackend,
    SimServerBackend,
    run_script,
)
from kiosk.journeys.devices import Devices
from kiosk.journeys.keys import CardIssuer, CardStockEmpty
from kiosk.journeys.messages import ActionKind, Channel, Choice, Step, View
from kiosk.journeys.result import JourneyResult
from kiosk.journeys.settings import JourneySettings
from kiosk.sim.pms.property import add_room, add_room_type
from kiosk.sim.server import SimServer
from tests.conftest import SIM_NOW, SIM_TOKEN, SimClock

pytestmark = pytest.mark.timeout(60)

AUTH = {"Authorization": f"Bearer {SIM_TOKEN}"}
SHANGHAI = ZoneInfo("Asia/Shanghai")
SETTINGS = JourneySettings(timezone="Asia/Shanghai")
TAP = {"on": "attract", "tap": "start"}
ARRIVAL, DEPARTURE = 1772604000, 1772683200

Probe = Callable[["ProbeJourney"], Awaitable[Any]]


@dataclass
class ProbeJourney:
    """What the runner uses of a ``CheckinJourney`` (devices, settings, now, run): each tap
    on its one screen runs ``probe``; the script running out ends it."""

    devices: Devices
    probe: Probe
    now: Callable[[], datetime]
    settings: JourneySettings = field(default_factory=lambda: SETTINGS)
    seen: list[Any] = field(default_factory=list)

    async def run(self, channel: Channel) -> JourneyResult:
        start = Choice("start", "attract.start")
        while True:
            await channel.views.put(View(Step.ATTRACT, "attract.title", choices=(start,)))
            action = await channel.actions.get()
            if action.kind is ActionKind.TIMEOUT:
                return JourneyResult("timed_out", (Step.ATTRACT,), "en")
            self.seen.append(await self.probe(self))


@pytest.fixture
def devices(tmp_path: Path) -> Iterator[Devices]:
    bundle = simulated_devices(tmp_path)
    yield bundle
    bundle.terminal.close()


@pytest.fixture(params=["in_process", "admin_http"])
def backend(request: pytest.FixtureRequest, sim_server: SimServer) -> ScriptBackend:
    """Both ways of reaching the simulator's knobs."""
    if request.param == "in_process":
        return SimServerBackend(sim_server)
    return SimAdminBackend(sim_server.url + "/", SIM_TOKEN)


async def play(
    journey: ProbeJourney, actions: list[dict], backend: ScriptBackend | None = None
) -> list[Any]:
    script = GuestScript.model_validate(
        {"name": "moves", "actions": actions, "expect": {"outcome": "timed_out"}}
    )
    report = await run_script(journey, script, backend=backend)  # type: ignore[arg-type]
    assert report.passed, report.failures
    return journey.seen


async def post(server: SimServer, path: str, body: dict) -> httpx.Response:
    async with httpx.AsyncClient(headers=AUTH, timeout=5) as client:
        return await client.post(server.url + path, json=body)


def rooms_list(sim_server: SimServer) -> Probe:
    async def probe(journey: ProbeJourney) -> list[tuple[int, str | None]]:
        replies = [
            await post(sim_server, "/api/v1/pmsRoom/getAllRoomList", {"pms_id": 1})
            for _ in range(3)
        ]
        return [(r.status_code, r.headers.get("Retry-After")) for r in replies]

    return probe


async def test_backend_down_refuses_the_next_requests_with_503(
    devices: Devices, sim_server: SimServer, sim_clock: SimClock, backend: ScriptBackend
) -> None:
    journey = ProbeJourney(devices, rooms_list(sim_server), sim_clock)
    seen = await play(journey, [{"backend_down": 2}, TAP], backend)
    assert seen == [[(503, "1"), (503, "1"), (200, None)]]


async def test_backend_down_zero_clears_it(
    devices: Devices, sim_server: SimServer, sim_clock: SimClock, backend: ScriptBackend
) -> None:
    journey = ProbeJourney(devices, rooms_list(sim_server), sim_clock)
    seen = await play(journey, [{"backend_down": 5}, {"backend_down": 0}, TAP], backend)
    assert seen == [[(200, None)] * 3]


async def test_lose_replies_applies_the_write_and_loses_its_reply(
    devices: Devices, sim_server: SimServer, sim_clock: SimClock, backend: ScriptBackend
) -> None:
    with sim_server.db.transaction() as conn:
        king = add_room_type(conn, 1, "King", "K", "100.00")
        free_rooms = [add_room(conn, 1, king, name, 1) for name in ("101", "102")]

    def order(room_id: int) -> dict:
        stay = {"room_id": room_id, "accom_type": 10, "checkin_start_time": ARRIVAL,
                "checkin_end_time": DEPARTURE, "amount": "100.00", "accom_status": 40}  # fmt: skip
        return {"pms_id": 1, "name": "Test Guest", "reminder_list": [], "room_list": [stay]}

    async def orders() -> int:
        period = {"pms_id": 1, "start_date": ARRIVAL, "end_date": DEPARTURE}
        rooms = (await post(sim_server, "/api/v1/pmsOrder/getAccomlist", period)).json()["data"]
        return sum(len(room["order_list"]) for room in rooms)

    async def probe(journey: ProbeJourney) -> tuple[int, str, int]:
        read = await post(sim_server, "/api/v1/pmsRoom/getAllRoomList", {"pms_id": 1})
        try:
            reply = await post(sim_server, "/api/v1/pmsOrder/create", order(free_rooms.pop(0)))
            write = f"error_code {reply.json()['error_code']}"
        except httpx.TransportError:
            write = "reply lost"
        return read.status_code, write, await orders()

    journey = ProbeJourney(devices, probe, sim_clock)
    seen = await play(journey, [{"lose_replies": 1}, TAP, TAP], backend)
    # The read and the order count keep their replies; only the first write loses its own.
    assert seen == [(200, "reply lost", 1), (200, "error_code 0", 2)]


async def test_backend_outage_takes_the_simulator_down_then_up(
    devices: Devices, sim_server: SimServer, sim_clock: SimClock, backend: ScriptBackend
) -> None:
    async def probe(journey: ProbeJourney) -> str:
        async with httpx.AsyncClient(timeout=1) as client:
            try:
                await client.get(sim_server.url + "/_sim/health")
                return "up"
            except httpx.TransportError:
                return "down"

    journey = ProbeJourney(devices, probe, sim_clock)
    assert await play(journey, [{"backend_outage": 0.4}, TAP], backend) == ["down"]
    await back_up(sim_server)


async def test_clock_sets_the_journeys_and_the_simulators_local_time(
    devices: Devices, sim_server: SimServer, sim_clock: SimClock, backend: ScriptBackend
) -> None:
    async def probe(journey: ProbeJourney) -> tuple[datetime, int]:
        async with httpx.AsyncClient(timeout=5) as client:
            health = (await client.get(sim_server.url + "/_sim/health")).json()
        return journey.now().astimezone(SHANGHAI), health["now"]

    journey = ProbeJourney(devices, probe, sim_clock)  # 14:00 in Shanghai
    seen = await play(journey, [TAP, {"clock": "23:30"}, TAP], backend)
    late = datetime(2026, 3, 4, 23, 30, tzinfo=SHANGHAI)
    assert seen == [
        (SIM_NOW.astimezone(SHANGHAI), int(SIM_NOW.timestamp())),
        (late, int(late.timestamp())),
    ]
    assert journey.now is sim_clock  # both clocks back after the run
    assert sim_server.clock() == SIM_NOW


async def test_paper_moves_set_the_simulated_printers_paper(
    devices: Devices, sim_clock: SimClock
) -> None:
    async def probe(journey: ProbeJourney) -> tuple[PaperLevel, str]:
        printer = journey.devices.printer
        assert printer is not None
        try:
            printer.print_receipt(Receipt((Text("Room 301"),)))
            outcome = "printed"
        except PrinterError:  # what makes the journey show the receipt on screen
            outcome = "refused"
        return printer.status().paper, outcome

    journey = ProbeJourney(devices, probe, sim_clock)
    moves = [{"paper": "out"}, TAP, {"paper": "low"}, TAP, {"paper": "ok"}, TAP]
    assert await play(journey, moves) == [
        (PaperLevel.OUT, "refused"),
        (PaperLevel.NEAR_END, "printed"),
        (PaperLevel.OK, "printed"),
    ]


async def test_card_stock_sets_the_stacker(devices: Devices, sim_clock: SimClock) -> None:
    async def probe(journey: ProbeJourney) -> str:
        issuer = CardIssuer(
            journey.devices.dispenser, journey.devices.encoder, attempts=1, take_timeout_s=0.1
        )
        try:
            await issuer.ready()  # the journey's check before it takes any money
        except CardStockEmpty:  # the journey refuses: card_stock_empty
            return "empty"
        return journey.devices.dispenser.status().stock.value

    journey = ProbeJourney(devices, probe, sim_clock)
    moves = [{"card_stock": 0}, TAP, {"card_stock": 2}, TAP]
    assert await play(journey, moves) == ["empty", "low"]


async def never_probed(journey: ProbeJourney) -> None:
    raise AssertionError("the run should have stopped before the tap")


@pytest.mark.parametrize(
    ("move", "missing"),
    [
        ({"backend_down": 1}, "backend_down needs the property simulator"),
        ({"backend_outage": 1}, "backend_outage needs the property simulator"),
        ({"lose_replies": 1}, "lose_replies needs the property simulator"),
        ({"clock": "23:30"}, "clock needs the property simulator"),
        ({"paper": "out"}, "paper needs the simulated printer"),
        ({"card_stock": 0}, "card_stock needs the simulated dispenser"),
    ],
)
async def test_a_move_without_its_simulated_part_stops_the_run(
    devices: Devices, sim_clock: SimClock, move: dict, missing: str
) -> None:
    bare = Devices(devices.terminal, devices.dispenser.inner, devices.encoder)  # type: ignore[attr-defined]
    journey = ProbeJourney(bare, never_probed, sim_clock)
    with pytest.raises(ScriptError, match=missing):
        await play(journey, [move, TAP])
    assert journey.now is sim_clock


async def test_the_admin_backend_reports_a_refusal_and_an_absent_simulator(
    devices: Devices, sim_server: SimServer, sim_clock: SimClock
) -> None:
    journey = ProbeJourney(devices, never_probed, sim_clock)
    wrong_token = SimAdminBackend(sim_server.url, "not-the-token")
    with pytest.raises(ScriptError, match=r"/_sim/faults answered 401"):
        await play(journey, [{"backend_down": 1}, TAP], wrong_token)
    sim_server.stop()
    with pytest.raises(ScriptError, match=r"/_sim/faults is unreachable"):
        await play(journey, [{"backend_down": 1}, TAP], SimAdminBackend(sim_server.url, SIM_TOKEN))


async def test_a_simulator_still_down_at_the_end_keeps_the_moved_clock(
    devices: Devices,
    sim_server: SimServer,
    sim_clock: SimClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    journey = ProbeJourney(devices, never_probed, sim_clock)
    backend = SimAdminBackend(sim_server.url, SIM_TOKEN, timeout=0.5)
    await play(journey, [{"clock": "23:30"}, {"backend_outage": 1}], backend)
    assert journey.now is sim_clock
    assert "clock was not set back" in caplog.text
    late = datetime(2026, 3, 4, 23, 30, tzinfo=SHANGHAI)
    assert sim_server.clock() == late
    await back_up(sim_server)  # not after the fixture closed its database


async def back_up(sim_server: SimServer) -> None:
    deadline = time.monotonic() + 5
    while not sim_server.running and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert sim_server.running
