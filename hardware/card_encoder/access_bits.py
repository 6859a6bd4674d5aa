"""MIFARE Classic access conditions: the three access bytes of a sector trailer.

A sector trailer (block 3 of each sector of a Classic 1K) is key A (6 bytes), the access
bytes (3), a general-purpose byte and key B (6). The access bytes hold, for each of the
four blocks of the sector, three bits C1 C2 C3, stored twice: once plain and once
inverted. A card whose copies disagree blocks the sector for good, so a trailer is
checked here before it is ever written (``check_trailer``).

A block's condition is written as the code ``C1 C2 C3`` (``0b100`` means C1=1, C2=0,
C3=0), as in NXP's MF1S50 datasheet, whose tables ``data_access`` and ``trailer_access``
follow.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum

from hardware.card_encoder.protocol import BadTrailer

KEY_LENGTH = 6
TRAILER_BLOCK = 3  # block index of the trailer inside its sector


class Key(StrEnum):
    A = "A"
    B = "B"


_NONE: frozenset[Key] = frozenset()
_A = frozenset({Key.A})
_B = frozenset({Key.B})
_AB = frozenset({Key.A, Key.B})


@dataclass(frozen=True)
class AccessConditions:
    """The ``C1 C2 C3`` code of data blocks 0, 1, 2 and of the trailer, in that order."""

    codes: tuple[int, int, int, int]

    def __post_init__(self) -> None:
        if len(self.codes) != 4 or any(not 0 <= c <= 7 for c in self.codes):
            raise ValueError("access conditions are four codes of three bits")

    @property
    def trailer(self) -> int:
        return self.codes[TRAILER_BLOCK]


# Fresh cards: key A does everything, key B is readable (so not a key).
TRANSPORT = AccessConditions((0b000, 0b000, 0b000, 0b001))
# The site's: data read with A or B, written with B; the trailer only changed with B.
SITE = AccessConditions((0b100, 0b100, 0b100, 0b011))


@dataclass(frozen=True)
class DataAccess:
    read: frozenset[Key]
    write: frozenset[Key]


@dataclass(frozen=True)
class TrailerAccess:
    write_key_a: frozenset[Key]
    read_access: frozenset[Key]
    write_access: frozenset[Key]
    read_key_b: frozenset[Key]
    write_key_b: frozenset[Key]


_DATA = {
    0b000: DataAccess(_AB, _AB),
    0b010: DataAccess(_AB, _NONE),
    0b100: DataAccess(_AB, _B),
    0b110: DataAccess(_AB, _B),  # value block: write B (increment B, decrement A|B)
    0b001: DataAccess(_AB, _NONE),  # value block: decrement only
    0b011: DataAccess(_B, _B),
    0b101: DataAccess(_B, _NONE),
    0b111: DataAccess(_NONE, _NONE),
}

_TRAILER = {
    0b000: TrailerAccess(_A, _A, _NONE, _A, _A),
    0b010: TrailerAccess(_NONE, _A, _NONE, _A, _NONE),
    0b100: TrailerAccess(_B, _AB, _NONE, _NONE, _B),
    0b110: TrailerAccess(_NONE, _AB, _NONE, _NONE, _NONE),
    0b001: TrailerAccess(_A, _A, _A, _A, _A),
    0b011: TrailerAccess(_B, _AB, _B, _NONE, _B),
    0b101: TrailerAccess(_NONE, _AB, _B, _NONE, _NONE),
    0b111: TrailerAccess(_NONE, _AB, _NONE, _NONE, _NONE),
}


def key_b_readable(trailer_code: int) -> bool:
    """Whether key B can be read from the trailer; then it cannot authenticate (datasheet)."""
    return bool(_TRAILER[trailer_code].read_key_b)


def _usable(keys: frozenset[Key], trailer_code: int) -> frozenset[Key]:
    return keys - {Key.B} if key_b_readable(trailer_code) else keys


def data_access(conditions: AccessConditions, block: int) -> DataAccess:
    """Who may read and write data block ``block`` (0-2) of the sector."""
    rule = _DATA[conditions.codes[block]]
    return DataAccess(
        _usable(rule.read, conditions.trailer), _usable(rule.write, conditions.trailer)
    )


def trailer_access(conditions: AccessConditions) -> TrailerAccess:
    """Who may change the keys and read or change the access bytes of the trailer."""
    rule = _TRAILER[conditions.trailer]
    code = conditions.trailer
    return TrailerAccess(*(_usable(getattr(rule, f.name), code) for f in fields(rule)))


def _bit(code: int, c: int) -> int:
    """Bit ``C<c>`` (1, 2 or 3) of a ``C1 C2 C3`` code."""
    return (code >> (3 - c)) & 1


def encode(conditions: AccessConditions) -> bytes:
    """The three access bytes (trailer bytes 6-8) of ``conditions``."""
    c1, c2, c3 = (
        sum(_bit(code, c) << block for block, code in enumerate(conditions.codes))
        for c in (1, 2, 3)
    )
    return bytes(
        [
            ((~c2 & 0xF) << 4) | (~c1 & 0xF),
            (c1 << 4) | (~c3 & 0xF),
            (c3 << 4) | c2,
        ]
    )


def decode(access: bytes) -> AccessConditions:
    """The conditions the three access bytes hold; ``BadTrailer`` if the copies disagree."""
    if len(access) != 3:
        raise BadTrailer(f"access bytes are 3 bytes, not {len(access)}")
    b6, b7, b8 = access
    c1, c2, c3 = b7 >> 4, b8 & 0xF, b8 >> 4
    inverted = (b6 & 0xF, b6 >> 4, b7 & 0xF)
    if any(plain ^ inv != 0xF for plain, inv in zip((c1, c2, c3), inverted, strict=True)):
        raise BadTrailer("access bytes are not self-consistent (inverted copies disagree)")
    return AccessConditions(
        tuple(  # type: ignore[arg-type]
            (((c1 >> block) & 1) << 2) | (((c2 >> block) & 1) << 1) | ((c3 >> block) & 1)
            for block in range(4)
        )
    )


def check_trailer(trailer: bytes, writer: Key = Key.B, reader: Key = Key.A) -> AccessConditions:
    """Validate a 16-byte trailer before writing it; ``BadTrailer`` if it must not be written.

    Refused: inconsistent access bytes; conditions under which ``writer`` (the encoder's
    key from then on) could no longer write the data blocks or change the trailer again,
    which would leave cards the kiosk cannot re-encode; and conditions under which
    ``reader`` (the key the door locks read with) could not read the data blocks.
    """
    if len(trailer) != 16:
        raise BadTrailer(f"a sector trailer is 16 bytes, not {len(trailer)}")
    conditions = decode(trailer[6:9])
    blocks = [data_access(conditions, b) for b in range(TRAILER_BLOCK)]
    if any(writer not in block.write for block in blocks):
        raise BadTrailer(f"key {writer} could no longer write the sector's data blocks")
    if any(reader not in block.read for block in blocks):
        raise BadTrailer(f"key {reader} could not read the sector's data blocks")
    rules = trailer_access(conditions)
    if writer not in rules.write_access or writer not in rules.write_key_b:
        raise BadTrailer(f"key {writer} could no longer change the sector trailer")
    return conditions


def build_trailer(key_a: bytes, key_b: bytes, access: bytes, gpb: int = 0x69) -> bytes:
    """A sector trailer of the two keys and the access bytes (``gpb``: the free user byte)."""
    if len(key_a) != KEY_LENGTH or len(key_b) != KEY_LENGTH:
        raise ValueError("MIFARE Classic keys are 6 bytes")
    return key_a + access + bytes([gpb]) + key_b
