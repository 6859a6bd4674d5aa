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
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from hardware.payment.protocol import (
    Kind,
    Outcome,
    PaymentError,
    PaymentResult,
    PaymentTerminal,
    RefundNotSupported,
    TerminalBusy,
)
from kiosk.state import KIOSK_JOURNEY, StateDb, current_journey, now_text

log = logging.getLogger(__name__)

VOID_FAILED = "void_failed"  # a PaymentLog state: approved, the void did not go through


def new_reference(prefix: str) -> str:
    """A fresh reference a terminal and the back-ends accept (at most 32 of [A-Za-z0-9_-])."""
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


# What a payment pays for by default (the payment log's ``step``); the check-out journey's
# sale is "checkout" (settlement.py: never voided, always booked on the folio).
STEPS = {Kind.SALE: "balance", Kind.PREAUTH: "deposit", Kind.REFUND: "refund"}
CHECKOUT_STEP = "checkout"

# Payment log states beyond the terminal's outcomes (``Outcome``).
REQUESTED = "requested"  # saved, the terminal asked: the outcome is not known yet
RECORDED = "recorded"  # on the folio (or queued in the outbox for it): the money stays
HELD = "held"  # a deposit kept: the guest took a key


@dataclass(frozen=True)
class PaymentRecord:
    """One row of the payment log: no card data, no guest data."""

    reference: str
    journey: str
    booking: str
    step: str  # what it pays for: "balance", "deposit", "checkout" or "refund" (``STEPS``)
    kind: Kind
    amount: Decimal
    currency: str
    state: str
    updated_at: str


class PaymentLog:
    """Every payment reference the kiosk started, in the state database: saved (with the
    journey and booking it belongs to) before the terminal is asked, and where it ended."""

    def __init__(self, db: StateDb) -> None:
        self.db = db

    def save(
        self, reference: str, kind: Kind, amount: Decimal, currency: str, step: str | None = None
    ) -> None:
        """``step``: what the payment is for, when not its kind's (``STEPS``)."""
        journey = current_journey.get() or KIOSK_JOURNEY
        step = step or STEPS[kind]
        with self.db.transaction() as conn:
            self.db.record_step(conn, journey, f"pay:{step}")
            conn.execute(
                "INSERT INTO payments (reference, journey, booking, step, kind, amount, currency,"
                " state, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (reference, journey.id, journey.booking, step, kind.value, str(amount),
                 currency, REQUESTED, now_text()),
            )  # fmt: skip

    def settle(self, reference: str, state: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE payments SET state = ?, updated_at = ? WHERE reference = ?",
                (state, now_text(), reference),
            )

    def state(self, reference: str) -> str | None:
        rows = self.db.query("SELECT state FROM payments WHERE reference = ?", (reference,))
        return rows[0]["state"] if rows else None

    def records(self, states: tuple[str, ...] | None = None) -> list[PaymentRecord]:
        where, params = "", ()
        if states is not None:
            where, params = f"WHERE state IN ({', '.join('?' * len(states))})", states
        rows = self.db.query(f"SELECT * FROM payments {where} ORDER BY rowid", tuple(params))
        return [
            PaymentRecord(
                **{**dict(row), "kind": Kind(row["kind"]), "amount": Decimal(row["amount"])}
            )
            for row in rows
        ]

    def unsettled(self) -> list[PaymentRecord]:
        """Payments a journey left open: outcome unknown, approved but neither on the folio
        nor voided, or a void that failed. Start-up resolves them (``resolve_unsettled``)."""
        return self.records((REQUESTED, Outcome.IN_PROGRESS.value, Outcome.APPROVED.value,
                             VOID_FAILED))  # fmt: skip

    def paid_not_booked(self, booking: str) -> Decimal:
        """What the kiosk took for ``booking`` that the back-end's folio does not show yet:
        sales approved or recorded whose folio entry the outbox has not delivered."""
        rows = self.db.query(
            "SELECT amount FROM payments AS p WHERE booking = ? AND kind = 'sale'"
            " AND state IN (?, ?) AND NOT EXISTS (SELECT 1 FROM outbox AS o"
            " WHERE o.operation = 'cashier' AND o.state = 'delivered'"
            " AND o.reference = 'bill-' || p.reference)",
            (booking, Outcome.APPROVED.value, RECORDED),
        )
        return sum((Decimal(row["amount"]) for row in rows), Decimal("0"))


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

    async def charge(
        self, kind: Kind, amount: Decimal, currency: str, step: str | None = None
    ) -> PaymentResult:
        """A sale or pre-authorisation with a fresh reference; its final result (approved,
        declined, cancelled ...), or ``PaymentUnresolved``."""
        reference = new_reference("pay" if kind is Kind.SALE else "dep")
        start = self.terminal.sale if kind is Kind.SALE else self.terminal.preauthorize
        result = await self._transact(
            kind, reference, amount, currency, step, partial(start, reference, amount, currency)
        )
        if result.approved:
            self.approved.append(result)
        return result

    async def refund(
        self, amount: Decimal, currency: str, original_reference: str | None
    ) -> PaymentResult:
        """Money back to the card of ``original_reference`` (a sale), with a fresh reference
        saved first; never voided by ``void_all``. ``RefundNotSupported`` passes through."""
        refund = getattr(self.terminal, "refund", None)
        if refund is None:  # a driver older than refunds in the protocol: it makes none
            raise RefundNotSupported(f"{self.terminal.name} makes no refunds")
        reference = new_reference("ref")
        start = partial(refund, reference, amount, currency, original_reference)
        return await self._transact(Kind.REFUND, reference, amount, currency, None, start)

    async def _transact(
        self,
        kind: Kind,
        reference: str,
        amount: Decimal,
        currency: str,
        step: str | None,
        start: Callable[[], PaymentResult],
    ) -> PaymentResult:
        await asyncio.to_thread(self.log.save, reference, kind, amount, currency, step)
        result: PaymentResult | None
        try:
            result = await asyncio.to_thread(start)
        except RefundNotSupported:
            await asyncio.to_thread(self.log.settle, reference, Outcome.DECLINED.value)
            raise
        except TerminalBusy:
            result = None  # nothing was started: status answers UNKNOWN_REFERENCE
        except PaymentError as exc:  # offline, unreadable reply: the outcome is unknown
            log.warning("payment %s: %s, asking the terminal for its status", reference, exc)
            result = None
        if result is None or not result.outcome.final:
            result = await self._resolve(reference)
        await asyncio.to_thread(self.log.settle, reference, result.outcome.value)
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
