"""Where the key payload lives on a card: the documented, configurable card layout.

The payload is the bytes of the PMS's ``ic_card_string`` (about 70 bytes of JSON). It is
stored in a *data area* made of fixed-size units, written in order:

MIFARE Classic 1K
    16 sectors x 4 blocks x 16 bytes. Block 0 is the manufacturer block and sector 0 is
    left to the card's directory (MAD), so the area starts at ``start_sector`` (default 1)
    and spans ``sectors`` sectors (default 4). Block 3 of every sector is its trailer
    (keys and access bits) and never holds data, so the area is blocks 0-2 of each of
    those sectors: by default blocks 4,5,6, 8,9,10, 12,13,14, 16,17,18 (192 bytes). Only
    the sectors of the area are re-keyed; other sectors (a lock vendor's) are left alone.

MIFARE Ultralight / NTAG21x
    Pages of 4 bytes. Pages 0-3 hold the UID, lock bytes and OTP/capability container, so
    the area is ``ultralight_user_pages`` pages from page 4 (Ultralight: 12, NTAG213: 36
    (the default), NTAG215: 126, NTAG216: 222).

Contents of the area, with ``header`` on (the default)::

    bytes 0-1   payload length, big-endian
    bytes 2-3   CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of the payload, big-endian
    bytes 4-    the payload, verbatim
    then zeros to the end of the area

Without the header the payload starts at byte 0 and the reader takes the area with its
trailing zero bytes removed, so a payload ending in 0x00 cannot be stored that way.
Every write covers the whole area, so no byte of an earlier, longer payload survives.
An all-zero area is a blank (erased) card: it holds the empty payload.
"""

from __future__ import annotations

import binascii

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hardware.card_encoder.protocol import CardType, CorruptPayload, PayloadTooLarge

CLASSIC_1K_SECTORS = 16
BLOCKS_PER_SECTOR = 4
BLOCK_SIZE = 16
PAGE_SIZE = 4
FIRST_USER_PAGE = 4
HEADER_SIZE = 4


class CardLayout(BaseModel):
    """``[devices.encoder.layout]``: where the key payload goes on a card
    (hardware/card_encoder/layout.py explains the format)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start_sector: int = Field(
        1, ge=1, le=CLASSIC_1K_SECTORS - 1, description="MIFARE Classic: first data sector"
    )
    sectors: int = Field(
        4, ge=1, le=CLASSIC_1K_SECTORS - 1, description="MIFARE Classic: sectors in the data area"
    )
    header: bool = Field(True, description="length + CRC-16 before the payload")
    ultralight_user_pages: int = Field(
        36, ge=1, le=222, description="Ultralight/NTAG: pages in the data area"
    )

    @model_validator(mode="after")
    def _fits_1k(self) -> CardLayout:
        if self.start_sector + self.sectors > CLASSIC_1K_SECTORS:
            raise ValueError("start_sector + sectors goes past the last sector of a 1K card")
        return self


def unit_size(card_type: CardType) -> int:
    """Bytes per block (Classic) or page (Ultralight)."""
    return BLOCK_SIZE if card_type is CardType.MIFARE_CLASSIC_1K else PAGE_SIZE


def sectors(layout: CardLayout) -> range:
    """The Classic sectors of the area."""
    return range(layout.start_sector, layout.start_sector + layout.sectors)


def trailer_block(sector: int) -> int:
    return sector * BLOCKS_PER_SECTOR + BLOCKS_PER_SECTOR - 1


def sector_of(block: int) -> int:
    return block // BLOCKS_PER_SECTOR


def data_units(layout: CardLayout, card_type: CardType) -> tuple[int, ...]:
    """Block or page numbers of the area, in payload order (Classic trailers skipped)."""
    if card_type is CardType.MIFARE_CLASSIC_1K:
        return tuple(
            sector * BLOCKS_PER_SECTOR + b
            for sector in sectors(layout)
            for b in range(BLOCKS_PER_SECTOR - 1)
        )
    return tuple(range(FIRST_USER_PAGE, FIRST_USER_PAGE + layout.ultralight_user_pages))


def capacity(layout: CardLayout, card_type: CardType) -> int:
    """The largest payload the area holds."""
    area = len(data_units(layout, card_type)) * unit_size(card_type)
    return area - HEADER_SIZE if layout.header else area


def _crc(payload: bytes) -> int:
    return binascii.crc_hqx(payload, 0xFFFF)


def pack(payload: bytes, layout: CardLayout, card_type: CardType) -> list[tuple[int, bytes]]:
    """Every unit of the area with the bytes it must hold for ``payload``."""
    if len(payload) > capacity(layout, card_type):
        raise PayloadTooLarge(
            f"{len(payload)} bytes do not fit; the layout holds {capacity(layout, card_type)}"
        )
    if layout.header:
        content = len(payload).to_bytes(2, "big") + _crc(payload).to_bytes(2, "big") + payload
    elif payload.endswith(b"\0"):
        raise PayloadTooLarge("without the header a payload cannot end with a zero byte")
    else:
        content = payload
    units = data_units(layout, card_type)
    size = unit_size(card_type)
    content = content.ljust(len(units) * size, b"\0")
    return [(unit, content[i * size : (i + 1) * size]) for i, unit in enumerate(units)]


def blank(layout: CardLayout, card_type: CardType) -> list[tuple[int, bytes]]:
    """Every unit of the area, zeroed: what an erased card holds."""
    size = unit_size(card_type)
    return [(unit, bytes(size)) for unit in data_units(layout, card_type)]


def unpack(area: bytes, layout: CardLayout) -> bytes:
    """The payload the area's bytes hold (as read, in unit order); ``CorruptPayload`` if none."""
    if not layout.header:
        return area.rstrip(b"\0")
    if not any(area):
        return b""
    if len(area) < HEADER_SIZE:
        raise CorruptPayload("the data area is shorter than its header")
    length = int.from_bytes(area[0:2], "big")
    if length > len(area) - HEADER_SIZE:
        raise CorruptPayload(f"the header's length {length} runs past the data area")
    payload = area[HEADER_SIZE : HEADER_SIZE + length]
    if int.from_bytes(area[2:4], "big") != _crc(payload):
        raise CorruptPayload("the payload's CRC does not match its header")
    return payload
