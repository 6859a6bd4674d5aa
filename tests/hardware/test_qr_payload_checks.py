"""Validation of decoded QR bytes: bounded, UTF-8, printable; errors never quote the payload."""

from __future__ import annotations

import pytest

from hardware.qr.payload import PayloadRejected, RejectReason, validate_payload

BOOKING = "https://hotel.example/checkin?v=1&t=pms&order=42&no=202603041332075890"


def test_a_booking_payload_passes_unchanged() -> None:
    assert validate_payload(BOOKING.encode()) == BOOKING
    assert validate_payload("预订 42 Zürich".encode()) == "预订 42 Zürich"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", RejectReason.EMPTY),
        (b"x" * 513, RejectReason.TOO_LONG),
        ("é".encode() * 257, RejectReason.TOO_LONG),  # 514 bytes though 257 characters
        (b"order=42\xff\xfe", RejectReason.NOT_UTF8),
        (b"\xc3", RejectReason.NOT_UTF8),  # truncated multi-byte sequence
        (b"\xed\xa0\x80", RejectReason.NOT_UTF8),  # encoded surrogate
        (b"order=42\nforged log line", RejectReason.CONTROL_CHARACTER),
        (b"order=42\x00", RejectReason.CONTROL_CHARACTER),
        (b"a\tb", RejectReason.CONTROL_CHARACTER),
        (b"\x1b[31mred", RejectReason.CONTROL_CHARACTER),
        ("abc\u202egnp.exe".encode(), RejectReason.CONTROL_CHARACTER),  # bidi override
        ("a\u200bb".encode(), RejectReason.CONTROL_CHARACTER),  # zero-width space
        ("a\u2028b".encode(), RejectReason.CONTROL_CHARACTER),  # line separator
    ],
)
def test_bad_payloads_are_rejected_with_a_reason(raw: bytes, reason: RejectReason) -> None:
    with pytest.raises(PayloadRejected) as caught:
        validate_payload(raw)
    assert caught.value.reason is reason


def test_the_length_bound_is_configurable_and_inclusive() -> None:
    assert validate_payload(b"x" * 512) == "x" * 512
    assert validate_payload(b"x" * 64, max_bytes=64) == "x" * 64
    with pytest.raises(PayloadRejected) as caught:
        validate_payload(b"x" * 65, max_bytes=64)
    assert caught.value.reason is RejectReason.TOO_LONG


def test_the_rejection_does_not_quote_the_payload() -> None:
    secret = "token=SECRET-TOKEN-123&name=Alice\x07"
    with pytest.raises(PayloadRejected) as caught:
        validate_payload(secret.encode())
    assert "SECRET" not in str(caught.value) and "Alice" not in str(caught.value)
    assert "U+0007" in str(caught.value)
