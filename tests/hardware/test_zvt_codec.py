"""The ZVT wire format: amounts and currencies as the terminal reads them, APDU lengths,
BMP data blocks, and what is not ZVT (a ``TerminalProtocolError``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hardware.payment import InvalidPaymentRequest, TerminalProtocolError
from hardware.payment.zvt.apdu import (
    Apdu,
    amount_fields,
    from_bcd,
    from_minor_units,
    last4,
    minor_units,
    parse_bmps,
    password,
    read_apdu,
)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (Decimal("128.51"), "CNY", "04 000000012851 49 0156"),
        (Decimal("0.01"), "CNY", "04 000000000001 49 0156"),
        (Decimal("100"), "EUR", "04 000000010000 49 0978"),
        (Decimal("1500"), "JPY", "04 000000001500 49 0392"),  # JPY has no minor units
        (Decimal("9999999999.99"), "CNY", "04 999999999999 49 0156"),
    ],
)
def test_amount_and_currency_are_bcd_minor_units(
    amount: Decimal, currency: str, expected: str
) -> None:
    assert amount_fields(amount, currency) == bytes.fromhex(expected.replace(" ", ""))
    assert from_minor_units(minor_units(amount, currency), currency) == amount


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        (Decimal("10000000000.00"), "CNY"),  # thirteen digits: BMP 04 holds twelve
        (Decimal("1.00"), "XZZ"),  # no numeric code known: never guess one
    ],
)
def test_what_zvt_cannot_carry_is_refused(amount: Decimal, currency: str) -> None:
    with pytest.raises(InvalidPaymentRequest):
        amount_fields(amount, currency)


def test_password_is_three_bcd_bytes() -> None:
    assert password("012345") == bytes.fromhex("012345")


@pytest.mark.parametrize(
    ("size", "length_field"), [(0, "00"), (254, "fe"), (255, "ff ff 00"), (300, "ff 2c 01")]
)
def test_apdu_length_short_and_long_form(size: int, length_field: str) -> None:
    apdu = Apdu(0x040F, bytes(i % 251 for i in range(size)))
    encoded = apdu.encode()
    assert encoded[:2] == b"\x04\x0f"
    assert encoded[2 : 2 + len(bytes.fromhex(length_field))] == bytes.fromhex(length_field)
    buffer = bytearray(encoded)

    def read_exact(n: int) -> bytes:
        chunk = bytes(buffer[:n])
        del buffer[:n]
        assert len(chunk) == n
        return chunk

    assert read_apdu(read_exact) == apdu


def test_a_status_block_is_split_into_its_fields() -> None:
    block = bytes.fromhex(
        "2700"  # result code
        "04000000012851"  # amount
        "0b000123"  # trace
        "870042"  # receipt
        "22f0f86759eeeeeee4242f"  # masked PAN, LLVAR (8 bytes)
        "3cf0f0f364656d"  # additional text, LLLVAR
        "06041f100102"  # TLV container
        "49" "0156"
    )  # fmt: skip
    fields = parse_bmps(block)
    assert fields[0x27] == b"\x00"
    assert fields[0x87] == b"\x00\x42"
    assert fields[0x3C] == b"dem"
    assert fields[0x06] == bytes.fromhex("1f100102")
    assert last4(fields[0x22]) == "4242"
    assert last4(bytes.fromhex("6759EEEEEEEEEEEE")) is None  # all masked: nothing kept


@pytest.mark.parametrize(
    "block",
    [
        "fe01",  # a BMP no table knows: its size is unknown
        "0400000001",  # amount cut short
        "22f1aa",  # LLVAR length not decimal Fx digits
        "22f0f9" "0102",  # LLVAR longer than the block
        "0683",  # TLV length form that does not exist
        "87" "12ab",  # receipt number not BCD is caught where it is read
    ],
)
def test_malformed_blocks_are_protocol_errors(block: str) -> None:
    with pytest.raises(TerminalProtocolError):
        fields = parse_bmps(bytes.fromhex(block))
        from_bcd(fields[0x87])
