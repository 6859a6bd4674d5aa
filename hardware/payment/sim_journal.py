"""The simulated terminal's memory: its transactions and an append-only journal, in SQLite.

A real terminal keeps its transactions across power cycles, so a restarted kiosk can
ask about a reference; the simulator does the same with this file. Each change writes
the transaction's new state and a journal line in one SQLite transaction. Not
thread-safe on its own: the simulator calls it under its lock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hardware.payment.protocol import Kind, Outcome, PaymentResult

KEEP_DAYS = 90.0  # a terminal's batch history: far longer than any payment left open

SCHEMA = """
CREATE TABLE IF NOT EXISTS transactions (
    reference TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    outcome TEXT NOT NULL,
    approval_code TEXT,
    card_last4 TEXT,
    decline_reason TEXT,
    at TEXT NOT NULL,
    completes_at TEXT  -- a late answer: the planned outcome becomes final at this time
);
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    reference TEXT NOT NULL,
    event TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Transaction:
    """One reference's state. With ``completes_at`` set, ``result`` is the outcome a late
    answer will bring at that time; until then the transaction is in progress."""

    result: PaymentResult
    completes_at: datetime | None = None


@dataclass(frozen=True)
class JournalEntry:
    """One line of the journal: ``event`` is "requested" or the outcome reached."""

    seq: int
    at: datetime
    reference: str
    event: str
    kind: Kind
    amount: Decimal
    currency: str


class SimJournal:
    """``keep_days``: older final transactions and journal lines are dropped when the
    journal opens, as a terminal's memory is bounded (and the file under the kiosk's
    state directory with it)."""

    def __init__(self, path: Path, *, keep_days: float = KEEP_DAYS) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # The simulator's lock serialises every use; its call threads differ.
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(SCHEMA)
        self._forget_older_than(timedelta(days=keep_days))

    def _forget_older_than(self, age: timedelta) -> None:
        """Drop what is ``age`` older than the newest line (the terminal's own clock, which
        a test may set anywhere). A transaction in progress, or whose late answer is still
        planned, is kept whatever its age."""
        (newest,) = self._conn.execute("SELECT MAX(at) FROM journal").fetchone()
        if newest is None:
            return
        cutoff = (datetime.fromisoformat(newest) - age).isoformat()
        with self._write():  # ISO times of one clock compare as text
            self._conn.execute("DELETE FROM journal WHERE at < ?", (cutoff,))
            self._conn.execute(
                "DELETE FROM transactions WHERE at < ? AND outcome != ?"
                " AND completes_at IS NULL",
                (cutoff, Outcome.IN_PROGRESS.value),
            )

    def close(self) -> None:
        self._conn.close()

    def get(self, reference: str) -> Transaction | None:
        row = self._conn.execute(
            "SELECT * FROM transactions WHERE reference = ?", (reference,)
        ).fetchone()
        return None if row is None else _transaction(row)

    def unsettled(self) -> list[Transaction]:
        """Transactions still in progress, or waiting for their late answer."""
        rows = self._conn.execute(
            "SELECT * FROM transactions WHERE outcome = ? OR completes_at IS NOT NULL",
            (Outcome.IN_PROGRESS.value,),
        ).fetchall()
        return [_transaction(row) for row in rows]

    def begin(self, result: PaymentResult) -> None:
        """Record a new IN_PROGRESS transaction (the terminal got the request)."""
        assert result.at is not None and result.kind is not None and result.amount is not None
        with self._write():
            self._conn.execute(
                "INSERT INTO transactions (reference, kind, amount, currency, outcome, at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    result.reference,
                    result.kind.value,
                    str(result.amount),
                    result.currency,
                    result.outcome.value,
                    result.at.isoformat(),
                ),
            )
            self._log(result, "requested")

    def plan(self, planned: PaymentResult, completes_at: datetime) -> None:
        """The answer will come late: ``planned`` is settled (journaled) at ``completes_at``."""
        self._update(planned, completes_at)

    def settle(self, result: PaymentResult) -> None:
        """Record ``result`` as the transaction's outcome, with its journal line."""
        with self._write():
            self._update(result, None)
            self._log(result, result.outcome.value)

    def entries(self) -> list[JournalEntry]:
        rows = self._conn.execute(
            "SELECT seq, at, reference, event, kind, amount, currency FROM journal ORDER BY seq"
        ).fetchall()
        return [
            JournalEntry(
                seq=seq,
                at=datetime.fromisoformat(at),
                reference=reference,
                event=event,
                kind=Kind(kind),
                amount=Decimal(amount),
                currency=currency,
            )
            for seq, at, reference, event, kind, amount, currency in rows
        ]

    @contextmanager
    def _write(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _update(self, result: PaymentResult, completes_at: datetime | None) -> None:
        assert result.at is not None
        self._conn.execute(
            "UPDATE transactions SET outcome = ?, approval_code = ?, card_last4 = ?,"
            " decline_reason = ?, at = ?, completes_at = ? WHERE reference = ?",
            (
                result.outcome.value,
                result.approval_code,
                result.card_last4,
                result.decline_reason,
                result.at.isoformat(),
                None if completes_at is None else completes_at.isoformat(),
                result.reference,
            ),
        )

    def _log(self, result: PaymentResult, event: str) -> None:
        assert result.at is not None and result.kind is not None
        self._conn.execute(
            "INSERT INTO journal (at, reference, event, kind, amount, currency)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                result.at.isoformat(),
                result.reference,
                event,
                result.kind.value,
                str(result.amount),
                result.currency,
            ),
        )


def _transaction(row: tuple) -> Transaction:
    (reference, kind, amount, currency, outcome, approval, last4, reason, at, completes) = row
    result = PaymentResult(
        reference=reference,
        outcome=Outcome(outcome),
        kind=Kind(kind),
        amount=Decimal(amount),
        currency=currency,
        approval_code=approval,
        card_last4=last4,
        decline_reason=reason,
        at=datetime.fromisoformat(at),
    )
    completes_at = None if completes is None else datetime.fromisoformat(completes)
    return Transaction(result, completes_at)
