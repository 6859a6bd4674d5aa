"""The card-level work of an encoder, over any transport that carries PC/SC pseudo-APDUs.

Both the PC/SC driver and the simulator run the same ``CardSession``: authenticate, re-key
from the transport key to the site's keys, write the layout's data area, read it back and
compare. Everything that could refuse the operation (payload too large, a trailer that
must not be written) is checked before the first APDU.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from hardware.card_encoder import apdu, layout
from hardware.card_encoder.access_bits import Key
from hardware.card_encoder.config import SectorKeys
from hardware.card_encoder.layout import CardLayout
from hardware.card_encoder.protocol import (
    AuthFailure,
    CardCommError,
    CardInfo,
    CardType,
    VerifyMismatch,
)

# PC/SC readers read Ultralight pages four at a time (the card's READ returns 16 bytes).
ULTRALIGHT_READ = 16
_SLOT = 0  # the reader's volatile key slot this session loads keys into


T = TypeVar("T")


class CardSession:
    """One card on the antenna. ``transmit`` sends an APDU and returns the raw reply;
    ``reactivate`` re-selects the card (a real card halts after a failed authentication)."""

    def __init__(
        self,
        transmit: Callable[[bytes], bytes],
        reactivate: Callable[[], None],
        card_layout: CardLayout,
        keys: SectorKeys,
    ) -> None:
        self._transmit = transmit
        self._reactivate = reactivate
        self._layout = card_layout
        self._keys = keys

    def _send(self, command: bytes) -> apdu.Response:
        return apdu.parse_response(self._transmit(command))

    def identify(self, atr: bytes) -> CardInfo:
        card_type = apdu.card_type_from_atr(atr)
        reply = self._send(apdu.GET_UID)
        if not reply.ok or len(reply.data) not in (4, 7, 10):
            raise CardCommError("the reader did not return the card's UID")
        return CardInfo(reply.data, card_type)

    # -- operations -------------------------------------------------------------------

    def write(self, card: CardInfo, payload: bytes) -> None:
        """Write ``payload`` over the whole data area, then read it back and compare."""
        self._write_area(card, layout.pack(payload, self._layout, card.card_type))

    def erase(self, card: CardInfo) -> None:
        """Zero the whole data area (re-keying a blank card like a write), and check it."""
        self._write_area(card, layout.blank(self._layout, card.card_type))

    def _write_area(self, card: CardInfo, units: list[tuple[int, bytes]]) -> None:
        if card.card_type is CardType.MIFARE_CLASSIC_1K:
            self._keys.check_before_write()
            self._write_classic(units)
        else:
            for page, data in units:
                self._write_unit(page, data)
        expected = b"".join(data for _, data in units)
        if self._read_area(card, verifying=True) != expected:
            raise VerifyMismatch("the card reads back different bytes than were written")

    def read(self, card: CardInfo) -> bytes:
        """The payload the card holds."""
        return layout.unpack(self._read_area(card, verifying=False), self._layout)

    # -- MIFARE Classic -------------------------------------------------------------------

    def _write_classic(self, units: list[tuple[int, bytes]]) -> None:
        for sector in layout.sectors(self._layout):
            self._open_for_write(sector)
            for block, data in units:
                if layout.sector_of(block) == sector:
                    self._write_unit(block, data)

    def _open_for_write(self, sector: int) -> None:
        """Authenticate ``sector`` with the writing key, re-keying a blank sector first."""
        trailer = layout.trailer_block(sector)
        site_b = self._keys.site_b
        if site_b is None:
            self._authenticate(trailer, self._keys.transport, Key.A)
        elif not self._try_authenticate(trailer, site_b, Key.B):
            self._authenticate(trailer, self._keys.transport, Key.A)
            self._write_unit(trailer, self._keys.site_trailer())
            # Authenticating with the new key proves the trailer took.
            self._authenticate(trailer, site_b, Key.B)

    def _read_area(self, card: CardInfo, *, verifying: bool) -> bytes:
        units = layout.data_units(self._layout, card.card_type)
        if card.card_type is CardType.ULTRALIGHT:
            return self._read_pages(units)
        chunks = []
        for sector in layout.sectors(self._layout):
            self._open_for_read(sector, verifying=verifying)
            chunks += [self._read_unit(b, 16) for b in units if layout.sector_of(b) == sector]
        return b"".join(chunks)

    def _open_for_read(self, sector: int, *, verifying: bool) -> None:
        """Authenticate with the key the locks read with (site key A once re-keyed).

        A card that is read (not verified) may still be blank, in its transport keys.
        """
        trailer = layout.trailer_block(sector)
        site_a = self._keys.site_a
        if site_a is None:
            self._authenticate(trailer, self._keys.transport, Key.A)
        elif verifying:
            self._authenticate(trailer, site_a, Key.A)
        elif not self._try_authenticate(trailer, site_a, Key.A):
            self._authenticate(trailer, self._keys.transport, Key.A)

    def _try_authenticate(self, block: int, key: bytes, key_type: Key) -> bool:
        if not self._send(apdu.load_key(key, _SLOT)).ok:
            raise CardCommError("the reader refused to load a key")
        if self._send(apdu.authenticate(block, key_type, _SLOT)).ok:
            return True
        self._reactivate()
        return False

    def _authenticate(self, block: int, key: bytes, key_type: Key) -> None:
        if not self._try_authenticate(block, key, key_type):
            raise AuthFailure(
                f"sector {layout.sector_of(block)} refused key {key_type} (no key known fits)"
            )

    # -- blocks and pages ----------------------------------------------------------------

    def _write_unit(self, unit: int, data: bytes) -> None:
        if not self._send(apdu.update_binary(unit, data)).ok:
            raise AuthFailure(f"the card refused the write of block/page {unit}")

    def _read_unit(self, unit: int, length: int) -> bytes:
        reply = self._send(apdu.read_binary(unit, length))
        if not reply.ok:
            raise AuthFailure(f"the card refused the read of block/page {unit}")
        if len(reply.data) != length:
            raise CardCommError(f"read of {unit} returned {len(reply.data)} bytes, not {length}")
        return reply.data

    def _read_pages(self, pages: tuple[int, ...]) -> bytes:
        data = b"".join(
            self._read_unit(page, ULTRALIGHT_READ) for page in pages[:: ULTRALIGHT_READ // 4]
        )
        return data[: len(pages) * layout.PAGE_SIZE]


class SessionEncoder:
    """The card verbs every encoder shares, over a :class:`CardSession` on the card in the
    field; a driver supplies ``_with_card`` (how it reaches the card) and, if it has one,
    a configuration check that must pass before any write."""

    def _with_card(self, work: Callable[[CardSession, CardInfo], T]) -> T:
        raise NotImplementedError

    def _check_before_write(self) -> None:
        """Refuse a bad configuration before any card I/O; nothing to check by default."""

    def write_key(self, payload: bytes) -> CardInfo:
        self._check_before_write()

        def write(session: CardSession, card: CardInfo) -> CardInfo:
            session.write(card, payload)
            return card

        return self._with_card(write)

    def read_key(self) -> tuple[CardInfo, bytes]:
        return self._with_card(lambda session, card: (card, session.read(card)))

    def erase(self) -> CardInfo:
        self._check_before_write()

        def erase(session: CardSession, card: CardInfo) -> CardInfo:
            session.erase(card)
            return card

        return self._with_card(erase)
