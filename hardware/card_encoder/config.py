"""``[devices.encoder]``: which card encoder, its reader, the card layout and the sector keys.

Keys are hex strings held as ``SecretStr`` so they never show in logs or reprs. Never
commit a site's real keys: set them in the site's own config file or through
``KIOSK_DEVICES__ENCODER__SITE_KEY_A`` / ``..._SITE_KEY_B``. With no site keys the cards
keep their transport (factory) keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from hardware.card_encoder import access_bits
from hardware.card_encoder.access_bits import KEY_LENGTH, Key
from hardware.card_encoder.layout import CardLayout
from hardware.card_encoder.protocol import BadTrailer

# NXP's factory default: public, in every datasheet.
DEFAULT_TRANSPORT_KEY = "FFFFFFFFFFFF"


@dataclass(frozen=True)
class SectorKeys:
    """The MIFARE Classic keys the encoder uses; key bytes are kept out of ``repr``."""

    transport: bytes = field(repr=False)
    site_a: bytes | None = field(default=None, repr=False)
    site_b: bytes | None = field(default=None, repr=False)
    site_access: bytes = access_bits.encode(access_bits.SITE)

    @property
    def rekeys(self) -> bool:
        """Whether sectors are moved from the transport key to the site's keys."""
        return self.site_a is not None and self.site_b is not None

    def check_before_write(self) -> None:
        """``BadTrailer`` now, before any APDU, if re-keying would write a bad trailer."""
        if self.rekeys:
            self.site_trailer()

    def site_trailer(self) -> bytes:
        """The trailer written when re-keying; ``BadTrailer`` if it must not be written."""
        if self.site_a is None or self.site_b is None:
            raise BadTrailer("no site keys to write")
        trailer = access_bits.build_trailer(self.site_a, self.site_b, self.site_access)
        access_bits.check_trailer(trailer, Key.B)
        return trailer


def _key_bytes(value: SecretStr | None) -> bytes | None:
    return None if value is None else bytes.fromhex(value.get_secret_value())


class EncoderConfig(BaseModel):
    """``[devices.encoder]``: which card encoder, its reader, the card layout and the keys."""

    model_config = ConfigDict(extra="forbid")

    driver: Literal["sim", "pcsc"] = Field("sim", description="sim, or a PC/SC reader")
    reader: str = Field(
        "", description='pcsc: reader name or part of it; "" = first contactless reader'
    )
    layout: CardLayout = CardLayout()
    transport_key: SecretStr = Field(
        SecretStr(DEFAULT_TRANSPORT_KEY), description="key A of blank cards (hex, 6 bytes)"
    )
    site_key_a: SecretStr | None = Field(
        None, description="the site's key A (the locks read with it); unset: cards keep the "
        "transport keys"
    )
    site_key_b: SecretStr | None = Field(
        None, description="the site's key B (the encoder writes with it)"
    )
    site_access: str = Field(
        access_bits.encode(access_bits.SITE).hex().upper(),
        description="access bytes 6-8 of re-keyed trailers (hex)",
    )
    timeout_s: float = Field(2.0, gt=0, le=30, description="bound of every reader call")
    sim_card_type: Literal["mifare_classic_1k", "ultralight"] = Field(
        "mifare_classic_1k", description="sim: the card it pretends is on the antenna"
    )

    @field_validator("transport_key", "site_key_a", "site_key_b")
    @classmethod
    def _six_hex_bytes(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            text = value.get_secret_value()
            try:
                ok = len(bytes.fromhex(text)) == KEY_LENGTH
            except ValueError:
                ok = False
            if not ok:
                # The key itself is never quoted: it is a secret.
                raise ValueError("a MIFARE key is 12 hex digits")
        return value

    @model_validator(mode="after")
    def _site_keys_checked(self) -> EncoderConfig:
        if (self.site_key_a is None) != (self.site_key_b is None):
            raise ValueError("set both site keys, or neither")
        try:
            access = bytes.fromhex(self.site_access)
        except ValueError:
            raise ValueError("site_access is hex") from None
        if self.site_key_a is not None:
            try:
                self.sector_keys().site_trailer()
            except BadTrailer as exc:
                raise ValueError(f"site_access refused: {exc}") from None
        elif len(access) != 3:
            raise ValueError("site_access is 3 bytes")
        return self

    def sector_keys(self) -> SectorKeys:
        return SectorKeys(
            transport=bytes.fromhex(self.transport_key.get_secret_value()),
            site_a=_key_bytes(self.site_key_a),
            site_b=_key_bytes(self.site_key_b),
            site_access=bytes.fromhex(self.site_access),
        )
