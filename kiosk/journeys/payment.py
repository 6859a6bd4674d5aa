"""Payments of one journey at the terminal, with the reference policy of DESIGN.md.

1. A payment's reference is saved (``PaymentLog``) before the terminal is asked, so
   after a crash every payment the kiosk may have started can be looked up.
2. When the answer does not come (a TIMEOUT, the link drops), the terminal is asked for
   the status of the *same* reference until the outcome is final; a new charge is never
   made while the first one's fate is unknown (``PaymentUnresolved`` after a deadline).
3. What the journey cannot deliver is voided (``void_all``): never money without a key.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from hardware.payment.protocol import (
    Kind,
    Outcome,
    PaymentError,
    PaymentResult,
    PaymentTerminal,
    TerminalBusy,
)

log = logging.getLogger(__name__)

VOID_FAILED = "void_failed"  # a PaymentLog state: approved, the void did not go through


def new_reference(prefix: str) -> str:
    """A fresh reference a terminal and the back-ends accept (at most 32 of [A-Za-z0-9_-])."""
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


class PaymentLog(Protocol):
    """Durable record of every payment reference the kiosk started, and where it ended."""

    def save(self, reference: str, kind: Kind, amount: Decimal, currency: str) -> None: ...

    def settle(self, reference: str, state: str) -> None: ...

    def unsettled(self) -> list[str]:
        """References whose outcome the kiosk never learnt, or whose void failed."""
        ...


class SqlitePaymentLog:
    """``PaymentLog`` in an SQLite file (WAL): each save commits before the terminal is asked."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()  # the journey calls it from worker threads too
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS payments (reference TEXT PRIMARY KEY, kind TEXT NOT NULL,"
            " amount TEXT NOT NULL, currency TEXT NOT NULL, state TEXT NOT NULL,"
            " updated_at TEXT NOT NULL)"
        )

    def save(self, reference: str, kind: Kind, amount: Decimal, currency: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO payments VALUES (?, ?, ?, ?, 'requested', ?)",
                (reference, kind.value, str(amount), currency, _now_text()),
            )

    def settle(self, reference: str, state: str) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE payments SET state = ?, updated_at = ? WHERE reference = ?",
                (state, _now_text(), reference),
            )

    def unsettled(self) -> list[str]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT reference FROM payments WHERE state IN ('requested', ?, ?)"
                " ORDER BY updated_at",
                (Outcome.IN_PROGRESS.value, VOID_FAILED),
            ).fetchall()
        return [row[0] for row in rows]

    def state(self, reference: str) -> str | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT state FROM payments WHERE reference = ?", (reference,)
            ).fetchone()
        return None if row is None else row[0]

    def close(self) -> None:
        self._conn.close()


def _now_text() -> str:
    return datetime.now(UTC).isoformat()


class PaymentUnresolved(Exception):
    """The terminal never said how a payment ended; it stays in the log for the operator."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"payment {reference}: outcome unknown")
        self.reference = reference


@dataclass
class Payments:
    """The payments of one journey: charges, what was approved, what was voided."""

    terminal: PaymentTerminal
    log: PaymentLog
    status_interval_s: float = 2.0
    status_deadline_s: float = 120.0
    approved: list[PaymentResult] = field(default_factory=list)
    voided: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    void_failed: list[str] = field(default_factory=list)

    async def charge(self, kind: Kind, amount: Decimal, currency: str) -> PaymentResult:
        """A sale or pre-authorisation with a fresh reference; its final result (approved,
        declined, cancelled ...), or ``PaymentUnresolved``."""
        reference = new_reference("pay" if kind is Kind.SALE else "dep")
        await asyncio.to_thread(self.log.save, reference, kind, amount, currency)
        start = self.terminal.sale if kind is Kind.SALE else self.terminal.preauthorize
        result: PaymentResult | None
        try:
            result = await asyncio.to_thread(start, reference, amount, currency)
        except TerminalBusy:
            result = None  # nothing was started: status answers UNKNOWN_REFERENCE
        except PaymentError as exc:  # offline, unreadable reply: the outcome is unknown
            log.warning("payment %s: %s, asking the terminal for its status", reference, exc)
            result = None
        if result is None or not result.outcome.final:
            result = await self._resolve(reference)
        await asyncio.to_thread(self.log.settle, reference, result.outcome.value)
        if result.approved:
            self.approved.append(result)
        log.info("payment %s (%s): %s", reference, kind, result.outcome)
        return result

    async def void_all(self) -> None:
        """Void every approved payment not voided yet; a failed void stays in the log."""
        for result in self.approved:
            if result.reference in self.voided:
                continue
            try:
                voided = await asyncio.to_thread(self.terminal.void, result.reference)
            except PaymentError as exc:
                log.error(
                    "payment %s: void failed (%s); left for the operator",
                    result.reference,
                    type(exc).__name__,
                )
                self.void_failed.append(result.reference)
                await asyncio.to_thread(self.log.settle, result.reference, VOID_FAILED)
                continue
            self.voided.append(result.reference)
            await asyncio.to_thread(self.log.settle, result.reference, voided.outcome.value)

    async def _resolve(self, reference: str) -> PaymentResult:
        """Ask ``status(reference)`` until it is final; never charge again meanwhile."""
        deadline = time.monotonic() + self.status_deadline_s
        while True:
            try:
                result = await asyncio.to_thread(self.terminal.status, reference)
                if result.outcome.final:
                    return result
            except PaymentError as exc:
                log.warning("payment %s: status unavailable (%s)", reference, type(exc).__name__)
            if time.monotonic() >= deadline:
                await asyncio.to_thread(self.log.settle, reference, Outcome.IN_PROGRESS.value)
                self.unresolved.append(reference)
                raise PaymentUnresolved(reference)
            await asyncio.sleep(self.status_interval_s)
