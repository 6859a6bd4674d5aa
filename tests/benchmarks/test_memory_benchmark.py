"""Memory (issue: the kiosk runs for months): the resident memory of one process after 1,000
scripted journeys against the embedded simulator, against the same process after 10.

Run: ``.venv/bin/python -m pytest tests/benchmarks -m benchmark -k memory -s``.

The kiosk is assembled as ``kiosk demo`` assembles it (``demo_config``, ``start_runtime``,
``start_background``: the embedded simulator, the durable outbox and its relay, the
offline cache, simulated devices), with the simulated devices' delays at 0 so that 1,000
journeys fit in about a minute. The journeys repeat a block of ten:

- 3 check-ins on fresh bookings (made before the run, each on a room of its own, added
  to the simulator's property): 2 as the demo's ``prepaid`` guest (on file, one card,
  door PIN, printed receipt), 1 as its ``balance_due`` guest (a declined card, another
  card pays, a card fails verification and the next is issued). They go through every
  layer: the outbox's journal and sends, the payment log, the terminal's journal, the
  card path, the printer's PNG rendering, the door PIN.
- 7 refusals on the demo's own bookings, which they leave as they are: ``tomorrow``
  (wrong day) x3, ``cancelled`` x2, ``already_checked_in`` x2. Each still scans, finds
  the booking and reads its stays and balance.

A kiosk's day is mostly check-ins; refusals are here because they are the journeys that
need no fresh booking, and they are cheap (~6 ms against ~150-250 ms), so the mix keeps
check-ins at 300 of the 1,000 at a third of the run time of all check-ins.

Resident memory is the current RSS (``/proc/self/statm``) after ``gc.collect()``, not
``ru_maxrss`` (a high-water mark). Two blocks warm up first (imports, the journeys' first
screens, the connection pool, SQLite's page caches), then 10 journeys give the mark
the growth is measured from. The process also hosts the simulator, whose SQLite file
grows with every check-in (its page cache is bounded). Target: growth < 10%.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from datetime import time as day_time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kiosk.api.pms import PmsClient
from kiosk.api.pms_types import (
    AccomDetailRequest,
    AllRoomListRequest,
    BillType,
    CashierPayment,
    CashierRequest,
    CreateOrderRequest,
)
from kiosk.config import KioskConfig
from kiosk.demo import DEMO_QR_KEY, DEMO_TIMEZONE, builtin_scripts, demo_config
from kiosk.demo.script import GuestScript, run_script, values_from_manifest
from kiosk.qr_payload import PmsOrderRef, encode_payload
from kiosk.runtime import Runtime, start_runtime
from kiosk.sim.demo import PMS_ID, write_manifest
from kiosk.sim.pms import property as pms_property

pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(300)]

JOURNEYS = 1000
MARK = 10  # the growth is measured from here
WARM_UP_BLOCKS = 2
SAMPLE_EVERY = 100
GROWTH_TARGET = 0.10

# (script, needs a fresh booking); a block of ten
BLOCK = (
    ("prepaid", True),
    ("tomorrow", False),
    ("cancelled", False),
    ("balance_due", True),
    ("already_checked_in", False),
    ("tomorrow", False),
    ("prepaid", True),
    ("cancelled", False),
    ("tomorrow", False),
    ("already_checked_in", False),
)
PRICE = Decimal("388.00")
PAID = {"prepaid": PRICE, "balance_due": Decimal("100.00")}  # as the demo's bookings


def resident_bytes() -> int:
    """The process's current resident set, after a full collection."""
    gc.collect()
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def python_blocks() -> int:
    """Blocks the Python allocator holds (objects: not SQLite's or OpenSSL's memory)."""
    return sys.getallocatedblocks()


def memory_config(folder: Path) -> KioskConfig:
    """``kiosk demo``'s config with instant devices that never run out (cards, paper, room
    in the reject bin)."""
    config = demo_config(folder)
    devices = config.devices
    return config.model_copy(
        update={
            "devices": devices.model_copy(
                update={
                    "payment": devices.payment.model_copy(update={"sim_delay_factor": 0.0}),
                    "dispenser": devices.dispenser.model_copy(
                        update={
                            "sim_delay_scale": 0.0,
                            "poll_interval_s": 0.01,
                            "sim_stock": 100_000,
                            "sim_reject_capacity": 100_000,  # balance_due rejects a card
                        }
                    ),
                    "printer": devices.printer.model_copy(update={"sim_paper_rows": 100_000_000}),
                }
            )
        }
    )


@contextlib.contextmanager
def logs_not_kept() -> Iterator[None]:
    """Log records written and dropped, as on a kiosk (journald): pytest's capture keeps
    every record of the test for its report, which would count as the kiosk's memory
    (balance_due logs two warnings per journey)."""
    root = logging.getLogger()
    kept = root.handlers[:]
    with open(os.devnull, "w") as sink:
        root.handlers = [logging.StreamHandler(sink)]
        try:
            yield
        finally:
            root.handlers = kept


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    runtime = await start_runtime(memory_config(tmp_path))
    await runtime.start_background()
    yield runtime
    await runtime.aclose()


async def fresh_bookings(runtime: Runtime, cases: list[str]) -> list[str]:
    """A booking for today per case, each on a new King room (floor 2), paid as the demo's
    booking of that case is; their QR payloads, in order."""
    client = runtime.client
    assert isinstance(client, PmsClient) and runtime.sim is not None
    room_types = (await client.get_all_room_list(AllRoomListRequest(pms_id=PMS_ID))).room_types
    king = next(t.room_type_id for t in room_types if t.short_name == "King")
    with runtime.sim.db.transaction() as conn:  # no API adds rooms (kiosk/sim/demo.py neither)
        rooms = [
            pms_property.add_room(conn, PMS_ID, king, f"K{n:04d}", 2) for n in range(len(cases))
        ]
    zone = ZoneInfo(DEMO_TIMEZONE)
    today = runtime.sim.clock().astimezone(zone).date()
    start = datetime.combine(today, day_time(14, 0), zone)
    end = datetime.combine(today + timedelta(days=1), day_time(12, 0), zone)
    payloads = []
    for n, (case, room_id) in enumerate(zip(cases, rooms, strict=True)):
        name, phone = f"Wei Guest{n}", f"139{n:08d}"
        # As the demo's bookings: the prepaid guest's passport (id_type 40) is on file.
        id_type, id_number = (40, f"E{n:08d}") if case == "prepaid" else (0, "")
        stay = {
            "room_id": room_id,
            "accom_type": 10,
            "checkin_start_time": int(start.timestamp()),
            "checkin_end_time": int(end.timestamp()),
            "amount": str(PRICE),
            "accom_status": 40,
            "tenant_list": [
                {"name": name, "phone": phone, "id_type": id_type, "id_number": id_number}
            ],
        }
        created = await client.create(
            CreateOrderRequest.model_validate(
                {"pms_id": PMS_ID, "name": name, "phone": phone, "room_list": [stay]}
            )
        )
        bill = CashierPayment(
            bill_type=BillType.PAYMENT, name="Online prepayment", amount=PAID[case], remark="demo"
        )
        await client.cashier(CashierRequest(order_id=created.order_id, bills=[bill]))
        detail = await client.get_accom_detail(AccomDetailRequest(order_id=created.order_id))
        ref = PmsOrderRef(order_id=created.order_id, order_no=detail.order_no)
        payloads.append(encode_payload(ref, signing_key=DEMO_QR_KEY.encode()))
    return payloads


async def test_memory_after_1000_journeys(
    runtime: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert runtime.sim is not None and runtime.demo is not None
    manifest = write_manifest(
        tmp_path / "manifest.json", runtime.sim, runtime.demo, DEMO_QR_KEY.encode()
    )
    demo_values = values_from_manifest(manifest)
    scripts = {path.stem: GuestScript.load(path) for path in builtin_scripts()}
    total = WARM_UP_BLOCKS * len(BLOCK) + JOURNEYS
    plan = [BLOCK[n % len(BLOCK)] for n in range(total)]
    fresh = iter(await fresh_bookings(runtime, [case for case, new in plan if new]))

    samples: list[tuple[int, int, int, float]] = []  # journeys, RSS, Python blocks, seconds
    started = time.perf_counter()
    with logs_not_kept():
        for n, (case, new) in enumerate(plan):
            values = {**demo_values, case: next(fresh)} if new else demo_values
            report = await run_script(runtime.journey, scripts[case], values)
            assert report.passed, (n, case, report.failures, report.transcript[-3:])
            done = n + 1 - WARM_UP_BLOCKS * len(BLOCK)  # journeys counted
            if done == 0 or done == MARK or (done > 0 and done % SAMPLE_EVERY == 0):
                samples.append(
                    (done, resident_bytes(), python_blocks(), time.perf_counter() - started)
                )
    elapsed = time.perf_counter() - started

    at_mark = next(rss for done, rss, _, _ in samples if done == MARK)
    at_end = samples[-1][1]
    growth = at_end / at_mark - 1
    counts = runtime.outbox.counts()
    with capsys.disabled():
        print(
            f"\n{JOURNEYS} journeys after {WARM_UP_BLOCKS * len(BLOCK)} to warm up, in "
            f"{elapsed:.1f} s ({sum(new for _, new in plan)} check-ins); outbox {counts}"
        )
        print(f"{'journeys':>8}{'RSS MB':>9}{'vs mark':>9}{'py blocks':>11}{'s':>7}")
        for done, rss, blocks, at in samples:
            print(f"{done:>8}{rss / 1e6:>9.1f}{rss / at_mark - 1:>+9.1%}{blocks:>11}{at:>7.1f}")
        files = sorted(runtime.config.state.dir.glob("*.sqlite*"))
        print(
            "SQLite files: " + ", ".join(f"{f.name} {f.stat().st_size / 1e6:.1f} MB" for f in files)
        )
        print(f"growth from {MARK} to {JOURNEYS} journeys: {growth:+.1%}")
    assert growth < GROWTH_TARGET, f"RSS grew {growth:.1%} from {MARK} to {JOURNEYS} journeys"
