"""PC/SC part 3 pseudo-APDUs of ACR122U-class contactless readers, and the ATR of their cards.

The reader, not the card, answers these (class ``FF``): it turns them into the card's own
commands. Status words: ``90 00`` success, ``63 00`` failure (wrong key, access refused,
block not authenticated); anything else is a protocol error.
"""

from __future__ import annotations

from dataclasses import dataclass

from hardware.card_encoder.access_bits import KEY_LENGTH, Key
from hardware.card_encoder.protocol import CardCommError, CardType, WrongCardType

SW_OK = 0x9000
SW_FAILED = 0x6300

GET_UID = bytes.fromhex("FFCA000000")

# PC/SC part 3, supplement: registered application provider id of the PC/SC workgroup,
# and the card names of the "standard" byte that follows it in the ATR.
PCSC_RID = bytes.fromhex("A000000306")
_CARD_NAMES = {0x0001: CardType.MIFARE_CLASSIC_1K, 0x0003: CardType.ULTRALIGHT}


def load_key(key: bytes, slot: int = 0) -> bytes:
    """Put a 6-byte MIFARE key into the reader's volatile key slot ``slot``."""
    if len(key) != KEY_LENGTH:
        raise ValueError("MIFARE Classic keys are 6 bytes")
    return bytes([0xFF, 0x82, 0x00, slot, KEY_LENGTH]) + key


def authenticate(block: int, key_type: Key, slot: int = 0) -> bytes:
    """General authenticate of ``block``'s sector with the key in ``slot`` used as A or B."""
    kind = 0x60 if key_type is Key.A else 0x61
    return bytes([0xFF, 0x86, 0x00, 0x00, 0x05, 0x01, 0x00, block, kind, slot])


def read_binary(block: int, length: int) -> bytes:
    return bytes([0xFF, 0xB0, 0x00, block, length])


def update_binary(block: int, data: bytes) -> bytes:
    return bytes([0xFF, 0xD6, 0x00, block, len(data)]) + data


@dataclass(frozen=True)
class Response:
    data: bytes
    sw: int

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    @property
    def failed(self) -> bool:
        """The reader's "operation failed" (``63 00``): a refusal, not a broken exchange."""
        return self.sw == SW_FAILED


def parse_response(raw: bytes) -> Response:
    """Split a reply into data and status word; ``CardCommError`` for a malformed one."""
    if len(raw) < 2:
        raise CardCommError(f"reply of {len(raw)} bytes has no status word")
    sw = int.from_bytes(raw[-2:], "big")
    if sw not in (SW_OK, SW_FAILED):
        raise CardCommError(f"unexpected status word {sw:04X}")
    return Response(bytes(raw[:-2]), sw)


def _historical_bytes(atr: bytes) -> bytes:
    """The historical bytes of an ATR (ISO 7816-3), after checking its structure and TCK."""
    if len(atr) < 2 or atr[0] not in (0x3B, 0x3F):
        raise WrongCardType("not an ISO 7816-3 ATR")
    count = atr[1] & 0x0F
    index, indicator, protocols = 2, atr[1] >> 4, set()
    while True:
        index += bin(indicator & 0x0F).count("1")  # TA, TB, TC
        if not indicator & 0x08:  # no TD: last group of interface bytes
            break
        if index >= len(atr):
            raise WrongCardType("ATR ends inside its interface bytes")
        protocols.add(atr[index] & 0x0F)
        indicator = atr[index] >> 4
        index += 1
    historical = atr[index : index + count]
    if len(historical) != count:
        raise WrongCardType("ATR shorter than its historical bytes")
    has_tck = bool(protocols - {0})
    if has_tck:
        if len(atr) != index + count + 1:
            raise WrongCardType("ATR has no check byte")
        check = 0
        for byte in atr[1:]:
            check ^= byte
        if check:
            raise WrongCardType("ATR check byte is wrong")
    return historical


def card_type_from_atr(atr: bytes) -> CardType:
    """The card type a PC/SC part 3 reader announces in the ATR of a storage card."""
    hist = _historical_bytes(atr)
    # 80 = category indicator, 4F = application identifier tag, then its length.
    if len(hist) < 11 or hist[0] != 0x80 or hist[1] != 0x4F or hist[3:8] != PCSC_RID:
        raise WrongCardType("not a PC/SC part 3 storage card ATR")
    name = int.from_bytes(hist[9:11], "big")
    try:
        return _CARD_NAMES[name]
    except KeyError:
        raise WrongCardType(f"card name {name:04X} is not one this encoder writes") from None


def atr_for(card_type: CardType) -> bytes:
    """The ATR a PC/SC part 3 reader shows for a ``card_type`` card (for the simulator)."""
    name = next(n for n, t in _CARD_NAMES.items() if t is card_type)
    # T=1 ATR; historical bytes: 80 4F 0C <RID> <standard 03: ISO 14443-A part 3> <name> RFU.
    body = bytes.fromhex("8F8001804F0C") + PCSC_RID + b"\x03" + name.to_bytes(2, "big") + bytes(4)
    check = 0
    for byte in body:
        check ^= byte
    return b"\x3b" + body + bytes([check])
