"""The journey's payments against the simulated terminal: reference saved first, status
after a timeout (never a second charge), voids, and what is left for the operator."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from hardware.payment.protocol import Kind, Outcome
from hardware.payment.simulator import Scenario, SimulatedTerminal
from kiosk.journeys.payment import (
    RECORDED,
    VOID_FAILED,
    PaymentLog,
    Payments,
    PaymentUnresolved,
    new_reference,
)
from kiosk.state import JourneyMark, StateDb, current_journey

pytestmark = pytest.mark.timeout(30)
AMOUNT = Decimal("676.00")


class SaveBeforeAskLog(PaymentLog):
    """Fails the test if the terminal already knows a reference when it is saved."""

    terminal: SimulatedTerminal

    def save(
        self, reference: str, kind: Kind, amount: Decimal, currency: str, step: str | None = None
    ) -> None:
        assert self.terminal.status(reference).outcome is Outcome.UNKNOWN_REFERENCE
        super().save(reference, kind, amount, currency, step)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[SimulatedTerminal]:
    terminal = SimulatedTerminal(tmp_path / "terminal.sqlite", delay_factor=0, response_timeout_s=0)
    yield terminal
    terminal.close()


@pytest.fixture
def payment_log(tmp_path: Path, terminal: SimulatedTerminal) -> Iterator[SaveBeforeAskLog]:
    log = SaveBeforeAskLog(StateDb.in_dir(tmp_path / "state"))
    log.terminal = terminal
    yield log
    log.db.close()


@pytest.fixture
def payments(terminal: SimulatedTerminal, payment_log: SaveBeforeAskLog) -> Payments:
    return Payments(terminal, payment_log, status_interval_s=0.01, status_deadline_s=0.5)


def requests(terminal: SimulatedTerminal) -> list[str]:
    return [e.reference for e in terminal.journal() if e.event == "requested"]


def unsettled(log: PaymentLog) -> list[tuple[str, str]]:
    return [(r.reference, r.state) for r in log.unsettled()]


def test_references_fit_what_terminals_accept() -> None:
    refs = {new_reference("pay") for _ in range(100)}
    assert len(refs) == 100
    assert all(len(r) <= 32 and r.replace("-", "").isalnum() for r in refs)


async def test_approved_sale_is_saved_then_settled(
    payments: Payments, payment_log: PaymentLog, terminal: SimulatedTerminal
) -> None:
    result = await payments.charge(Kind.SALE, AMOUNT, "CNY")
    assert result.approved and payments.approved == [result]
    assert payment_log.state(result.reference) == "approved"
    # Approved, neither on the folio nor voided yet: open until the journey settles it.
    assert unsettled(payment_log) == [(result.reference, "approved")]
    assert requests(terminal) == [result.reference]
    payment_log.settle(result.reference, RECORDED)
    assert unsettled(payment_log) == []


async def test_decline_is_final_and_not_approved(
    payments: Payments, payment_log: PaymentLog, terminal: SimulatedTerminal
) -> None:
    terminal.queue(Scenario.decline())
    result = await payments.charge(Kind.SALE, AMOUNT, "CNY")
    assert result.outcome is Outcome.DECLINED and payments.approved == []
    assert payment_log.state(result.reference) == "declined"
    assert unsettled(payment_log) == []  # final, and nothing was taken


async def test_timeout_then_late_approval_is_learnt_from_status_without_a_new_charge(
    payments: Payments, payment_log: PaymentLog, terminal: SimulatedTerminal
) -> None:
    terminal.queue(Scenario.timeout_then_approve(late_by_s=0.05))
    result = await payments.charge(Kind.SALE, AMOUNT, "CNY")
    assert result.approved
    assert requests(terminal) == [result.reference]
    assert payment_log.state(result.reference) == "approved"


async def test_link_drop_is_resolved_by_status(
    payments: Payments, terminal: SimulatedTerminal
) -> None:
    terminal.queue(Scenario.link_drop(offline_s=0.05))
    result = await payments.charge(Kind.PREAUTH, Decimal("300"), "CNY")
    assert result.approved and result.kind is Kind.PREAUTH
    assert len(requests(terminal)) == 1


async def test_an_answer_that_never_comes_is_left_for_the_operator(
    payments: Payments, payment_log: PaymentLog, terminal: SimulatedTerminal
) -> None:
    terminal.queue(Scenario.timeout_then_approve(late_by_s=3600))
    with pytest.raises(PaymentUnresolved) as caught:
        await payments.charge(Kind.SALE, AMOUNT, "CNY")
    reference = caught.value.reference
    assert payments.unresolved == [reference] and payments.approved == []
    assert unsettled(payment_log) == [(reference, Outcome.IN_PROGRESS.value)]
    # The terminal is still busy with it: a new charge starts nothing and is not approved.
    second = await payments.charge(Kind.SALE, AMOUNT, "CNY")
    assert second.outcome is Outcome.UNKNOWN_REFERENCE
    assert requests(terminal) == [reference]


async def test_void_all_voids_each_approval_once(
    payments: Payments, payment_log: PaymentLog, terminal: SimulatedTerminal
) -> None:
    sale = await payments.charge(Kind.SALE, AMOUNT, "CNY")
    hold = await payments.charge(Kind.PREAUTH, Decimal("300"), "CNY")
    await payments.void_all()
    await payments.void_all()
    assert payments.voided == [sale.reference, hold.reference]
    for reference in payments.voided:
        assert terminal.status(reference).outcome is Outcome.VOIDED
        assert payment_log.state(reference) == "voided"
    assert [e.event for e in terminal.journal()].count("voided") == 2
    assert unsettled(payment_log) == []


async def test_a_void_that_fails_stays_in_the_log(
    payments: Payments, payment_log: PaymentLog, terminal: SimulatedTerminal
) -> None:
    sale = await payments.charge(Kind.SALE, AMOUNT, "CNY")
    terminal.drop_link(3600)
    await payments.void_all()
    assert payments.void_failed == [sale.reference] and payments.voided == []
    assert payment_log.state(sale.reference) == VOID_FAILED
    assert unsettled(payment_log) == [(sale.reference, VOID_FAILED)]


def test_the_log_survives_a_restart(tmp_path: Path) -> None:
    log = PaymentLog(StateDb.in_dir(tmp_path))
    log.save("pay-1", Kind.SALE, AMOUNT, "CNY")
    log.db.close()
    again = PaymentLog(StateDb.in_dir(tmp_path))
    assert unsettled(again) == [("pay-1", "requested")] and again.state("pay-1") == "requested"
    again.db.close()


def test_a_payment_is_saved_with_its_journey_and_booking(tmp_path: Path) -> None:
    log = PaymentLog(StateDb.in_dir(tmp_path))
    token = current_journey.set(JourneyMark("journey-1", "1001"))
    try:
        log.save("pay-1", Kind.SALE, AMOUNT, "CNY")
        log.save("dep-1", Kind.PREAUTH, Decimal("300"), "CNY")
    finally:
        current_journey.reset(token)
    [sale, deposit] = log.records()
    assert (sale.journey, sale.booking, sale.step, sale.kind, sale.amount) == (
        "journey-1", "1001", "balance", Kind.SALE, AMOUNT,
    )  # fmt: skip
    assert (deposit.journey, deposit.booking, deposit.step) == ("journey-1", "1001", "deposit")
    log.db.close()


def test_no_key_before_the_balance_is_paid() -> None:
    from kiosk.journeys.settlement import Settlement

    settlement = Settlement(None, None, None)  # type: ignore[arg-type]  # the rule alone
    settlement.require_paid(Decimal("0"))  # nothing due: keys may come
    with pytest.raises(RuntimeError, match="before the balance was paid"):
        settlement.require_paid(Decimal("676.00"))


async def test_a_refund_is_saved_first_and_never_voided(
    payments: Payments, payment_log: SaveBeforeAskLog
) -> None:
    log = payment_log
    sale = await payments.charge(Kind.SALE, AMOUNT, "CNY")
    refund = await payments.refund(Decimal("10.00"), "CNY", sale.reference)
    assert refund.approved and refund.kind is Kind.REFUND
    assert [r.step for r in log.records()] == ["balance", "refund"]
    await payments.void_all()
    assert payments.voided == [sale.reference]  # the refund stays made
    assert log.state(refund.reference) == "approved"


async def test_a_terminal_without_refunds_is_not_asked(payment_log: SaveBeforeAskLog) -> None:
    from hardware.payment.protocol import RefundNotSupported

    class NoRefunds:  # a driver written before refunds were in the protocol
        name = "old"

    payments = Payments(NoRefunds(), payment_log)  # type: ignore[arg-type]
    with pytest.raises(RefundNotSupported):
        await payments.refund(Decimal("10.00"), "CNY", "pay-1")
    assert payment_log.records() == []  # nothing saved: nothing was started
