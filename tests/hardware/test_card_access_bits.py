"""MIFARE Classic access bytes: known vectors from NXP's datasheet, round trips, refusals."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hardware.card_encoder import BadTrailer
from hardware.card_encoder.access_bits import (
    SITE,
    TRANSPORT,
    AccessConditions,
    Key,
    build_trailer,
    check_trailer,
    data_access,
    decode,
    encode,
    trailer_access,
)

KEY_A = bytes.fromhex("A0A1A2A3A4A5")
KEY_B = bytes.fromhex("B0B1B2B3B4B5")
codes = st.tuples(*[st.integers(0, 7)] * 4).map(AccessConditions)


@pytest.mark.parametrize(
    ("conditions", "access"),
    [
        (TRANSPORT, "FF0780"),  # factory default
        (SITE, "787788"),  # data: read A|B, write B; trailer: changed with B only
        (AccessConditions((0, 0, 0, 0b011)), "7F0788"),
        (AccessConditions((0b111, 0b111, 0b111, 0b111)), "00F0FF"),
    ],
)
def test_known_access_bytes(conditions: AccessConditions, access: str) -> None:
    assert encode(conditions) == bytes.fromhex(access)
    assert decode(bytes.fromhex(access)) == conditions


@given(codes)
def test_encode_decode_round_trip(conditions: AccessConditions) -> None:
    assert decode(encode(conditions)) == conditions


@given(codes, st.integers(0, 23))
def test_any_single_flipped_bit_is_refused(conditions: AccessConditions, bit: int) -> None:
    access = bytearray(encode(conditions))
    access[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(BadTrailer):
        decode(bytes(access))


def test_datasheet_rules_for_the_two_layouts_in_use() -> None:
    # Transport: key B is readable, so it is no key at all; key A does everything.
    assert data_access(TRANSPORT, 0).write == {Key.A}
    assert trailer_access(TRANSPORT).write_key_b == {Key.A}
    # Site: the locks read with A, only the encoder's B writes; B is not readable.
    assert data_access(SITE, 1).read == {Key.A, Key.B}
    assert data_access(SITE, 1).write == {Key.B}
    rules = trailer_access(SITE)
    assert rules.read_key_b == frozenset() and rules.write_access == {Key.B}


def test_check_trailer_accepts_layouts_the_encoder_and_locks_can_use() -> None:
    assert check_trailer(build_trailer(KEY_A, KEY_B, encode(SITE))) == SITE
    # Data open to both keys, trailer changed with B only.
    open_data = build_trailer(KEY_A, KEY_B, bytes.fromhex("7F0788"))
    assert check_trailer(open_data).codes == (0, 0, 0, 0b011)


@pytest.mark.parametrize(
    ("access", "why"),
    [
        ("FF0788", "self-consistent"),
        ("0F00FF", "key A could not read"),  # all 011: B only
        ("0F078F", "could no longer write"),  # data 010: nobody writes
        ("FF0780", "could no longer write"),  # transport: B is readable, so no key
        ("70F788", "could no longer change the sector trailer"),  # trailer 111: frozen
    ],
)
def test_check_trailer_refuses(access: str, why: str) -> None:
    trailer = build_trailer(KEY_A, KEY_B, bytes.fromhex(access))
    with pytest.raises(BadTrailer, match=why):
        check_trailer(trailer)


def test_trailer_shape_is_checked() -> None:
    with pytest.raises(BadTrailer):
        check_trailer(bytes(15))
    with pytest.raises(ValueError, match="6 bytes"):
        build_trailer(KEY_A[:5], KEY_B, encode(SITE))
