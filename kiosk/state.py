"""The kiosk's own database: one SQLite file under ``[state] dir`` that survives power loss.

It holds what must outlive a crash: each guest journey's record of its step, the
outbox of back-end writes, the payment log, the arrivals cache for offline use, and
the wrong-answer counts and locks of the second factor and the operator PIN.
They share one file so that a write is queued *in the same transaction* as the
journey's record of the step that makes it.

Durability: WAL with ``synchronous=FULL`` (each commit is fsynced before it returns),
so a committed row survives a power cut, not only a process crash.

The journey a write belongs to travels in a context variable (:data:`current_journey`),
set by the journey and copied into every task it starts, so the back-end adapters keep
their verbs and the outbox still knows whose step it records.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

DB_FILE = "kiosk.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS journeys (
    id TEXT PRIMARY KEY,
    booking TEXT NOT NULL DEFAULT '',   -- the back-end's reservation id: no personal data
    step TEXT NOT NULL,                 -- the last step the journey recorded
    cards_presented INTEGER NOT NULL DEFAULT 0, -- cards put in the guest's reach
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    journey TEXT NOT NULL,              -- order is kept within one journey
    booking TEXT NOT NULL DEFAULT '',   -- the journey's reservation id, for reconciling
    api TEXT NOT NULL,
    operation TEXT NOT NULL,
    reference TEXT NOT NULL,            -- the kiosk's idempotency reference
    request BLOB,                       -- sealed JSON; NULL once delivered (purged)
    reply BLOB,                         -- sealed JSON reply of a delivered entry, if any
    may_defer INTEGER NOT NULL DEFAULT 1, -- 0: never replayed by the relay
    state TEXT NOT NULL,                -- pending | in_flight | delivered | refused | dead
    ambiguous INTEGER NOT NULL DEFAULT 0, -- an attempt may have landed: reconcile first
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL,              -- epoch seconds of the next attempt
    error TEXT NOT NULL DEFAULT '',     -- error class or the reason it is dead: no bodies
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (api, operation, reference)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_at);
CREATE INDEX IF NOT EXISTS outbox_journey ON outbox (journey, id);
CREATE TABLE IF NOT EXISTS payments (
    reference TEXT PRIMARY KEY,
    journey TEXT NOT NULL DEFAULT '',
    booking TEXT NOT NULL DEFAULT '',
    step TEXT NOT NULL DEFAULT '',      -- what it pays for: balance, deposit
    kind TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    state TEXT NOT NULL,                -- requested, approved, declined, ..., booked, voided
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS arrivals (
    booking TEXT PRIMARY KEY,
    sealed BLOB NOT NULL,          -- the Reservation, sealed: it holds guest data
    ends_at REAL NOT NULL,         -- its last stay's end: purged after it
    fetched_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS property_rooms (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rooms TEXT NOT NULL,           -- rooms, busy ranges and dirty rooms: no guest data
    fetched_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lockouts (
    scope TEXT NOT NULL,               -- second_factor | operator_pin
    subject TEXT NOT NULL,             -- the booking id, or "menu": no personal data
    failures INTEGER NOT NULL,         -- wrong answers since the last right one or lock
    locked_until TEXT,                 -- ISO UTC; NULL: not locked
    updated_at TEXT NOT NULL,
    PRIMARY KEY (scope, subject)
);
"""


@dataclass(frozen=True)
class JourneyMark:
    """Which journey a write belongs to, and the booking it is about."""

    id: str
    booking: str = ""


current_journey: ContextVar[JourneyMark | None] = ContextVar("current_journey", default=None)

KIOSK_JOURNEY = JourneyMark("kiosk")  # writes made outside any guest journey (recovery)


def now_text() -> str:
    return datetime.now(UTC).isoformat()


class _Writer:
    """The state database's own worker thread: the event loop hands it work that waits for
    the disk (a commit's fsync), so the screen is served meanwhile.

    One long-lived thread fed by a queue costs less per call than ``asyncio.to_thread``
    (a pool's futures chained to the loop's, a context copy), and the work is serialised
    by the database's lock anyway. The caller's context is not copied: the work gets what
    it needs as arguments."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def submit(self, fn: Callable[..., T], args: tuple[Any, ...]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="state-db", daemon=True)
                self._thread.start()
        self._jobs.put((loop, future, fn, args))
        return future

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, fn, args = job
            try:
                outcome = (_resolve, future, fn(*args))
            except BaseException as exc:  # the caller's to handle, in its loop
                outcome = (_fail, future, exc)
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits for it
                loop.call_soon_threadsafe(*outcome)

    def stop(self) -> None:
        with self._start:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(None)
            if thread is not threading.current_thread():
                thread.join()


def _resolve(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # cancelled meanwhile: the work is done all the same
        future.set_result(result)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


class StateDb:
    """One connection to the state database, shared by the loop and its worker thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA busy_timeout = 5000")
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        with self._lock:
            self._conn.executescript(SCHEMA)  # idempotent: IF NOT EXISTS
        self._writer = _Writer()

    @classmethod
    def in_dir(cls, state_dir: Path) -> StateDb:
        return cls(state_dir / DB_FILE)

    @classmethod
    def in_memory(cls) -> StateDb:
        """A database that keeps nothing: for a screen that runs without the kiosk's state
        (the out-of-order screen, which must start whatever broke)."""
        return cls(Path(":memory:"))

    @contextmanager
    def transaction(self, *, fsync: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT), rolled back on an error.

        ``fsync=False`` is for a change that a power cut may undo without harm, because
        start-up finds out again (an outbox entry marked delivered: it comes back in
        flight and is reconciled). It is on disk with the next durable commit anyway."""
        with self._lock:
            if not fsync:
                self._conn.execute("PRAGMA synchronous = NORMAL")
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            finally:
                if not fsync:
                    self._conn.execute("PRAGMA synchronous = FULL")

    def run(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Await ``fn(*args)`` run in the database's worker thread (a transaction that
        waits for its fsync, off the event loop)."""
        return self._writer.submit(fn, args)

    def query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            cursor = self._conn.execute(sql, params)
            cursor.row_factory = sqlite3.Row
            return cursor.fetchall()

    def record_step(
        self, conn: sqlite3.Connection, journey: JourneyMark, step: str, at: str | None = None
    ) -> None:
        """The journey's record of its step (at ``at``, else now), inside the caller's
        transaction."""
        at = at or now_text()
        conn.execute(
            "INSERT INTO journeys (id, booking, step, started_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET step = excluded.step,"
            " booking = CASE WHEN excluded.booking = '' THEN journeys.booking"
            " ELSE excluded.booking END, updated_at = excluded.updated_at",
            (journey.id, journey.booking, step, at, at),
        )

    def card_presented(self, journey: JourneyMark) -> None:
        """A working card is about to be in the guest's reach: from here the money stays."""
        with self.transaction() as conn:
            self.record_step(conn, journey, "card_presented")
            conn.execute(
                "UPDATE journeys SET cards_presented = cards_presented + 1 WHERE id = ?",
                (journey.id,),
            )

    def cards_presented(self, journey_id: str) -> int:
        rows = self.query("SELECT cards_presented FROM journeys WHERE id = ?", (journey_id,))
        return int(rows[0]["cards_presented"]) if rows else 0

    def wrote(self, journey_id: str, operations: tuple[str, ...]) -> bool:
        """Whether the journey put one of ``operations`` in the outbox (stored, being sent or
        delivered; not refused, not parked)."""
        marks = ", ".join("?" * len(operations))
        rows = self.query(
            f"SELECT 1 FROM outbox WHERE journey = ? AND operation IN ({marks})"
            " AND state IN ('pending', 'in_flight', 'delivered') LIMIT 1",
            (journey_id, *operations),
        )
        return bool(rows)

    def keyless_check_in(self, booking: str) -> bool:
        """Whether a journey here checked ``booking`` in, and no card ever came out for it."""
        rows = self.query(
            "SELECT (SELECT COUNT(*) FROM outbox WHERE booking = ?"
            " AND operation IN ('checkIn', 'update_order_info')"
            " AND state IN ('delivered', 'pending', 'in_flight')) AS checked_in,"
            " (SELECT COALESCE(SUM(cards_presented), 0) FROM journeys WHERE booking = ?) AS cards",
            (booking, booking),
        )
        return bool(rows and rows[0]["checked_in"] and not rows[0]["cards"])

    def close(self) -> None:
        self._writer.stop()
        with self._lock:
            self._conn.close()
