"""The simulated payment terminal through the ``PaymentTerminal`` protocol: every scenario,
the reference contract (idempotent sale, status after a timeout or a lost link, void),
and its journal surviving a restart. Time on the terminal's side runs on a hand-moved
clock; the simulated guest delays are scaled to 0 except where a test needs a window."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from hardware.health import HealthLevel
from hardware.payment import (
    Kind,
    Outcome,
    PaymentConfig,
    ReferenceConflict,
    TerminalBusy,
    TerminalOffline,
    open_payment_terminal,
)
from hardware.payment.sim_journal import SimJournal
from hardware.payment.simulator import Scenario, SimulatedTerminal
from tests.conftest import SimClock

pytestmark = pytest.mark.timeout(20)

CNY = "CNY"


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "payment.sqlite"


@pytest.fixture
def terminal(journal_path: Path, sim_clock: SimClock) -> Iterator[SimulatedTerminal]:
    term = SimulatedTerminal(journal_path, delay_factor=0, now=sim_clock)
    yield term
    term.close()


def events(terminal: SimulatedTerminal, reference: str) -> list[str]:
    return [e.event for e in terminal.journal() if e.reference == reference]


def test_approve(terminal: SimulatedTerminal, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    result = terminal.sale("R1", Decimal("128.50"), CNY)

    assert result.outcome is Outcome.APPROVED and result.approved
    assert (result.reference, result.kind, result.currency) == ("R1", Kind.SALE, CNY)
    assert result.amount == Decimal("128.50") and isinstance(result.amount, Decimal)
    assert result.approval_code is not None and len(result.approval_code) == 6
    assert result.card_last4 is not None and result.card_last4.isdigit()
    assert result.at is not None and result.at.utcoffset() == timedelta(0)
    assert terminal.status("R1") == result
    assert events(terminal, "R1") == ["requested", "approved"]
    assert result.card_last4 not in caplog.text  # even the last digits stay off the log


def test_decline_carries_the_reason(terminal: SimulatedTerminal) -> None:
    terminal.queue(Scenario.decline("card expired"))
    result = terminal.sale("R1", Decimal("10"), CNY)

    assert result.outcome is Outcome.DECLINED
    assert result.decline_reason == "card expired"
    assert result.approval_code is None and result.card_last4 is None
    assert terminal.status("R1").outcome is Outcome.DECLINED


def test_guest_cancels_at_the_terminal(terminal: SimulatedTerminal) -> None:
    terminal.queue(Scenario.guest_cancel())
    result = terminal.sale("R1", Decimal("10"), CNY)

    assert result.outcome is Outcome.CANCELLED
    assert events(terminal, "R1") == ["requested", "cancelled"]


def test_a_declined_reference_is_not_tried_again(terminal: SimulatedTerminal) -> None:
    terminal.queue(Scenario.decline())
    terminal.sale("R1", Decimal("10"), CNY)
    # The next scenario would approve, but the reference names the declined attempt.
    again = terminal.sale("R1", Decimal("10"), CNY)

    assert again.outcome is Outcome.DECLINED
    assert events(terminal, "R1") == ["requested", "declined"]


def test_timeout_then_status_finds_it_approved_and_no_second_charge(
    terminal: SimulatedTerminal, sim_clock: SimClock
) -> None:
    terminal.queue(Scenario.timeout_then_approve(late_by_s=30))
    first = terminal.sale("R1", Decimal("300.00"), CNY)
    assert first.outcome is Outcome.TIMEOUT and not first.outcome.final

    # The answer has not come yet: still in progress, and the terminal is busy with it.
    pending = terminal.status("R1")
    assert pending.outcome is Outcome.IN_PROGRESS and pending.approval_code is None
    with pytest.raises(TerminalBusy):
        terminal.sale("R2", Decimal("1.00"), CNY)
    with pytest.raises(TerminalBusy):
        terminal.void("R1")

    sim_clock.now += timedelta(seconds=31)
    found = terminal.status("R1")
    assert found.outcome is Outcome.APPROVED and found.approval_code

    again = terminal.sale("R1", Decimal("300.00"), CNY)
    assert again == found
    assert events(terminal, "R1") == ["requested", "approved"]  # one charge


def test_link_drop_then_status_after_the_link_is_back(
    terminal: SimulatedTerminal, sim_clock: SimClock
) -> None:
    terminal.queue(Scenario.link_drop(offline_s=5))
    with pytest.raises(TerminalOffline):
        terminal.sale("R1", Decimal("99.99"), CNY)

    with pytest.raises(TerminalOffline):
        terminal.status("R1")
    assert terminal.health().level is HealthLevel.FAULT

    sim_clock.now += timedelta(seconds=6)
    assert terminal.health().level is HealthLevel.OK
    found = terminal.status("R1")
    assert found.outcome is Outcome.APPROVED and found.amount == Decimal("99.99")
    assert terminal.sale("R1", Decimal("99.99"), CNY) == found
    assert events(terminal, "R1") == ["requested", "approved"]


def test_void_after_approval_is_idempotent(terminal: SimulatedTerminal) -> None:
    approved = terminal.sale("R1", Decimal("50"), CNY)
    voided = terminal.void("R1")

    assert voided.outcome is Outcome.VOIDED
    assert voided.approval_code == approved.approval_code
    assert terminal.status("R1").outcome is Outcome.VOIDED
    assert terminal.void("R1").outcome is Outcome.VOIDED
    assert terminal.sale("R1", Decimal("50"), CNY).outcome is Outcome.VOIDED  # no new charge
    assert events(terminal, "R1") == ["requested", "approved", "voided"]


def test_void_of_an_unknown_reference(terminal: SimulatedTerminal) -> None:
    assert terminal.void("NEVER-SENT").outcome is Outcome.UNKNOWN_REFERENCE
    assert terminal.status("NEVER-SENT").outcome is Outcome.UNKNOWN_REFERENCE
    assert terminal.journal() == []


def test_void_of_a_declined_sale_changes_nothing(terminal: SimulatedTerminal) -> None:
    terminal.queue(Scenario.decline())
    terminal.sale("R1", Decimal("5"), CNY)
    assert terminal.void("R1").outcome is Outcome.DECLINED
    assert events(terminal, "R1") == ["requested", "declined"]


def test_preauthorize_then_release(terminal: SimulatedTerminal) -> None:
    held = terminal.preauthorize("DEP1", Decimal("500.00"), CNY)
    assert held.outcome is Outcome.APPROVED and held.kind is Kind.PREAUTH

    released = terminal.void("DEP1")
    assert released.outcome is Outcome.VOIDED and released.kind is Kind.PREAUTH
    assert [e.kind for e in terminal.journal()] == [Kind.PREAUTH] * 3


def test_a_reference_names_one_payment(terminal: SimulatedTerminal) -> None:
    terminal.sale("R1", Decimal("50"), CNY)
    with pytest.raises(ReferenceConflict):
        terminal.sale("R1", Decimal("51"), CNY)
    with pytest.raises(ReferenceConflict):
        terminal.preauthorize("R1", Decimal("50"), CNY)
    assert events(terminal, "R1") == ["requested", "approved"]


def test_the_kiosk_cancels_while_the_guest_has_not_tapped(journal_path: Path) -> None:
    # A real delay gives the window in which the terminal waits for the card (4 s x 0.1).
    terminal = SimulatedTerminal(journal_path, delay_factor=0.1)
    assert terminal.cancel() is False  # nothing in progress
    results = []
    worker = threading.Thread(
        target=lambda: results.append(terminal.sale("R1", Decimal("10"), CNY))
    )
    worker.start()
    deadline = time.monotonic() + 2
    while not terminal.cancel():
        assert time.monotonic() < deadline, "the sale never started"
        time.sleep(0.005)
    worker.join(5)

    assert results[0].outcome is Outcome.CANCELLED
    assert results[0].decline_reason == "cancelled by the kiosk"
    terminal.close()


def test_busy_while_a_sale_waits_for_the_guest(journal_path: Path) -> None:
    terminal = SimulatedTerminal(journal_path, delay_factor=0.05)  # 0.3 s per sale
    worker = threading.Thread(target=terminal.sale, args=("R1", Decimal("10"), CNY))
    worker.start()
    deadline = time.monotonic() + 2
    while terminal.status("R1").outcome is Outcome.UNKNOWN_REFERENCE:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    assert terminal.status("R1").outcome is Outcome.IN_PROGRESS
    assert terminal.health().detail == "transaction in progress"
    with pytest.raises(TerminalBusy):
        terminal.sale("R2", Decimal("10"), CNY)
    worker.join(5)
    assert terminal.status("R1").outcome is Outcome.APPROVED
    terminal.close()


def test_delays_scale_with_the_factor(journal_path: Path) -> None:
    terminal = SimulatedTerminal(journal_path, delay_factor=0.02)  # (4 + 2) s x 0.02
    started = time.monotonic()
    terminal.sale("R1", Decimal("10"), CNY)
    assert time.monotonic() - started >= 0.12
    terminal.close()


def test_a_restarted_terminal_still_knows_its_references(
    journal_path: Path, sim_clock: SimClock
) -> None:
    first = SimulatedTerminal(journal_path, delay_factor=0, now=sim_clock)
    approved = first.sale("R1", Decimal("88.00"), CNY)
    first.close()

    second = SimulatedTerminal(journal_path, delay_factor=0, now=sim_clock)
    assert second.status("R1") == approved
    assert second.sale("R1", Decimal("88.00"), CNY) == approved
    assert [e.event for e in second.journal()] == ["requested", "approved"]
    second.close()


def test_a_sale_cut_by_a_restart_ends_cancelled(journal_path: Path, sim_clock: SimClock) -> None:
    from hardware.payment.protocol import PaymentResult

    journal = SimJournal(journal_path)  # the terminal stopped with R1 in progress
    journal.begin(
        PaymentResult("R1", Outcome.IN_PROGRESS, Kind.SALE, Decimal("10"), CNY, at=sim_clock())
    )
    journal.close()

    terminal = SimulatedTerminal(journal_path, delay_factor=0, now=sim_clock)
    assert terminal.status("R1").outcome is Outcome.CANCELLED
    assert terminal.sale("R2", Decimal("10"), CNY).approved  # not left busy
    terminal.close()


def test_a_closed_terminal_is_offline(terminal: SimulatedTerminal) -> None:
    terminal.close()
    with pytest.raises(TerminalOffline):
        terminal.sale("R1", Decimal("10"), CNY)
    assert terminal.health().level is HealthLevel.FAULT


def test_amount_rules_for_demo_scripts(journal_path: Path) -> None:
    config = PaymentConfig(
        sim_delay_factor=0,
        sim_journal=journal_path,
        sim_amount_rules={51: "decline", 52: "guest_cancel"},
    )
    terminal = open_payment_terminal(config)
    assert isinstance(terminal, SimulatedTerminal)

    assert terminal.sale("A", Decimal("128.51"), CNY).outcome is Outcome.DECLINED
    assert terminal.sale("B", Decimal("7.52"), CNY).outcome is Outcome.CANCELLED
    assert terminal.sale("C", Decimal("128.50"), CNY).outcome is Outcome.APPROVED
    terminal.queue(Scenario.approve())  # the queue wins over the rules
    assert terminal.sale("D", Decimal("128.51"), CNY).outcome is Outcome.APPROVED
    terminal.close()


def test_health_reports_counts(terminal: SimulatedTerminal) -> None:
    terminal.sale("R1", Decimal("10"), CNY)
    terminal.queue(Scenario.decline())
    terminal.sale("R2", Decimal("10"), CNY)
    health = terminal.health()
    assert health.level is HealthLevel.OK
    assert health.metrics["transactions"] == 2 and health.metrics["approved"] == 1


def test_refund_goes_to_the_sale_card_up_to_its_amount_once(terminal: SimulatedTerminal) -> None:
    from hardware.payment.protocol import Kind, Outcome

    assert terminal.sale("pay-r1", Decimal("120.00"), "CNY").approved
    too_much = terminal.refund("ref-r0", Decimal("120.01"), "CNY", "pay-r1")
    assert too_much.outcome is Outcome.DECLINED
    assert terminal.refund("ref-r1b", Decimal("5.00"), "CNY", "pay-unknown").outcome is (
        Outcome.DECLINED
    )
    refund = terminal.refund("ref-r1", Decimal("20.00"), "CNY", "pay-r1")
    assert refund.approved and refund.kind is Kind.REFUND
    again = terminal.refund("ref-r1", Decimal("20.00"), "CNY", "pay-r1")  # a replay
    assert again == refund
    assert terminal.status("ref-r1").approved
    assert events(terminal, "ref-r1") == ["requested", "approved"]
