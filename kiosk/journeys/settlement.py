"""The money rule of a check-in, in one object: never money without a key, never a key
without money.

A :class:`Settlement` owns what a journey took and gave: the sale (the balance due), the
deposit, the stays it checked in and the cards it issued. The journey asks it to charge,
tells it what happened, and calls :meth:`Settlement.settle` once, whatever way the run
ends. Then:

- a card reached the guest: the sale goes on the folio (through the outbox, so it is
  delivered even if the back-end is down) and the deposit is held;
- no card reached the guest: every approved payment is voided and the check-in revoked.

Each payment is in the payment log with its journey and booking before the terminal is
asked, and each card is marked in the state database just before it is presented, so
after a crash :func:`resolve_unsettled` applies the same rule from what was stored.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from hardware.payment.protocol import Kind, Outcome, PaymentError, PaymentResult, PaymentTerminal
from kiosk.backends.base import BackendError, PropertyBackend, Stay, checkout_verbs
from kiosk.journeys.keys import IssuedCard
from kiosk.journeys.payment import (
    CHECKOUT_STEP,
    HELD,
    RECORDED,
    REQUESTED,
    STEPS,
    VOID_FAILED,
    PaymentLog,
    PaymentRecord,
    Payments,
    new_reference,
)
from kiosk.state import JourneyMark, StateDb, current_journey

log = logging.getLogger(__name__)


# Writes that are themselves what a payment bought: once a journey put one in the outbox,
# the money stays after a crash, as it does once a card was presented (extend stay).
PAID_FOR_WRITES = ("extendCheckIn",)


def bill_reference(payment_reference: str) -> str:
    """The folio entry's reference for a payment: the same after a crash, so never doubled."""
    return f"bill-{payment_reference}"


@dataclass
class Settlement:
    payments: Payments
    backend: PropertyBackend
    db: StateDb
    sale: PaymentResult | None = None
    deposit: PaymentResult | None = None
    checked_in: list[Stay] = field(default_factory=list)
    cards: list[IssuedCard] = field(default_factory=list)
    unrecorded: list[str] = field(default_factory=list)  # on no folio: for the operator
    _settled: bool = False

    async def charge(self, kind: Kind, amount: Decimal, currency: str) -> PaymentResult:
        """A payment at the terminal; an approved one is the journey's sale or deposit."""
        result = await self.payments.charge(kind, amount, currency)
        if result.approved:
            if kind is Kind.SALE:
                self.sale = result
            else:
                self.deposit = result
        return result

    def require_paid(self, amount_due: Decimal) -> None:
        """Never a key without money: the balance is paid (or nothing was due)."""
        if amount_due > 0 and self.sale is None:
            raise RuntimeError("keys asked for before the balance was paid")

    def stays_checked_in(self, stays: list[Stay]) -> None:
        self.checked_in = list(stays)

    def presenting(self) -> None:
        """A working card is about to reach the guest: the money stays from here on."""
        self.db.card_presented(_journey())

    def card_issued(self, card: IssuedCard) -> None:
        self.cards.append(card)

    @property
    def key_delivered(self) -> bool:
        return any(card.taken for card in self.cards)

    async def settle(self, booking: str) -> None:
        """Apply the rule once; later calls do nothing."""
        if self._settled:
            return
        self._settled = True
        if not self.key_delivered:
            await self.payments.void_all()
            await self._undo_check_in()
            return
        if self.deposit is not None:
            self.payments.log.settle(self.deposit.reference, HELD)
        sale, amount = self.sale, self.sale.amount if self.sale else None
        if sale is None or amount is None:
            return
        try:
            await record_sale(self.backend, self.payments.log, booking, sale.reference, amount)
        except Exception as exc:  # refused, or a bug: for the operator, never the guest's
            why = exc.reason if isinstance(exc, BackendError) else type(exc).__name__
            log.error("payment %s not on the folio: %s", sale.reference, why)
            self.unrecorded.append(sale.reference)

    async def _undo_check_in(self) -> None:
        """No card came out: the stays go back to booked, so the back-end shows nobody in a
        room nobody can open (the guest is sent to the front desk)."""
        stays, self.checked_in = self.checked_in, []
        if not stays:
            return
        try:
            await self.backend.undo_check_in(stays, new_reference("undo"))
        except BackendError as exc:
            log.error("check-in of %d stay(s) not revoked: %s", len(stays), exc.reason)


async def record_sale(
    backend: PropertyBackend, log_: PaymentLog, booking: str, reference: str, amount: Decimal
) -> None:
    """Book an approved sale on the folio (delivered now or queued); the log says so."""
    await backend.record_payment(booking, amount, reference, bill_reference(reference))
    log_.settle(reference, RECORDED)


def _journey() -> JourneyMark:
    journey = current_journey.get()
    if journey is None:
        raise RuntimeError("a settlement runs inside a journey")
    return journey


async def resolve_unsettled(
    log_: PaymentLog, terminal: PaymentTerminal, backend: PropertyBackend
) -> list[str]:
    """At start-up: every payment a crash left open ends by the same rule as a journey.
    Returns a line per payment resolved (references only, for the log)."""
    done = []
    for record in log_.unsettled():
        token = current_journey.set(JourneyMark(record.journey, record.booking))
        try:
            done.append(f"{record.reference}: {await _resolve(record, log_, terminal, backend)}")
        except (PaymentError, BackendError) as exc:
            log.error("payment %s left open: %s", record.reference, type(exc).__name__)
        finally:
            current_journey.reset(token)
    return done


async def _resolve(
    record: PaymentRecord, log_: PaymentLog, terminal: PaymentTerminal, backend: PropertyBackend
) -> str:
    state = record.state
    if state in (REQUESTED, Outcome.IN_PROGRESS.value):
        result = await asyncio.to_thread(terminal.status, record.reference)
        if not result.outcome.final:
            return "still in progress at the terminal"
        state = result.outcome.value
        log_.settle(record.reference, state)
    if state not in (Outcome.APPROVED.value, VOID_FAILED):
        return state
    if record.step in (CHECKOUT_STEP, STEPS[Kind.REFUND]):
        return await _resolve_checkout(record, log_, backend)
    delivered = log_.db.cards_presented(record.journey) > 0
    if delivered or log_.db.wrote(record.journey, PAID_FOR_WRITES):
        if record.kind is Kind.PREAUTH:
            log_.settle(record.reference, HELD)
            return HELD
        await record_sale(backend, log_, record.booking, record.reference, record.amount)
        return RECORDED
    voided = await asyncio.to_thread(terminal.void, record.reference)
    log_.settle(record.reference, voided.outcome.value)
    return voided.outcome.value


async def _resolve_checkout(
    record: PaymentRecord, log_: PaymentLog, backend: PropertyBackend
) -> str:
    """A check-out's money is never voided: the guest owed what they paid (their stay), and a
    refund was owed to them; either goes on the folio, as the journey would have booked it."""
    if record.kind is Kind.SALE:
        await record_sale(backend, log_, record.booking, record.reference, record.amount)
        return RECORDED
    verbs = checkout_verbs(backend)
    if verbs is None:
        return "refund made: book it on the folio at the desk"
    await verbs.record_refund(
        record.booking, record.amount, record.reference, bill_reference(record.reference)
    )
    log_.settle(record.reference, RECORDED)
    return RECORDED
