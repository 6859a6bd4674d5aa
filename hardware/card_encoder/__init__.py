"""Card encoders: the ``CardEncoder`` protocol, the PC/SC driver and a simulator.

The card layout is documented in ``hardware/card_encoder/layout.py``.
"""

from __future__ import annotations

from hardware.card_encoder.config import EncoderConfig, SectorKeys
from hardware.card_encoder.layout import CardLayout
from hardware.card_encoder.protocol import (
    AuthFailure,
    BadTrailer,
    CardCommError,
    CardEncoder,
    CardEncoderError,
    CardInfo,
    CardRemoved,
    CardType,
    CorruptPayload,
    EncoderTimeout,
    NoCard,
    NoReader,
    PayloadTooLarge,
    PresenceEvent,
    VerifyMismatch,
    WrongCardType,
)


def open_encoder(config: EncoderConfig) -> CardEncoder:
    """The encoder ``config`` names, opened (``NoReader`` if its reader is not there)."""
    encoder = make_encoder(config)
    encoder.open()
    return encoder


def make_encoder(config: EncoderConfig) -> CardEncoder:
    """The encoder ``config`` names, not yet opened."""
    encoder: CardEncoder
    if config.driver == "pcsc":
        from hardware.card_encoder.pcsc import PcscEncoder

        encoder = PcscEncoder(
            config.reader, config.layout, config.sector_keys(), timeout=config.timeout_s
        )
    else:
        from hardware.card_encoder.simulator import SimEncoder

        encoder = SimEncoder(CardType(config.sim_card_type), config.layout, config.sector_keys())
    return encoder


__all__ = [
    "AuthFailure",
    "BadTrailer",
    "CardCommError",
    "CardEncoder",
    "CardEncoderError",
    "CardInfo",
    "CardLayout",
    "CardRemoved",
    "CardType",
    "CorruptPayload",
    "EncoderConfig",
    "EncoderTimeout",
    "NoCard",
    "NoReader",
    "PayloadTooLarge",
    "PresenceEvent",
    "SectorKeys",
    "VerifyMismatch",
    "WrongCardType",
    "make_encoder",
    "open_encoder",
]
