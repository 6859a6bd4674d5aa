"""What the payment protocol refuses before anything reaches a terminal, its result type,
and the ``[devices.payment]`` config."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from hardware.payment import InvalidPaymentRequest, Kind, Outcome, PaymentConfig, PaymentResult
from hardware.payment.protocol import check_request
from hardware.payment.simulator import SimulatedTerminal
from kiosk.config import load_config


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        (12.5, "CNY"),  # float: never money
        (12, "CNY"),  # int: the caller must say Decimal
        (True, "CNY"),
        ("12.50", "CNY"),
        (Decimal("0"), "CNY"),
        (Decimal("-1.00"), "CNY"),
        (Decimal("NaN"), "CNY"),
        (Decimal("Infinity"), "CNY"),
        (Decimal("1.001"), "CNY"),  # CNY has two decimal places
        (Decimal("100.5"), "JPY"),  # JPY has none
        (Decimal("1.00"), "cny"),
        (Decimal("1.00"), "YUAN"),
    ],
)
def test_bad_money_is_refused_before_the_terminal(
    tmp_path: Path, amount: object, currency: str
) -> None:
    terminal = SimulatedTerminal(tmp_path / "j.sqlite", delay_factor=0)
    with pytest.raises(InvalidPaymentRequest):
        terminal.sale("R1", amount, currency)  # type: ignore[arg-type]
    with pytest.raises(InvalidPaymentRequest):
        terminal.preauthorize("R1", amount, currency)  # type: ignore[arg-type]
    assert terminal.journal() == []
    terminal.close()


@pytest.mark.parametrize("reference", ["", "a" * 33, "has space", "ü", "R1\n", None])
def test_bad_references_are_refused(reference: object) -> None:
    with pytest.raises(InvalidPaymentRequest):
        check_request(reference, Decimal("1.00"), "CNY")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        (Decimal("0.01"), "CNY"),
        (Decimal("100"), "CNY"),
        (Decimal("1500"), "JPY"),
        (Decimal("1.234"), "KWD"),
        (Decimal("1E+3"), "CNY"),
    ],
)
def test_good_money_passes(amount: Decimal, currency: str) -> None:
    check_request("K-20260304-0001_a", amount, currency)


def test_the_result_has_no_room_for_card_data() -> None:
    fields = {f.name for f in dataclasses.fields(PaymentResult)}
    assert not fields & {"pan", "card_number", "track", "track2", "cvv", "cvc", "expiry"}
    with pytest.raises(ValueError, match="last four digits"):
        PaymentResult("R1", Outcome.APPROVED, card_last4="4111111111111111")
    with pytest.raises(ValueError, match="aware"):
        PaymentResult("R1", Outcome.APPROVED, at=datetime(2026, 1, 1))  # naive time


def test_final_outcomes() -> None:
    assert {o for o in Outcome if not o.final} == {Outcome.TIMEOUT, Outcome.IN_PROGRESS}
    assert PaymentResult("R", Outcome.APPROVED, Kind.SALE).approved
    assert not PaymentResult("R", Outcome.VOIDED, Kind.SALE).approved


def test_config_defaults_and_checks(tmp_path: Path) -> None:
    payment = load_config().devices.payment
    assert payment.driver == "sim"

    path = tmp_path / "kiosk.toml"
    path.write_text(
        '[devices.payment]\nsim_delay_factor = 0\n'
        '[devices.payment.sim_amount_rules]\n51 = "decline"\n'
    )
    payment = load_config(path).devices.payment
    assert payment.sim_amount_rules == {51: "decline"}

    with pytest.raises(ValidationError):
        PaymentConfig(sim_amount_rules={100: "decline"})
    with pytest.raises(ValidationError):
        PaymentConfig(sim_amount_rules={1: "explode"})  # type: ignore[dict-item]
    with pytest.raises(ValidationError):  # the currency is the property's: [backend] currency
        PaymentConfig(currency="EUR")  # type: ignore[call-arg]
