"""The durable outbox (issue: offline writes): what making a write durable costs, and how
fast queued writes drain once the back-end is back. Ratios against baselines measured in
the same run, on the same machine.

Run: ``.venv/bin/python -m pytest tests/benchmarks -m benchmark -k outbox -s``.

1. Enqueue rate. Baseline: plain SQLite inserts, one transaction per insert, with the
   state database's durability (WAL, ``synchronous=FULL``), of rows as large as an outbox
   entry, into a file in the same folder. Against it: ``DurableOutbox.send`` of cashier
   mutations (sealed request) with the back-end away, which commit the entry and raise
   ``Queued``. Every database is first written 1,000 times untimed, so that all are
   measured in their steady state (a fresh WAL's growth costs every commit more). The
   operations alternate one by one, so the machine's load falls on every row alike; best
   of 3. Target: the outbox's rate >= 0.8 x the plain rate.
2. Drain time. 1,000 cashier payments (10 on each of 100 orders, each with its own kiosk
   reference in the remark, as ``PmsBackend.record_payment`` makes them) are queued with
   the simulator stopped, then ``DurableOutbox`` relay passes deliver them once it is
   back. Baseline: the same 1,000 cashier calls straight through ``PmsClient``, one after
   another, against an identically seeded simulator of its own. The two alternate pass by
   pass (a pass, then as many direct calls). Afterwards exactly 1,000 new cashier bills
   exist on each side, one per reference. Three such runs on fresh simulators; target:
   their median drain <= 1.2 x direct.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from kiosk.api.pms import PmsClient
from kiosk.api.pms_types import (
    AllRoomListRequest,
    BillListRequest,
    BillListType,
    BillType,
    CashierPayment,
    CashierRequest,
    CreateOrderRequest,
)
from kiosk.backends.pms import BILL_PAGE_SIZE, PAYMENT_NAME, REFERENCE_TAG
from kiosk.outbox import DELIVERED, PENDING, Backoff, DurableOutbox, Mutation, Queued
from kiosk.sealing import Sealer
from kiosk.sim.demo import PMS_ID
from kiosk.sim.server import SimServer
from kiosk.state import JourneyMark, StateDb, current_journey
from tests.conftest import SIM_TOKEN
from tests.journey_kit import pms_backend, state_db

pytestmark = [pytest.mark.benchmark, pytest.mark.timeout(300)]

TIMEZONE = "Asia/Shanghai"

# --- 1. enqueue rate ------------------------------------------------------------------------

ENQUEUE_N = 500
ENQUEUE_REPEATS = 3
# Untimed writes of every kind first, so that each database is in its steady state: a fresh
# WAL grows with every commit (its fsync then also flushes the file's new size), until
# the first checkpoint at ~1,000 pages lets it restart from its beginning; from then on
# the kiosk's state database (and a long-lived plain one) rewrites it in place.
ENQUEUE_WARMUP = 1000
ENQUEUE_TARGET = 0.8  # outbox rate / plain insert rate

WRITES_PER_JOURNEY = 4  # a check-in's: guests, payment, check-in, card

# How the outbox side is measured. ``send`` is the journey's one path for a write: the
# enqueue transaction (the entry, its sealed request and the journey's step, committed and
# fsynced), then, unless the back-end is known to be away, an attempt, which ends in a
# second transaction (delivered, or rescheduled) and costs a round trip. The target is
# about the first part: the price of making a write durable before it is sent. The
# fairest measurement that still goes through ``send`` unchanged is a write while the
# back-end is away: after one write met a refused connection, the outbox only stores new
# writes (its "quiet" time, ``quiet_s``), so ``send`` is the enqueue transaction and
# ``Queued``. Here the quiet time outlasts the run (one refused write before the clock
# starts), so that no timed write makes a connection attempt; a new journey starts every
# WRITES_PER_JOURNEY writes, as at the kiosk (each write checks its journey's earlier
# open writes). For context (not asserted) the table also shows the outbox's rows written
# with plain SQL (same schema, indexes and journey upsert), which separates what SQLite
# pays for the schema from what the Python path adds; and the plain insert run in the
# state database's worker thread as ``send`` runs its transaction (``StateDb.run``: the
# event loop keeps serving the screen while the commit waits for the disk), the cost of
# that hop, and for comparison in ``asyncio.to_thread``'s pool, which ``send`` used before.


def _cashier_request(order_id: int, n: int) -> CashierRequest:
    return CashierRequest(
        order_id=order_id,
        bills=[
            CashierPayment(
                bill_type=BillType.PAYMENT,
                name=PAYMENT_NAME,
                amount=Decimal("388.00"),
                remark=f"PAY{n:08d} {REFERENCE_TAG}kiosk-{n:08d}-cashier",
            )
        ],
    )


def _durable(conn: sqlite3.Connection) -> sqlite3.Connection:
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


@dataclass
class EnqueueRow:
    name: str
    totals: list[float] = field(default_factory=list)  # seconds for N operations, per repeat
    wal_grown: list[int] = field(default_factory=list)  # WAL pages added while timed, per repeat

    @property
    def best(self) -> float:
        return min(self.totals)

    def rate(self) -> float:
        return ENQUEUE_N / self.best


class PlainInserts:
    """The baseline: one plain row per transaction, in a fresh file."""

    def __init__(self, path: Path, row_bytes: int) -> None:
        self.path = path
        self.conn = _durable(sqlite3.connect(path, isolation_level=None, check_same_thread=False))
        self.conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
        self.body = random.Random(0).randbytes(row_bytes)

    def insert(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("INSERT INTO t (body) VALUES (?)", (self.body,))
        self.conn.execute("COMMIT")


class SchemaInserts:
    """Diagnostic: the outbox's rows with plain SQL (a sample entry's values, the journey's
    step upserted), one transaction each, in a fresh state database."""

    def __init__(self, path: Path, sample: sqlite3.Row) -> None:
        StateDb(path).close()  # the schema
        self.path = path
        self.conn = _durable(sqlite3.connect(path, isolation_level=None))
        self.sample = sample
        self.n = 0

    def insert(self) -> None:
        s, self.n = self.sample, self.n + 1
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute(
            "INSERT INTO journeys (id, booking, step, started_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET step = excluded.step,"
            " updated_at = excluded.updated_at",
            (s["journey"], s["booking"], s["operation"], s["created_at"], s["updated_at"]),
        )
        self.conn.execute(
            "INSERT INTO outbox (journey, booking, api, operation, reference, request,"
            " may_defer, state, next_at, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 1, 'pending', ?, ?, ?)",
            (
                s["journey"],
                s["booking"],
                s["api"],
                s["operation"],
                f"kiosk-{self.n:08d}-cashier",
                s["request"],
                s["next_at"],
                s["created_at"],
                s["updated_at"],
            ),
        )
        self.conn.execute("COMMIT")


async def _backend_away(folder: Path, client: PmsClient) -> DurableOutbox:
    """An outbox over ``client`` (nothing listens) that has met the back-end away once, and
    stays quiet (stores new writes without trying) for longer than the run."""
    outbox = DurableOutbox.for_clients(
        state_db(folder),
        Sealer.for_state_dir(folder),
        pms=client,
        backoff=Backoff(base_s=0.05, cap_s=0.5),
        quiet_s=3600.0,
    )
    with pytest.raises(Queued):
        await _send(outbox, 0)
    return outbox


async def _send(outbox: DurableOutbox, n: int) -> None:
    """Write ``n`` of journey ``n // WRITES_PER_JOURNEY``; queued, as the back-end is away."""
    token = current_journey.set(JourneyMark(f"guest-{n // WRITES_PER_JOURNEY:06d}", "900001"))
    try:
        await outbox.send(
            Mutation.of("pms", "cashier", _cashier_request(900001, n), f"ref-{n:08d}")
        )
    finally:
        current_journey.reset(token)


def _wal_pages(db: Path) -> int:
    """How many pages long the database's write-ahead log is."""
    wal = db.with_name(db.name + "-wal")
    return wal.stat().st_size // 4096 if wal.exists() else 0


def _row_bytes(sample: sqlite3.Row) -> int:
    """The payload of an outbox entry: its text and blob values, 8 bytes per number."""
    return sum(len(v) if isinstance(v, str | bytes) else 8 for v in tuple(sample) if v is not None)


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    """The outbox logs a warning per failed attempt: off the measurement's stderr."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


async def test_outbox_enqueue_rate(
    sim_server: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sim_server.stop()  # no back-end: nothing listens on its port
    names = ("plain insert", "outbox send, back-end away", "outbox schema, plain SQL",
             "plain insert, db thread", "plain insert, to_thread")  # fmt: skip
    rows = {name: EnqueueRow(name) for name in names}
    ratios = []
    async with PmsClient(sim_server.url, SIM_TOKEN, timeout=2.0) as client:
        with _quiet("kiosk.outbox"):
            for repeat in range(ENQUEUE_REPEATS):
                folder = tmp_path / f"run-{repeat}"
                folder.mkdir()
                outbox = await _backend_away(folder / "outbox", client)
                sample = outbox.db.query("SELECT * FROM outbox ORDER BY id LIMIT 1")[0]
                plain = PlainInserts(folder / "plain.sqlite", _row_bytes(sample))
                threaded = PlainInserts(folder / "threaded.sqlite", _row_bytes(sample))
                pooled = PlainInserts(folder / "pooled.sqlite", _row_bytes(sample))
                schema = SchemaInserts(folder / "schema.sqlite", sample)
                spent = dict.fromkeys(names, 0.0)
                files = (plain.path, outbox.db.path, schema.path, threaded.path, pooled.path)
                for n in range(1, ENQUEUE_WARMUP + ENQUEUE_N + 1):
                    if n == ENQUEUE_WARMUP + 1:
                        wal_before = [_wal_pages(path) for path in files]
                    t0 = time.perf_counter()
                    plain.insert()
                    t1 = time.perf_counter()
                    with contextlib.suppress(Queued):
                        await _send(outbox, n)
                    t2 = time.perf_counter()
                    schema.insert()
                    t3 = time.perf_counter()
                    await outbox.db.run(threaded.insert)
                    t4 = time.perf_counter()
                    await asyncio.to_thread(pooled.insert)
                    t5 = time.perf_counter()
                    spans = ((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5))
                    if n > ENQUEUE_WARMUP:
                        for name, (a, b) in zip(names, spans, strict=True):
                            spent[name] += b - a
                grown = [
                    _wal_pages(path) - was for path, was in zip(files, wal_before, strict=True)
                ]
                for name, pages in zip(names, grown, strict=True):
                    rows[name].wal_grown.append(pages)
                counts = outbox.counts()
                # every write committed
                assert counts == {PENDING: ENQUEUE_WARMUP + ENQUEUE_N + 1}, counts
                for name, seconds in spent.items():
                    rows[name].totals.append(seconds)
                ratios.append(spent["plain insert"] / spent["outbox send, back-end away"])
                for inserts in (plain, schema, threaded, pooled):
                    inserts.conn.close()
                outbox.db.close()

    plain_row, outbox_row = rows["plain insert"], rows["outbox send, back-end away"]
    ratio = outbox_row.rate() / plain_row.rate()
    with capsys.disabled():
        print(
            f"\n{ENQUEUE_N} writes x {ENQUEUE_REPEATS} after {ENQUEUE_WARMUP} untimed,"
            f" row of {_row_bytes(sample)} bytes"
        )
        print(
            f"{'write':<28}{'best ms/op':>11}{'ops/s':>9}{'vs plain':>10}"
            "   per repeat ms/op (WAL pages grown)"
        )
        for row in rows.values():
            each = ", ".join(
                f"{t / ENQUEUE_N * 1000:.3f} ({g})"
                for t, g in zip(row.totals, row.wal_grown, strict=True)
            )
            print(
                f"{row.name:<28}{row.best / ENQUEUE_N * 1000:>11.3f}{row.rate():>9.0f}"
                f"{row.rate() / plain_row.rate():>10.2f}   {each}"
            )
        print(
            f"outbox enqueue rate / plain insert rate: {ratio:.2f} (best of {ENQUEUE_REPEATS}); "
            f"per repeat {', '.join(f'{r:.2f}' for r in ratios)}"
        )
    assert ratio >= ENQUEUE_TARGET, f"outbox enqueue at {ratio:.2f} x the plain insert rate"


# --- 2. drain time --------------------------------------------------------------------------

ORDERS = 100
PAYMENTS = 1000  # 10 per order: one page of the order's cashier bills
AMOUNT = Decimal("1.00")
DRAIN_TARGET = 1.2  # drain time / direct time
CHUNK = 16  # payments per chunk of the alternation: one relay pass
DRAIN_RUNS = 3  # whole alternations, each on fresh simulators; the median is asserted


@dataclass(frozen=True)
class Payment:
    order_id: int
    payment_reference: str  # the terminal's
    reference: str  # the kiosk's idempotency reference, in the bill's remark

    @property
    def request(self) -> CashierRequest:
        """The body ``PmsBackend.record_payment`` sends."""
        bill = CashierPayment(
            bill_type=BillType.PAYMENT,
            name=PAYMENT_NAME,
            amount=AMOUNT,
            remark=f"{self.payment_reference} {REFERENCE_TAG}{self.reference}",
        )
        return CashierRequest(order_id=self.order_id, bills=[bill])


class TimingTransport(httpx.AsyncBaseTransport):
    """The real transport, timing each round trip by operation (the path's last part)."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.spent: dict[str, list[float]] = defaultdict(list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        response = await self._inner.handle_async_request(request)
        await response.aread()
        self.spent[request.url.path.rsplit("/", 1)[-1]].append(time.perf_counter() - started)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class TimedStateDb(StateDb):
    """The state database, timing each write transaction (statements and the fsynced
    commit; they run in worker threads)."""

    spent: list[float]

    @contextlib.contextmanager
    def transaction(self, **options: Any) -> Iterator[sqlite3.Connection]:
        started = time.perf_counter()
        try:
            with super().transaction(**options) as conn:
                yield conn
        finally:
            self.spent.append(time.perf_counter() - started)


class SimProcess:
    """The property simulator as its own process (``kiosk sim``: the demo property, seed
    1, state in ``folder``), as a PMS is another machine. In the kiosk's process it would
    share one GIL with the client it serves, so that whatever the kiosk does while a
    request is in flight (relay bookkeeping, the next request) would be charged to the
    round trip twice over; out of it, the direct calls and the drain meet the same server,
    and the drain's own work can overlap the server's as it would in a hotel.
    ``stop`` and ``start`` again serve the same database on the same port."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> SimProcess:
        manifest = self.folder / "manifest.json"  # written once the demo is seeded
        manifest.unlink(missing_ok=True)
        with (self.folder / "sim.log").open("ab") as log_file:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "kiosk.cli", "sim", "--port", str(self.port),
                 "--db", str(self.folder / "sim.sqlite"), "--token", SIM_TOKEN,
                 "--timezone", TIMEZONE, "--seed", "1", "--manifest", str(manifest)],
                stdout=subprocess.DEVNULL, stderr=log_file,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while not manifest.exists():
            assert self._process.poll() is None, (self.folder / "sim.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the simulator did not start"
            time.sleep(0.05)
        time.sleep(0.1)  # the manifest is written whole before it appears
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()  # SIGTERM: it closes its database cleanly
            self._process.wait(10)
            self._process = None


async def _orders_with_balance(client: PmsClient) -> list[int]:
    """ORDERS unpaid one-night bookings, one a day from tomorrow (a King room, none
    assigned): each owes far more than its ten payments, so no payment meets a paid bill."""
    room_types = (await client.get_all_room_list(AllRoomListRequest(pms_id=PMS_ID))).room_types
    king = next(t.room_type_id for t in room_types if t.short_name == "King")
    today = datetime.now(UTC).astimezone(ZoneInfo(TIMEZONE)).date()  # the simulator's clock
    orders = []
    for n in range(ORDERS):
        day = today + timedelta(days=1 + n)
        start = datetime.combine(day, day_time(14, 0), ZoneInfo(TIMEZONE))
        end = datetime.combine(day + timedelta(days=1), day_time(12, 0), ZoneInfo(TIMEZONE))
        stay = {
            "room_id": 0,
            "room_type_id": king,
            "accom_type": 10,
            "checkin_start_time": int(start.timestamp()),
            "checkin_end_time": int(end.timestamp()),
            "amount": "5000.00",
            "accom_status": 40,
            "tenant_list": [
                {"name": f"Guest {n}", "phone": f"139{n:08d}", "id_type": 0, "id_number": ""}
            ],
        }
        body = {"pms_id": PMS_ID, "name": f"Guest {n}", "phone": f"139{n:08d}", "room_list": [stay]}
        orders.append((await client.create(CreateOrderRequest.model_validate(body))).order_id)
    return orders


def _payments(orders: list[int]) -> list[Payment]:
    return [
        Payment(orders[n % len(orders)], f"PAY{n:08d}", f"bench-{n:06d}-cashier")
        for n in range(PAYMENTS)
    ]


async def _kiosk_bills(client: PmsClient, orders: list[int]) -> Counter[str]:
    """Every kiosk reference found in the orders' cashier bills, with its count."""
    found: Counter[str] = Counter()
    for order_id in orders:
        for page_no in range(1, 100):
            page = await client.get_bill_list(
                BillListRequest(
                    order_id=order_id,
                    list_type=BillListType.CASHIER,
                    page_no=page_no,
                    page_size=BILL_PAGE_SIZE,
                )
            )
            for bill in page.bills:
                found.update(
                    word[len(REFERENCE_TAG) :]
                    for word in bill.remark.split()
                    if word.startswith(REFERENCE_TAG)
                )
            if len(page.bills) < BILL_PAGE_SIZE:
                break
    return found


@dataclass
class DrainRun:
    """One side's time, summed over its chunks, and what it was spent on."""

    name: str
    chunks: list[tuple[int, float]] = field(default_factory=list)  # (payments, seconds)
    trips: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    transactions: list[float] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(seconds for _, seconds in self.chunks)

    def add(self, payments: int, seconds: float, trips: dict[str, list[float]]) -> None:
        self.chunks.append((payments, seconds))
        for name, spent in trips.items():
            self.trips[name].extend(spent)


class DirectSide:
    """The baseline: the payments' cashier calls, one after another, straight through the
    client, against a simulator of its own; ``step(n)`` makes the next ``n``."""

    def __init__(self, folder: Path) -> None:
        self.server = SimProcess(folder / "sim")
        self.transport = TimingTransport()
        self.run = DrainRun("direct")
        self.done = 0

    async def open(self, stack: contextlib.AsyncExitStack) -> DirectSide:
        self.server.start()
        stack.callback(self.server.stop)
        self.client = await stack.enter_async_context(
            PmsClient(self.server.url, SIM_TOKEN, transport=self.transport)
        )
        self.orders = await _orders_with_balance(self.client)
        self.payments = _payments(self.orders)
        return self

    async def step(self, n: int) -> None:
        chunk = self.payments[self.done : self.done + n]
        self.transport.spent.clear()
        started = time.perf_counter()
        for payment in chunk:
            await self.client.cashier(payment.request)
        self.run.add(len(chunk), time.perf_counter() - started, self.transport.spent)
        self.done += len(chunk)

    async def check(self) -> None:
        found = await _kiosk_bills(self.client, self.orders)
        assert found == Counter(p.reference for p in self.payments)


class DrainSide:
    """The payments made through ``PmsBackend.record_payment`` while its simulator was
    down (all queued), then relayed by ``DurableOutbox`` passes once it is back, up to
    ``batch`` entries a pass (the outbox's default, 16, is what the kiosk runs);
    ``step(n)`` runs passes until at least ``n`` more entries are delivered."""

    def __init__(self, folder: Path, batch: int) -> None:
        self.folder = folder
        self.server = SimProcess(folder / "sim")
        self.transport = TimingTransport()
        self.db = TimedStateDb.in_dir(folder / "state")
        self.db.spent = []
        self.batch = batch
        self.run = DrainRun(f"outbox drain, batch {batch}")

    async def open(self, stack: contextlib.AsyncExitStack) -> DrainSide:
        stack.callback(self.db.close)
        self.server.start()
        stack.callback(self.server.stop)
        self.client = await stack.enter_async_context(
            PmsClient(self.server.url, SIM_TOKEN, transport=self.transport)
        )
        self.orders = await _orders_with_balance(self.client)
        self.payments = _payments(self.orders)
        # tests/journey_kit.py's durable_outbox, with the batch size named
        self.outbox = DurableOutbox.for_clients(
            self.db,
            Sealer.for_state_dir(self.folder / "state"),
            pms=self.client,
            backoff=Backoff(base_s=0.05, cap_s=0.5),
            batch=self.batch,
        )
        backend = pms_backend(self.client, self.outbox)
        self.server.stop()
        with _quiet("kiosk.outbox"):
            for n, payment in enumerate(self.payments):
                # Each payment is its own guest's journey, as at the kiosk.
                token = current_journey.set(JourneyMark(f"guest-{n:06d}", str(payment.order_id)))
                try:
                    await backend.record_payment(
                        str(payment.order_id), AMOUNT, payment.payment_reference, payment.reference
                    )
                finally:
                    current_journey.reset(token)
        assert self.outbox.counts() == {PENDING: PAYMENTS}, self.outbox.counts()
        self.server.start()
        # Every entry due before the clock starts: the first payment's retry after its
        # backoff, the others (stored without a try while the back-end was away) at the
        # end of the outbox's quiet time.
        last_due = max(entry.next_at for entry in self.outbox.entries((PENDING,)))
        await asyncio.sleep(max(last_due - time.time(), 0.0) + 0.01)
        return self

    async def step(self, n: int) -> int:
        """Passes as ``DurableOutbox.drain`` runs them (the depth read, then a pass), until
        ``n`` more are delivered or none is left; how many were delivered."""
        self.transport.spent.clear()
        spent_before = len(self.db.spent)
        delivered = 0
        with _quiet("kiosk.outbox"):
            started = time.perf_counter()
            while delivered < n and self.outbox.depth():
                passed = await self.outbox.deliver_due()
                assert passed, self.outbox.counts()  # every entry is due: none may fail
                delivered += passed
            seconds = time.perf_counter() - started
        self.run.add(delivered, seconds, self.transport.spent)
        self.run.transactions.extend(self.db.spent[spent_before:])
        return delivered

    async def check(self) -> None:
        assert self.outbox.counts() == {DELIVERED: PAYMENTS}, self.outbox.counts()
        found = await _kiosk_bills(self.client, self.orders)
        # Nothing lost, nothing doubled: exactly one cashier bill per kiosk reference.
        assert found == Counter(p.reference for p in self.payments), (
            f"{sum(found.values())} kiosk bills for {PAYMENTS} payments"
        )


def _profile_lines(run: DrainRun) -> list[str]:
    """Round trips by operation, and the state database's transactions: how many, their mean
    time (under concurrency it includes the wait for the simulator), and the sum."""
    parts = sorted(run.trips.items())
    if run.transactions:
        parts.append(("state db transaction", run.transactions))
    return [
        f"  {name:<22}{len(spent):>6} x {statistics.mean(spent) * 1000:7.2f} ms"
        f" = {sum(spent):6.2f} s"
        for name, spent in parts
    ]


async def _alternate(folder: Path) -> tuple[DrainRun, DrainRun]:
    """Both sides side by side, each against its own simulator process, alternating chunk
    by chunk: the drain relays about CHUNK entries, then the direct calls make as many
    payments. A load that comes and goes on the shared machine (its swings are seconds
    long and double a round trip's time) then falls on both sides alike, where one whole
    run after the other compared whatever the load was at either moment."""
    async with contextlib.AsyncExitStack() as stack:
        direct = await DirectSide(folder / "direct").open(stack)
        drain = await DrainSide(folder / "drain", batch=16).open(stack)
        while drain.outbox.depth():
            await direct.step(await drain.step(CHUNK))
        await drain.check()
        await direct.check()
    return direct.run, drain.run


async def test_outbox_drain_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # DRAIN_RUNS whole runs, each on fresh simulators; their median is asserted, so that
    # one run that a burst of load hit on one side more than the other does not decide.
    ratios = []
    for n in range(DRAIN_RUNS):
        direct, drain = await _alternate(tmp_path / f"run-{n}")
        ratios.append(drain.seconds / direct.seconds)
        chunk_ratios = [d / s for (_, d), (_, s) in zip(drain.chunks, direct.chunks, strict=True)]
        with capsys.disabled():
            print(
                f"\nrun {n + 1}: {PAYMENTS} cashier payments over {ORDERS} orders,"
                f" in chunks of ~{CHUNK}"
            )
            for run in (direct, drain):
                trips = sum(len(t) for t in run.trips.values())
                print(f"{run.name:<24}{run.seconds:>7.2f} s  {trips:>5} round trips")
                print("\n".join(_profile_lines(run)))
            deciles = statistics.quantiles(chunk_ratios, n=10)
            print(
                f"drain / direct: {ratios[-1]:.2f}; per chunk: median"
                f" {statistics.median(chunk_ratios):.2f}, 10-90% {deciles[0]:.2f}-{deciles[-1]:.2f}"
                f" over {len(chunk_ratios)} chunks"
            )
    ratio = statistics.median(ratios)
    with capsys.disabled():
        print(
            f"drain / direct, median of {DRAIN_RUNS} runs: {ratio:.2f}"
            f" ({', '.join(f'{r:.2f}' for r in ratios)})"
        )
    assert ratio <= DRAIN_TARGET, f"the drain took {ratio:.2f} x the direct calls"
