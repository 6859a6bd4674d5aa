"""What the kiosk needs from a card encoder: write a room key to the card on the antenna, check it.

The journey's card step: the dispenser moves a card to the RF position -> ``write_key``
(writes the payload, reads it back and compares; raises on any difference) -> the
dispenser presents the card. Returned cards go through ``erase``. All calls block (run
them with ``asyncio.to_thread``) and end within bounded time; every failure is one of the
typed errors below, all under ``CardEncoderError``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from hardware.health import DeviceHealth


class CardType(StrEnum):
    """The card families the encoder writes (PC/SC part 3 card names)."""

    MIFARE_CLASSIC_1K = "mifare_classic_1k"
    ULTRALIGHT = "ultralight"  # also NTAG21x: same page commands, more pages


@dataclass(frozen=True)
class CardInfo:
    """The card on the antenna: its UID (not secret, but not a guest's data either) and type."""

    uid: bytes
    card_type: CardType

    @property
    def uid_hex(self) -> str:
        return self.uid.hex().upper()


@dataclass(frozen=True)
class PresenceEvent:
    """A card came onto (``present``) or left the reader's field."""

    reader: str
    present: bool


class CardEncoderError(RuntimeError):
    """The encoder could not do what was asked."""


class NoReader(CardEncoderError):
    """No reader (or no PC/SC service): unplugged, wrong name, pcscd not running."""


class NoCard(CardEncoderError):
    """The reader is there but no card is in its field."""


class WrongCardType(CardEncoderError):
    """The card in the field is not one this encoder writes (or its ATR is not PC/SC part 3)."""


class AuthFailure(CardEncoderError):
    """The card refused every key the encoder knows for a sector."""


class CardRemoved(CardEncoderError):
    """The card left the field (or stopped answering) before the operation ended.

    Nothing was reported written: a write interrupted by this error must be treated as failed.
    """


class VerifyMismatch(CardEncoderError):
    """The card reads back different bytes than were written."""


class BadTrailer(CardEncoderError):
    """A sector trailer's access bits are not self-consistent, or would lock the encoder out.

    Raised before anything is sent to the card: such a trailer can brick a sector for good.
    """


class CardCommError(CardEncoderError):
    """The reader answered, but not as the protocol says (malformed reply, unexpected status)."""


class EncoderTimeout(CardEncoderError):
    """The reader did not answer within the bounded time."""


class PayloadTooLarge(CardEncoderError):
    """The payload does not fit the card layout's data area."""


class CorruptPayload(CardEncoderError):
    """The card's data area does not hold a valid payload (bad header, length or CRC)."""


class CardEncoder(Protocol):
    """A contactless card encoder (PC/SC reader or simulator)."""

    name: str

    def open(self) -> None: ...

    def close(self) -> None: ...

    def wait_for_card(self, timeout: float) -> CardInfo:
        """The card in the field, waiting up to ``timeout`` s for one; ``NoCard`` if none came."""

    def write_key(self, payload: bytes) -> CardInfo:
        """Write ``payload`` (re-keying the card's sectors to the site's keys), read it back and
        compare. Returns only when the card holds exactly ``payload``."""

    def read_key(self) -> tuple[CardInfo, bytes]:
        """The card and the payload it holds."""

    def erase(self) -> CardInfo:
        """Clear the payload area of a returned card (its keys stay the site's)."""

    def watch(self, callback: Callable[[PresenceEvent], None]) -> Callable[[], None]:
        """Call ``callback`` (from another thread) on each card arrival or removal; returns a
        function that stops watching."""

    def health(self) -> DeviceHealth: ...
