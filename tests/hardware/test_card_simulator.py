"""The simulated encoder (demo, journey tests): same session as the PC/SC driver, fault knobs,
presence events; plus the ATR parsing, APDU replies and config both drivers rely on."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from hardware.card_encoder import (
    AuthFailure,
    CardCommError,
    CardRemoved,
    CardType,
    EncoderConfig,
    NoCard,
    PresenceEvent,
    VerifyMismatch,
    WrongCardType,
    open_encoder,
)
from hardware.card_encoder.apdu import atr_for, card_type_from_atr, parse_response
from hardware.card_encoder.simulator import SIM_READER, SimEncoder
from tests.hardware.vpcd_card import CLASSIC_4K_ATR

PAYLOAD = b'{"room_id":32,"check_in_time":1743487200,"check_out_time":1743570000}'
SITE = {"site_key_a": SecretStr("A0A1A2A3A4A5"), "site_key_b": SecretStr("B0B1B2B3B4B5")}


def sim(card_type: str = "mifare_classic_1k", **keys: SecretStr) -> SimEncoder:
    encoder = open_encoder(EncoderConfig(sim_card_type=card_type, **keys))  # type: ignore[arg-type]
    assert isinstance(encoder, SimEncoder)
    return encoder


@pytest.mark.parametrize("card_type", ["mifare_classic_1k", "ultralight"])
def test_write_read_erase(card_type: str) -> None:
    encoder = sim(card_type, **SITE)
    card = encoder.write_key(PAYLOAD)
    assert card.card_type is CardType(card_type)
    assert encoder.read_key() == (card, PAYLOAD)
    encoder.erase()
    assert encoder.read_key()[1] == b""


def test_rekeyed_card_refuses_an_encoder_without_the_site_keys() -> None:
    site = sim(**SITE)
    site.write_key(PAYLOAD)
    plain = SimEncoder()
    assert site.card is not None
    plain.insert(site.card)
    with pytest.raises(AuthFailure):
        plain.read_key()


def test_fault_knobs() -> None:
    encoder = sim()
    assert encoder.card is not None
    encoder.card.verify_mismatch = True
    with pytest.raises(VerifyMismatch):
        encoder.write_key(PAYLOAD)
    encoder.card.verify_mismatch = False
    encoder.card.writes_left = 2
    events: list[PresenceEvent] = []
    encoder.watch(events.append)
    with pytest.raises(CardRemoved):
        encoder.write_key(PAYLOAD)
    assert events == [PresenceEvent(SIM_READER, False)]
    with pytest.raises(NoCard):
        encoder.read_key()
    encoder.insert()
    assert events[-1] == PresenceEvent(SIM_READER, True)
    assert encoder.wait_for_card(0).uid == (2).to_bytes(4, "big")  # a new card


@pytest.mark.parametrize("card_type", ["mifare_classic_1k", "ultralight"])
def test_a_card_that_reverts_passes_its_write_check_but_a_fresh_read_differs(
    card_type: str,
) -> None:
    """Only a second read, as a door lock would make, finds that the card kept nothing."""
    encoder = sim(card_type, **SITE)
    assert encoder.card is not None
    encoder.card.reverts = True
    card = encoder.write_key(PAYLOAD)  # its own read-back compares equal: no VerifyMismatch
    assert encoder.read_key() == (card, b"")  # the blank card it was before the write
    encoder.card.reverts = False
    encoder.write_key(PAYLOAD)
    assert encoder.read_key() == (card, PAYLOAD)


def test_atr_round_trip_and_refusals() -> None:
    for card_type in CardType:
        assert card_type_from_atr(atr_for(card_type)) is card_type
    atr = bytearray(atr_for(CardType.MIFARE_CLASSIC_1K))
    atr[-1] ^= 1
    with pytest.raises(WrongCardType, match="check byte"):
        card_type_from_atr(bytes(atr))
    with pytest.raises(WrongCardType, match="0002"):
        card_type_from_atr(CLASSIC_4K_ATR)  # well formed, but a card this encoder does not write
    with pytest.raises(WrongCardType):
        card_type_from_atr(bytes.fromhex("3B8F80"))


def test_malformed_replies_are_typed_errors() -> None:
    assert parse_response(b"\x01\x90\x00").data == b"\x01"
    assert parse_response(b"\x63\x00").failed
    for raw in (b"", b"\x90", b"\x6a\x82"):
        with pytest.raises(CardCommError):
            parse_response(raw)


def test_config_keys_are_secret_and_checked() -> None:
    config = EncoderConfig(**SITE)
    assert "A0A1" not in repr(config) and "A0A1" not in repr(config.sector_keys())
    with pytest.raises(ValidationError, match="12 hex digits") as bad_key:
        EncoderConfig(site_key_a=SecretStr("A0A1A2"), site_key_b=SecretStr("B0B1B2B3B4B5"))
    assert "A0A1A2" not in str(bad_key.value)
    with pytest.raises(ValidationError, match="both site keys"):
        EncoderConfig(site_key_a=SecretStr("A0A1A2A3A4A5"))
    with pytest.raises(ValidationError, match="site_access refused"):
        EncoderConfig(site_access="FF0788", **SITE)
    assert EncoderConfig().sector_keys().rekeys is False
