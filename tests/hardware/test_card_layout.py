"""The card layout as pure functions: unit addresses, header, round trips, refusals."""

from __future__ import annotations

import binascii

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from hardware.card_encoder import CardType, CorruptPayload, PayloadTooLarge
from hardware.card_encoder.layout import CardLayout, blank, capacity, data_units, pack, unpack

CLASSIC, ULTRALIGHT = CardType.MIFARE_CLASSIC_1K, CardType.ULTRALIGHT
SEED = bytes.fromhex(
    "7b22726f6f6d5f6964223a33322c22636865636b5f696e5f74696d65223a313734333438373230302c"
    "22636865636b5f6f75745f74696d65223a313734333537303030307d"
)
layouts = st.builds(
    CardLayout,
    start_sector=st.integers(1, 8),
    sectors=st.integers(1, 7),
    header=st.booleans(),
    ultralight_user_pages=st.integers(1, 222),
)


def area(units: list[tuple[int, bytes]]) -> bytes:
    return b"".join(data for _, data in units)


def test_default_classic_area_skips_sector_0_and_trailers() -> None:
    assert data_units(CardLayout(), CLASSIC) == (4, 5, 6, 8, 9, 10, 12, 13, 14, 16, 17, 18)
    assert capacity(CardLayout(), CLASSIC) == 12 * 16 - 4
    assert data_units(CardLayout(start_sector=14, sectors=1), CLASSIC) == (56, 57, 58)


def test_default_ultralight_area_is_ntag213_user_memory() -> None:
    assert data_units(CardLayout(), ULTRALIGHT) == tuple(range(4, 40))
    assert capacity(CardLayout(), ULTRALIGHT) == 36 * 4 - 4


def test_seed_payload_with_header() -> None:
    units = pack(SEED, CardLayout(), CLASSIC)
    content = area(units)
    assert content[:2] == len(SEED).to_bytes(2, "big")
    assert content[2:4] == binascii.crc_hqx(SEED, 0xFFFF).to_bytes(2, "big")
    assert content[4 : 4 + len(SEED)] == SEED and not any(content[4 + len(SEED) :])
    assert unpack(content, CardLayout()) == SEED


@given(layouts, st.sampled_from([CLASSIC, ULTRALIGHT]), st.data())
def test_round_trip(layout: CardLayout, card_type: CardType, data: st.DataObject) -> None:
    payload = data.draw(st.binary(max_size=capacity(layout, card_type)))
    if not layout.header:
        payload = payload.rstrip(b"\0")  # documented: headerless payloads cannot end in 0
    units = pack(payload, layout, card_type)
    assert [u for u, _ in units] == list(data_units(layout, card_type))
    assert unpack(area(units), layout) == payload


@given(layouts, st.sampled_from([CLASSIC, ULTRALIGHT]))
def test_erased_area_holds_the_empty_payload(layout: CardLayout, card_type: CardType) -> None:
    assert unpack(area(blank(layout, card_type)), layout) == b""


def test_too_large_and_trailing_zero_refused() -> None:
    layout = CardLayout(ultralight_user_pages=12)  # a plain Ultralight: 48 bytes
    with pytest.raises(PayloadTooLarge):
        pack(SEED, layout, ULTRALIGHT)
    pack(bytes(capacity(layout, ULTRALIGHT)), layout, ULTRALIGHT)
    with pytest.raises(PayloadTooLarge):
        pack(b"ab\0", CardLayout(header=False), CLASSIC)


@given(st.integers(0, 4 + len(SEED) - 1), st.integers(1, 255))
def test_any_corrupted_header_or_payload_byte_is_detected(index: int, flip: int) -> None:
    content = bytearray(area(pack(SEED, CardLayout(), CLASSIC)))
    content[index] ^= flip
    with pytest.raises(CorruptPayload):
        unpack(bytes(content), CardLayout())


def test_layout_must_fit_a_1k_card() -> None:
    with pytest.raises(ValidationError):
        CardLayout(start_sector=10, sectors=7)
    with pytest.raises(ValidationError):
        CardLayout(start_sector=0)
