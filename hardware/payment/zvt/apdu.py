"""The ZVT wire format: APDUs, BCD, and the BMP fields of a data block.

An APDU is ``CLASS INSTR LEN DATA``. LEN is one byte, or ``FF`` followed by a two-byte
length, low byte first, when DATA is longer than 254 bytes. A data block is a sequence of
BMP fields: a tag byte, then a value whose size the tag fixes (``04`` amount: 6 bytes
BCD), or an LLVAR/LLLVAR value (two or three ``Fx`` bytes give the length in decimal
digits), or the TLV container ``06`` (a BER length: ``81 xx``, ``82 xx xx``). A field the
table does not know cannot be skipped (its size is unknown), so it is a protocol error.

Source: the public ZVT specification (PA00P015, "ZVT-Protokoll", terminalhersteller.de)
as summarised in public descriptions; the sizes below are the ones the kiosk meets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pycountry

from hardware.payment.protocol import MINOR_UNITS, InvalidPaymentRequest, TerminalProtocolError

# Control fields (CLASS << 8 | INSTR) the driver sends or reads.
REGISTRATION = 0x0600
AUTHORISATION = 0x0601
COMPLETION = 0x060F
PT_ABORT = 0x061E  # the terminal ends a transaction without success: one result-code byte
REPEAT_RECEIPT = 0x0620
PRE_AUTHORISATION = 0x0622
PRE_AUTH_REVERSAL = 0x0625
REVERSAL = 0x0630
REFUND = 0x0631
ECR_ABORT = 0x06B0  # the kiosk asks the terminal to abort the transaction in progress
PRINT_LINE = 0x06D1
PRINT_TEXT_BLOCK = 0x06D3
STATUS_INFO = 0x040F
INTERMEDIATE_STATUS = 0x04FF
ACK = 0x8000
NEGATIVE_CLASS = 0x84  # 84 xx: the command is refused with error code xx
TERMINAL_CLASSES = {0x04, 0x06, 0x80, NEGATIVE_CLASS}  # the classes a terminal sends

# BMP tags.
AMOUNT, TRACE, RESULT, PAN, APPROVAL, CURRENCY, RECEIPT = 0x04, 0x0B, 0x27, 0x22, 0x3B, 0x49, 0x87
TLV_CONTAINER = 0x06

FIXED_SIZES = {
    0x01: 1,
    0x02: 1,
    0x03: 1,
    0x04: 6,
    0x05: 1,
    0x0B: 3,
    0x0C: 3,
    0x0D: 2,
    0x0E: 2,
    0x17: 2,
    0x19: 1,
    0x27: 1,
    0x29: 4,
    0x2A: 15,
    0x37: 3,
    0x3A: 2,
    0x3B: 8,
    0x49: 2,
    0x87: 2,
    0x88: 3,
    0x8A: 1,
    0x8C: 1,
    0xA0: 1,
    0xBA: 5,
    0xD0: 1,
    0xD1: 1,
    0xD3: 1,
}
LLVAR = {0x22, 0x23, 0x2D, 0x8B, 0xA7}
LLLVAR = {0x24, 0x3C, 0x60, 0x9A, 0xAF}

MAX_MINOR_UNITS = 10**12 - 1  # twelve BCD digits

# Result codes (BMP 27, 06 1E) as an operator reads them; 01-63 are the card issuer's.
RESULT_TEXT = {
    0x64: "card not readable",
    0x65: "card data not present",
    0x66: "processing error",
    0x6C: "aborted (timeout or the abort key)",
    0x6F: "wrong currency",
    0x78: "card expired",
    0x83: "function not possible",
    0x9A: "ZVT protocol error",
    0xA0: "receiver not ready",
    0xB4: "already reversed",
    0xB5: "reversal not possible",
}
ABORTED = 0x6C
ALREADY_REVERSED = 0xB4
BUSY = 0xA0


class ZvtFormatError(TerminalProtocolError):
    """Bytes from the terminal that are not a well-formed ZVT APDU or data block."""


@dataclass(frozen=True)
class Apdu:
    control: int  # CLASS << 8 | INSTR
    data: bytes = b""

    @property
    def negative(self) -> bool:
        return self.control >> 8 == NEGATIVE_CLASS

    @property
    def error_code(self) -> int:
        """84 xx: the refusal's code (0 for 84 00, an acknowledgement)."""
        return self.control & 0xFF

    def encode(self) -> bytes:
        size = len(self.data)
        if size > 0xFFFF:
            raise ValueError("an APDU carries at most 65535 bytes")
        length = bytes([size]) if size < 0xFF else bytes([0xFF, size & 0xFF, size >> 8])
        return self.control.to_bytes(2, "big") + length + self.data


def read_apdu(read_exact: Callable[[int], bytes]) -> Apdu:
    """One APDU from the terminal, from ``read_exact(n)`` (exactly n bytes or raises). A
    class the terminal never sends is line noise: refused before its "length" is read."""
    head = read_exact(3)
    if head[0] not in TERMINAL_CLASSES:
        raise ZvtFormatError(f"not a ZVT APDU from a terminal: {head.hex()}")
    size = head[2]
    if size == 0xFF:
        low, high = read_exact(2)
        size = low | high << 8
    return Apdu(int.from_bytes(head[:2], "big"), read_exact(size) if size else b"")


def bcd(number: int, size: int) -> bytes:
    """``number`` as ``size`` bytes of packed BCD, most significant digit first."""
    digits = f"{number:0{size * 2}d}"
    if number < 0 or len(digits) > size * 2:
        raise ValueError(f"{number} does not fit {size} BCD bytes")
    return bytes.fromhex(digits)


def from_bcd(value: bytes) -> int:
    digits = value.hex()
    if not digits.isdigit():
        raise ZvtFormatError(f"not BCD: {digits}")
    return int(digits)


def minor_units(amount: Decimal, currency: str) -> int:
    """``amount`` in the currency's minor units (cents, fen), as BMP 04 carries it."""
    units = amount.scaleb(MINOR_UNITS.get(currency, 2))
    if units != units.to_integral_value() or not 0 < units <= MAX_MINOR_UNITS:
        raise InvalidPaymentRequest(f"{amount} {currency} cannot be sent to the terminal")
    return int(units)


def from_minor_units(units: int, currency: str) -> Decimal:
    return Decimal(units).scaleb(-MINOR_UNITS.get(currency, 2))


def currency_code(currency: str) -> bytes:
    """BMP 49's value: the ISO 4217 numeric code in two BCD bytes (CNY 156 -> 01 56)."""
    known = pycountry.currencies.get(alpha_3=currency)
    if known is None:
        raise InvalidPaymentRequest(f"no ISO 4217 numeric code known for {currency}")
    return bcd(int(known.numeric), 2)


def currency_of(code: bytes) -> str:
    known = pycountry.currencies.get(numeric=f"{from_bcd(code):03d}")
    if known is None:
        raise ZvtFormatError(f"unknown currency code {from_bcd(code)}")
    return str(known.alpha_3)


def password(digits: str) -> bytes:
    """The terminal's six-digit password as three BCD bytes."""
    return bcd(int(digits), 3)


def amount_fields(amount: Decimal, currency: str) -> bytes:
    """BMP 04 (amount) and BMP 49 (currency) of a request."""
    return (
        bytes([AMOUNT])
        + bcd(minor_units(amount, currency), 6)
        + bytes([CURRENCY])
        + currency_code(currency)
    )


def parse_bmps(data: bytes) -> dict[int, bytes]:
    """A data block's fields, tag -> raw value (LLVAR/LLLVAR without their length)."""
    fields: dict[int, bytes] = {}
    at = 0
    while at < len(data):
        tag = data[at]
        at += 1
        if tag in FIXED_SIZES:
            size = FIXED_SIZES[tag]
        elif tag in LLVAR or tag in LLLVAR:
            digits = 2 if tag in LLVAR else 3
            size = _var_length(data[at : at + digits], digits)
            at += digits
        elif tag == TLV_CONTAINER:
            size, taken = _ber_length(data[at : at + 3])
            at += taken
        else:
            raise ZvtFormatError(f"unknown BMP {tag:02X} at byte {at - 1}")
        if at + size > len(data):
            raise ZvtFormatError(f"BMP {tag:02X} runs past the end of the data block")
        fields[tag] = data[at : at + size]
        at += size
    return fields


def _var_length(prefix: bytes, digits: int) -> int:
    if len(prefix) != digits or any(byte >> 4 != 0xF or byte & 0xF > 9 for byte in prefix):
        raise ZvtFormatError(f"bad LL(L)VAR length {prefix.hex()}")
    return int("".join(str(byte & 0xF) for byte in prefix))


def _ber_length(prefix: bytes) -> tuple[int, int]:
    """A TLV container's length and how many bytes it took."""
    if not prefix:
        raise ZvtFormatError("TLV container without a length")
    first = prefix[0]
    if first < 0x80:
        return first, 1
    count = first & 0x7F
    if count not in (1, 2) or len(prefix) < 1 + count:
        raise ZvtFormatError(f"bad TLV length {prefix.hex()}")
    return int.from_bytes(prefix[1 : 1 + count], "big"), 1 + count


def last4(pan: bytes) -> str | None:
    """The last four digits of a masked PAN (BCD; masked digits are E, padding F), or None
    when they are masked too. The rest of the PAN is never kept."""
    digits = pan.hex().upper().rstrip("F")
    tail = digits[-4:]
    return tail if len(tail) == 4 and tail.isdigit() else None


def result_text(code: int) -> str:
    if 1 <= code <= 0x63:
        return f"declined by the card issuer (code {code:02X})"
    return f"{RESULT_TEXT.get(code, 'refused')} (code {code:02X})"
