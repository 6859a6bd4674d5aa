"""The ZVT driver's own memory: kiosk reference -> what the terminal did with it, in SQLite.

A ZVT terminal knows receipt and trace numbers, not the kiosk's references. So before a
request is sent the driver writes the reference with kind, amount, currency and the
terminal's last receipt number at that moment (``receipt_before``); the answer adds the
transaction's receipt and trace numbers. After a timeout or a crash, ``status`` asks the
terminal to repeat its last receipt: a receipt newer than ``receipt_before`` is this
reference's. Card data is never stored beyond the last four digits. Not thread-safe on
its own: the driver calls it under its lock.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hardware.payment.protocol import Kind, Outcome, PaymentResult

KEEP_DAYS = 90.0  # far longer than any payment left open; bounds the file

SCHEMA = """
CREATE TABLE IF NOT EXISTS payments (
    reference TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    outcome TEXT NOT NULL,  -- in_progress from before the request until the answer
    receipt_before INTEGER,  -- the terminal's last receipt number before the request
    receipt INTEGER,
    trace INTEGER,
    approval_code TEXT,
    card_last4 TEXT,
    decline_reason TEXT,
    at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Entry:
    result: PaymentResult
    receipt_before: int | None = None
    receipt: int | None = None
    trace: int | None = None


class ZvtJournal:
    def __init__(self, path: Path, *, keep_days: float = KEEP_DAYS) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: every statement commits on its own, durably (the journal
        # line must be on disk before the request leaves).
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(SCHEMA)
        cutoff = datetime.now(UTC) - timedelta(days=keep_days)  # ``at`` is UTC: compares as text
        self._conn.execute(
            "DELETE FROM payments WHERE at < ? AND outcome != ?",
            (cutoff.isoformat(), Outcome.IN_PROGRESS.value),
        )

    def close(self) -> None:
        self._conn.close()

    def get(self, reference: str) -> Entry | None:
        row = self._conn.execute(
            "SELECT * FROM payments WHERE reference = ?", (reference,)
        ).fetchone()
        return None if row is None else _entry(row)

    def unsettled(self) -> list[Entry]:
        rows = self._conn.execute(
            "SELECT * FROM payments WHERE outcome = ? ORDER BY at", (Outcome.IN_PROGRESS.value,)
        ).fetchall()
        return [_entry(row) for row in rows]

    def count(self, outcome: Outcome) -> int:
        (count,) = self._conn.execute(
            "SELECT COUNT(*) FROM payments WHERE outcome = ?", (outcome.value,)
        ).fetchone()
        return int(count)

    def begin(self, started: PaymentResult, receipt_before: int | None) -> None:
        """Saved before the request is sent: the reference is in progress."""
        assert started.kind is not None and started.at is not None
        self._conn.execute(
            "INSERT INTO payments (reference, kind, amount, currency, outcome, receipt_before,"
            " at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                started.reference,
                started.kind.value,
                str(started.amount),
                started.currency,
                Outcome.IN_PROGRESS.value,
                receipt_before,
                started.at.isoformat(),
            ),
        )

    def forget(self, reference: str) -> None:
        """The terminal refused the request before starting it: nothing happened."""
        self._conn.execute("DELETE FROM payments WHERE reference = ?", (reference,))

    def settle(self, result: PaymentResult, receipt: int | None, trace: int | None) -> None:
        assert result.at is not None
        self._conn.execute(
            "UPDATE payments SET outcome = ?, receipt = COALESCE(?, receipt),"
            " trace = COALESCE(?, trace), approval_code = ?, card_last4 = ?, decline_reason = ?,"
            " at = ? WHERE reference = ?",
            (
                result.outcome.value,
                receipt,
                trace,
                result.approval_code,
                result.card_last4,
                result.decline_reason,
                result.at.isoformat(),
                result.reference,
            ),
        )


def _entry(row: tuple) -> Entry:
    (
        reference,
        kind,
        amount,
        currency,
        outcome,
        before,
        receipt,
        trace,
        approval,
        last4,
        reason,
        at,
    ) = row
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
    return Entry(result, before, receipt, trace)
