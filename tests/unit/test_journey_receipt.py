"""The check-in receipt model: what it shows, and that it carries no more guest data than
an initial."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from kiosk.i18n import Catalogue
from kiosk.journeys.receipt import (
    QR_MAX_CHARS,
    ReceiptFacts,
    build_receipt,
    initial_of,
    receipt_qr_text,
    receipt_rows,
)

FACTS = ReceiptFacts(
    booking_reference="202603041400000002",
    holder_initial=initial_of("Wei Wang"),
    rooms=("202",),
    arrival=datetime(2026, 3, 4, 6, 0, tzinfo=UTC),
    departure=datetime(2026, 3, 6, 4, 0, tzinfo=UTC),
    paid=Decimal("676.00"),
    currency="CNY",
    card_last4="4242",
    approval_code="123456",
    deposit=Decimal("300"),
)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.load(tz="Asia/Shanghai")


def test_initial_of() -> None:
    assert (
        initial_of("  Wei Wang ") == "W." and initial_of("王伟") == "王." and initial_of("") == ""
    )


def test_receipt_shows_booking_room_dates_and_payment(catalogue: Catalogue) -> None:
    text = "\n".join(receipt_rows(build_receipt(FACTS, catalogue, "en"), columns=48))
    for expected in ("202603041400000002", "W.", "202", "676.00 CNY", "**** 4242", "123456"):
        assert expected in text
    assert "300.00 CNY" in text  # the deposit held
    assert "14:00" in text  # arrival in the property's time zone, not UTC
    assert "Wang" not in text and "Wei" not in text


def test_nothing_due_shows_no_payment_lines(catalogue: Catalogue) -> None:
    facts = ReceiptFacts(**{**FACTS.__dict__, "paid": Decimal("0"), "deposit": Decimal("0")})
    receipt = build_receipt(facts, catalogue, "en")
    text = "\n".join(receipt_rows(receipt, columns=48))
    assert "4242" not in text and "CNY" not in text


def test_the_on_screen_qr_text_is_bounded_and_has_no_rules(catalogue: Catalogue) -> None:
    facts = ReceiptFacts(**{**FACTS.__dict__, "rooms": tuple(str(n) for n in range(200))})
    text = receipt_qr_text(build_receipt(facts, catalogue, "zh_Hans"))
    assert 0 < len(text) <= QR_MAX_CHARS
    assert "----" not in text and "202603041400000002" in text
