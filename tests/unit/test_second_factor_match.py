"""The second factor's comparison: phone digits or surname, never an exception."""

from decimal import Decimal

import pytest

from kiosk.backends.base import Reservation
from kiosk.journeys.identify import second_factor_matches

BOOKING = Reservation(
    reservation_id="42",
    reference="NO42",
    holder_name="Mei Ling Wong",
    holder_phone="+86 138 0000 1234",
    stays=(),
    total=Decimal("0"),
    paid=Decimal("0"),
    amount_due=Decimal("0"),
    currency="CNY",
)


@pytest.mark.parametrize(
    ("typed", "by_phone", "expected"),
    [
        ("1234", True, True),
        (" 1234 ", True, True),
        ("1235", True, False),
        ("wong", False, True),
        ("MEI LING WONG", False, True),
        ("Ling", False, False),
        ("", False, False),
        ("\ud800", False, False),
        ("12\udfff", True, False),
    ],
)
def test_second_factor_matches(typed: str, by_phone: bool, expected: bool) -> None:
    assert second_factor_matches(typed, BOOKING, by_phone=by_phone) is expected
