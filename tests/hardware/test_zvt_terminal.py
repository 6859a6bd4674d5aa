"""The ZVT driver against an emulated terminal on loopback TCP (``zvt_emulator``): the
reference contract of ``hardware.payment.protocol`` over a protocol that knows no
references — approve, decline, cancel (guest and kiosk), timeout then status, a link
that drops mid-sale, a killed kiosk process, void, and what is not ZVT."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from hardware.config import DevicesConfig
from hardware.health import HealthLevel
from hardware.payment import (
    InvalidPaymentRequest,
    Kind,
    Outcome,
    PaymentResult,
    ReferenceConflict,
    TerminalBusy,
    TerminalOffline,
    TerminalProtocolError,
)
from hardware.payment.zvt import ZvtTerminal
from kiosk.journeys.payment import PaymentLog, Payments
from kiosk.runtime import open_devices
from kiosk.state import StateDb
from tests.hardware.zvt_emulator import Script, ZvtEmulator

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]
AMOUNT = Decimal("128.51")


@pytest.fixture
def emulator() -> Iterator[ZvtEmulator]:
    terminal = ZvtEmulator()
    yield terminal
    terminal.stop()


def make_terminal(emulator: ZvtEmulator, journal: Path, **timeouts: float) -> ZvtTerminal:
    return ZvtTerminal(
        "127.0.0.1",
        emulator.port,
        password_digits="123456",
        journal_path=journal,
        connect_timeout_s=1.0,
        ack_timeout_s=1.0,
        **{"response_timeout_s": 5.0, **timeouts},
    )


@pytest.fixture
def terminal(emulator: ZvtEmulator, tmp_path: Path) -> Iterator[ZvtTerminal]:
    driver = make_terminal(emulator, tmp_path / "zvt.sqlite")
    yield driver
    driver.close()


def settle(terminal: ZvtTerminal, reference: str, within_s: float = 10.0) -> PaymentResult:
    """Ask ``status`` until it is final, as the journey does."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            result = terminal.status(reference)
            if result.outcome.final:
                return result
        except TerminalOffline:
            pass
        assert time.monotonic() < deadline, "status never became final"
        time.sleep(0.05)


def test_an_approved_sale_and_its_replay(terminal: ZvtTerminal, emulator: ZvtEmulator) -> None:
    terminal.open()
    result = terminal.sale("pay-1", AMOUNT, "CNY")
    assert result.outcome is Outcome.APPROVED
    assert (result.kind, result.amount, result.currency) == (Kind.SALE, AMOUNT, "CNY")
    assert result.card_last4 == "4242"  # from the masked PAN; nothing more is kept
    assert result.approval_code == "A1B2C3"
    [booking] = emulator.charges()
    assert (booking.units, booking.currency, booking.kind) == (12851, "0156", "sale")
    # The same reference again: the journal's answer, no second charge.
    assert terminal.sale("pay-1", AMOUNT, "CNY") == result
    assert terminal.status("pay-1") == result
    assert len(emulator.charges()) == 1
    assert emulator.requests.count("0601") == 1
    with pytest.raises(ReferenceConflict):
        terminal.sale("pay-1", Decimal("1.00"), "CNY")
    assert terminal.status("never-sent").outcome is Outcome.UNKNOWN_REFERENCE
    assert terminal.health().level is HealthLevel.OK


def test_a_refund_against_a_kiosk_sale_and_its_replay(
    terminal: ZvtTerminal, emulator: ZvtEmulator
) -> None:
    terminal.open()
    sale = terminal.sale("pay-1", AMOUNT, "CNY")
    refund = terminal.refund("ref-1", Decimal("28.51"), "CNY", "pay-1")
    assert (refund.outcome, refund.kind, refund.amount) == (
        Outcome.APPROVED, Kind.REFUND, Decimal("28.51")
    )  # fmt: skip
    assert refund.card_last4 == sale.card_last4
    [given_back] = emulator.refunds()
    assert (given_back.units, given_back.currency) == (2851, "0156")
    assert [b.kind for b in emulator.charges()] == ["sale"]  # the sale stands
    # The same reference again: the journal's answer, never a second refund.
    assert terminal.refund("ref-1", Decimal("28.51"), "CNY", "pay-1") == refund
    assert terminal.status("ref-1") == refund
    assert emulator.requests.count("0631") == 1


def test_a_refund_the_sale_does_not_cover_is_declined_unsent(
    terminal: ZvtTerminal, emulator: ZvtEmulator
) -> None:
    terminal.open()
    terminal.sale("pay-1", AMOUNT, "CNY")
    for n, (amount, currency, sale) in enumerate((
        (AMOUNT + Decimal("0.01"), "CNY", "pay-1"),  # more than the sale
        (Decimal("1.00"), "EUR", "pay-1"),  # another currency
        (Decimal("1.00"), "CNY", "pay-unknown"),  # no such sale here
    )):  # fmt: skip
        refused = terminal.refund(f"ref-x{n}", amount, currency, sale)
        assert refused.outcome is Outcome.DECLINED and refused.kind is Kind.REFUND
    assert "0631" not in emulator.requests and emulator.refunds() == []
    # A refund the terminal declines (the card presented refused) books nothing.
    emulator.queue(Script(result="decline", code=0x05))
    declined = terminal.refund("ref-2", Decimal("1.00"), "CNY", "pay-1")
    assert declined.outcome is Outcome.DECLINED and emulator.refunds() == []


def test_the_journal_keeps_no_card_number(emulator: ZvtEmulator, tmp_path: Path) -> None:
    journal = tmp_path / "zvt.sqlite"
    terminal = make_terminal(emulator, journal)
    assert terminal.sale("pay-pan", AMOUNT, "CNY").card_last4 == "4242"
    terminal.close()
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("zvt.sqlite*"))
    assert b"4242" in stored  # the last four, as on a receipt
    assert b"6759" not in stored and bytes.fromhex("6759") not in stored  # no PAN prefix


def test_a_busy_terminal_starts_nothing(emulator: ZvtEmulator, tmp_path: Path) -> None:
    """Another connection's transaction holds the terminal: 84 A0, TerminalBusy, and the
    reference stays unknown (so the caller may use it later)."""
    first = make_terminal(emulator, tmp_path / "first.sqlite")
    second = make_terminal(emulator, tmp_path / "second.sqlite")
    emulator.queue(Script(card_s=1.0))
    results: list[PaymentResult] = []
    sale = threading.Thread(target=lambda: results.append(first.sale("pay-a", AMOUNT, "CNY")))
    sale.start()
    assert emulator.request_seen.wait(5)
    with pytest.raises(TerminalBusy):
        second.sale("pay-b", AMOUNT, "CNY")
    assert second.status("pay-b").outcome is Outcome.UNKNOWN_REFERENCE
    sale.join(5)
    assert results[0].approved
    assert second.sale("pay-b", AMOUNT, "CNY").approved  # the terminal is free again
    first.close()
    second.close()


def test_decline_carries_the_result_code(terminal: ZvtTerminal, emulator: ZvtEmulator) -> None:
    emulator.queue(Script("decline", code=0x51))
    result = terminal.sale("pay-2", AMOUNT, "CNY")
    assert result.outcome is Outcome.DECLINED
    assert result.decline_reason == "declined by the card issuer (code 51)"
    assert emulator.charges() == []
    assert terminal.status("pay-2").outcome is Outcome.DECLINED


def test_guest_cancel_at_the_terminal(terminal: ZvtTerminal, emulator: ZvtEmulator) -> None:
    emulator.queue(Script("guest_cancel"))
    result = terminal.sale("pay-3", AMOUNT, "CNY")
    assert result.outcome is Outcome.CANCELLED
    assert result.decline_reason == "cancelled by the guest or the terminal"
    assert emulator.charges() == []


def test_the_kiosk_aborts_from_another_thread(
    terminal: ZvtTerminal, emulator: ZvtEmulator
) -> None:
    assert terminal.cancel() is False  # nothing in progress
    emulator.queue(Script(card_s=10.0))
    results: list[PaymentResult] = []
    sale = threading.Thread(target=lambda: results.append(terminal.sale("pay-4", AMOUNT, "CNY")))
    sale.start()
    assert emulator.request_seen.wait(5)
    assert terminal.cancel() is True
    sale.join(5)
    assert results[0].outcome is Outcome.CANCELLED
    assert results[0].decline_reason == "cancelled by the kiosk"
    assert emulator.aborts_received == 1
    assert emulator.charges() == []
    assert terminal.cancel() is False


def test_timeout_then_status_answers_the_late_approval(
    emulator: ZvtEmulator, tmp_path: Path
) -> None:
    terminal = make_terminal(emulator, tmp_path / "zvt.sqlite", response_timeout_s=0.3)
    emulator.queue(Script(authorise_s=1.5))
    result = terminal.sale("pay-5", AMOUNT, "CNY")
    assert result.outcome is Outcome.TIMEOUT
    assert terminal.status("pay-5").outcome is Outcome.IN_PROGRESS  # the answer is awaited
    with pytest.raises(TerminalBusy):
        terminal.void("pay-5")  # not before its fate is known
    late = settle(terminal, "pay-5")
    assert late.outcome is Outcome.APPROVED and late.card_last4 == "4242"
    assert len(emulator.charges()) == 1
    terminal.close()


def test_link_drop_mid_sale_then_status(terminal: ZvtTerminal, emulator: ZvtEmulator) -> None:
    emulator.queue(Script(drop=True))
    with pytest.raises(TerminalOffline):
        terminal.sale("pay-6", AMOUNT, "CNY")
    # The terminal booked it after the cable was pulled: status finds it from the
    # terminal's last receipt (newer than the one journaled before the request).
    result = settle(terminal, "pay-6")
    assert result.outcome is Outcome.APPROVED
    assert terminal.sale("pay-6", AMOUNT, "CNY").outcome is Outcome.APPROVED
    assert len(emulator.charges()) == 1
    # The receipt number was learnt: the approval can be voided.
    assert terminal.void("pay-6").outcome is Outcome.VOIDED
    assert emulator.charges() == []


def test_a_sale_the_terminal_never_booked_resolves_as_cancelled(
    terminal: ZvtTerminal, emulator: ZvtEmulator
) -> None:
    assert terminal.sale("pay-7", AMOUNT, "CNY").approved  # the terminal's last receipt
    emulator.queue(Script("guest_cancel", drop=True))
    with pytest.raises(TerminalOffline):
        terminal.sale("pay-8", AMOUNT, "CNY")
    # The last receipt is still pay-7's, journaled before pay-8 was sent: not booked.
    result = settle(terminal, "pay-8")
    assert result.outcome is Outcome.CANCELLED
    assert result.decline_reason == "the terminal did not book it"
    assert terminal.status("pay-7").outcome is Outcome.APPROVED
    assert len(emulator.charges()) == 1


def test_void_of_a_sale_and_of_a_deposit(terminal: ZvtTerminal, emulator: ZvtEmulator) -> None:
    sale = terminal.sale("pay-9", AMOUNT, "CNY")
    deposit = terminal.preauthorize("dep-9", Decimal("500.00"), "CNY")
    assert sale.approved and deposit.approved and deposit.kind is Kind.PREAUTH
    assert len(emulator.charges()) == 2
    assert terminal.void("pay-9").outcome is Outcome.VOIDED
    assert terminal.void("dep-9").outcome is Outcome.VOIDED
    assert emulator.charges() == []
    assert "0630" in emulator.requests and "0625" in emulator.requests
    # Idempotent: the journal answers, nothing more reaches the terminal.
    sent = len(emulator.requests)
    assert terminal.void("pay-9").outcome is Outcome.VOIDED
    assert len(emulator.requests) == sent
    # A declined payment is returned as it is: nothing was charged.
    emulator.queue(Script("decline"))
    terminal.sale("pay-10", AMOUNT, "CNY")
    assert terminal.void("pay-10").outcome is Outcome.DECLINED
    assert terminal.void("unknown").outcome is Outcome.UNKNOWN_REFERENCE


def test_a_void_whose_answer_was_lost_is_voided_on_the_next_try(
    terminal: ZvtTerminal, emulator: ZvtEmulator
) -> None:
    """The reversal reached the terminal, its answer did not reach the kiosk: the void
    fails (the journey leaves it for a retry), and the retry is answered "already
    reversed" (B4), which is voided."""
    assert terminal.sale("pay-14", AMOUNT, "CNY").approved
    emulator.drop_next_void_answer = True
    with pytest.raises(TerminalOffline):
        terminal.void("pay-14")
    assert emulator.charges() == []  # the terminal did reverse it
    assert terminal.status("pay-14").outcome is Outcome.APPROVED  # the kiosk cannot know
    assert terminal.void("pay-14").outcome is Outcome.VOIDED
    assert emulator.requests.count("0630") == 2


def test_a_refused_request_is_a_decline(terminal: ZvtTerminal, emulator: ZvtEmulator) -> None:
    emulator.queue(Script("refuse"))
    result = terminal.sale("pay-15", AMOUNT, "CNY")
    assert result.outcome is Outcome.DECLINED
    assert result.decline_reason == "function not possible (code 83)"
    assert terminal.status("pay-15").outcome is Outcome.DECLINED
    assert emulator.charges() == []


def test_a_result_that_is_not_zvt_is_a_protocol_error(
    terminal: ZvtTerminal, emulator: ZvtEmulator
) -> None:
    emulator.queue(Script(garble=True))
    with pytest.raises(TerminalProtocolError):
        terminal.sale("pay-11", AMOUNT, "CNY")
    # The outcome is unknown, so the reference stays in progress in the journal; the
    # terminal's repeated receipt (well-formed this time) tells what happened.
    assert settle(terminal, "pay-11").outcome is Outcome.APPROVED


def test_garbage_instead_of_an_acknowledgement(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        def answer_garbage() -> None:
            conn, _ = server.accept()
            with conn:
                conn.recv(64)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
                time.sleep(0.5)

        threading.Thread(target=answer_garbage, daemon=True).start()
        terminal = ZvtTerminal("127.0.0.1", port, password_digits="000000",
                               journal_path=tmp_path / "j.sqlite", ack_timeout_s=1.0)  # fmt: skip
        with pytest.raises(TerminalProtocolError):
            terminal.open()
        terminal.close()


def test_a_missing_terminal_is_offline_and_bad_money_never_leaves(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    terminal = ZvtTerminal("127.0.0.1", closed_port, password_digits="000000",
                           journal_path=tmp_path / "j.sqlite", connect_timeout_s=1.0)  # fmt: skip
    with pytest.raises(TerminalOffline, match="cannot connect"):
        terminal.open()
    health = terminal.health()
    assert health.level is HealthLevel.FAULT and "cannot connect" in health.detail
    with pytest.raises(InvalidPaymentRequest):
        terminal.sale("pay-12", 12.5, "CNY")  # type: ignore[arg-type]
    with pytest.raises(InvalidPaymentRequest):
        terminal.sale("pay-12", Decimal("1.00"), "XZZ")
    assert terminal.status("pay-12").outcome is Outcome.UNKNOWN_REFERENCE
    terminal.close()


CRASHING_KIOSK = """
import sys
from decimal import Decimal
from pathlib import Path
from hardware.payment.zvt import ZvtTerminal

terminal = ZvtTerminal("127.0.0.1", int(sys.argv[1]), password_digits="123456",
                       journal_path=Path(sys.argv[2]), response_timeout_s=30)
print("SENDING", flush=True)
terminal.sale("pay-crash", Decimal("128.51"), "CNY")
print("ANSWERED", flush=True)
"""


def test_kill9_after_the_request_then_status_from_a_new_process(
    emulator: ZvtEmulator, tmp_path: Path
) -> None:
    """The kiosk dies (kill -9) while the guest is at the terminal; the terminal books the
    payment anyway. A new process finds it approved, exactly once."""
    journal = tmp_path / "zvt.sqlite"
    emulator.queue(Script(card_s=1.0))
    kiosk = subprocess.Popen(
        [sys.executable, "-c", CRASHING_KIOSK, str(emulator.port), str(journal)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert emulator.request_seen.wait(30), "the sale never reached the terminal"
        kiosk.kill()  # SIGKILL: no cleanup, no goodbye to the terminal
        kiosk.wait(10)
    finally:
        if kiosk.poll() is None:
            kiosk.kill()
    assert "ANSWERED" not in kiosk.stdout.read()  # type: ignore[union-attr]
    restarted = make_terminal(emulator, journal)
    try:
        result = settle(restarted, "pay-crash")
        assert result.outcome is Outcome.APPROVED
        assert result.amount == AMOUNT
        # The restarted kiosk repeats the sale (same reference): no second charge.
        assert restarted.sale("pay-crash", AMOUNT, "CNY").outcome is Outcome.APPROVED
        assert len(emulator.charges()) == 1
        assert emulator.requests.count("0601") == 1
    finally:
        restarted.close()


def test_start_up_shows_a_missing_terminal_and_opens_it_when_it_is_back(tmp_path: Path) -> None:
    """The runtime's device opener treats the terminal like the other devices: missing
    (with the reason) while nothing answers on its port, opened once it does."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    payment = {"driver": "zvt", "zvt_host": "127.0.0.1", "zvt_port": port,
               "zvt_journal": tmp_path / "zvt.sqlite", "zvt_connect_timeout_s": 1.0}  # fmt: skip
    config = DevicesConfig.model_validate(
        {"payment": payment, "printer": {"sim_folder": tmp_path / "receipts"}}
    )
    devices, opener, closers = open_devices(config)
    try:
        missing = opener.open_missing()
        assert missing["payment"].startswith(f"payment: cannot connect to 127.0.0.1:{port}")
        assert set(missing) == {"payment"}  # the simulated devices opened
        emulator = ZvtEmulator(port=port)  # the terminal is switched on
        try:
            assert opener.open_missing() == {}
            assert devices.terminal.sale("pay-13", AMOUNT, "CNY").approved
        finally:
            emulator.stop()
    finally:
        for close in closers:
            close()


def test_the_journeys_payments_over_zvt(
    terminal: ZvtTerminal, emulator: ZvtEmulator, tmp_path: Path
) -> None:
    """The journey's payment policy on the real driver: a link that drops mid-sale is
    resolved by status (one charge), and what the journey cannot deliver is voided."""
    db = StateDb.in_dir(tmp_path / "state")
    payment_log = PaymentLog(db)
    payments = Payments(terminal, payment_log, status_interval_s=0.05, status_deadline_s=10)
    emulator.queue(Script(drop=True))

    async def journey() -> PaymentResult:
        result = await payments.charge(Kind.SALE, AMOUNT, "CNY")
        await payments.void_all()
        return result

    try:
        result = asyncio.run(journey())
        assert result.outcome is Outcome.APPROVED
        assert emulator.requests.count("0601") == 1  # status, never a second charge
        assert payment_log.state(result.reference) == Outcome.VOIDED.value
        assert emulator.charges() == []
    finally:
        db.close()


def test_a_check_out_refund_over_zvt(
    terminal: ZvtTerminal, emulator: ZvtEmulator, tmp_path: Path
) -> None:
    """Check-out's refund path on the real driver: saved first, made once, never voided."""
    db = StateDb.in_dir(tmp_path / "state")
    payment_log = PaymentLog(db)
    payments = Payments(terminal, payment_log, status_interval_s=0.05, status_deadline_s=10)
    terminal.open()
    sale = terminal.sale("pay-earlier", AMOUNT, "CNY")  # the check-in's sale, days before

    async def checkout() -> PaymentResult:
        refund = await payments.refund(Decimal("100.00"), "CNY", sale.reference)
        await payments.void_all()  # a refund is not the journey's to void
        return refund

    try:
        refund = asyncio.run(checkout())
        assert refund.approved and payment_log.state(refund.reference) == "approved"
        assert [b.units for b in emulator.refunds()] == [10000]
        assert not any(b.reversed for b in emulator.bookings.values())
    finally:
        db.close()


def test_health_never_waits_on_a_terminal_that_does_not_answer(tmp_path: Path) -> None:
    """Health is asked from the UI's event loop: a terminal that accepts the connection and
    then says nothing must not freeze it; the probe runs in the background."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        terminal = ZvtTerminal("127.0.0.1", silent.getsockname()[1], password_digits="000000",
                               journal_path=tmp_path / "j.sqlite", connect_timeout_s=1.0,
                               ack_timeout_s=1.0)  # fmt: skip
        started = time.monotonic()
        first = terminal.health()
        assert time.monotonic() - started < 0.3
        assert first.level is HealthLevel.OK and first.detail == "checking the terminal"
        deadline = time.monotonic() + 10
        while (health := terminal.health()).detail == "checking the terminal":
            assert time.monotonic() < deadline, "the background probe never answered"
            time.sleep(0.05)
        assert health.level is HealthLevel.FAULT
        terminal.close()
