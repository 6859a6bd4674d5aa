"""A simulated card encoder with a card in memory, for the demo and the journey tests.

It runs the same ``CardSession`` as the PC/SC driver against ``SimCard``, an in-memory
card answering the reader's pseudo-APDUs: keys per sector and authentication are
honoured, access conditions are not (the hardware tests cover those against a full
emulator). Fault knobs on ``SimCard``: ``verify_mismatch`` (the card reads back one byte
wrong), ``writes_left`` (the card leaves the field after that many block writes) and
``reverts`` (a write reads back right in its own session, but the card does not keep it:
from the next session on it holds what it held before, a valid card with other content).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from hardware.card_encoder import apdu
from hardware.card_encoder.config import DEFAULT_TRANSPORT_KEY, SectorKeys
from hardware.card_encoder.layout import BLOCK_SIZE, PAGE_SIZE, CardLayout
from hardware.card_encoder.protocol import (
    CardInfo,
    CardRemoved,
    CardType,
    NoCard,
    PresenceEvent,
)
from hardware.card_encoder.session import CardSession, SessionEncoder
from hardware.health import DeviceHealth, HealthLevel

OK = apdu.SW_OK.to_bytes(2, "big")
FAILED = apdu.SW_FAILED.to_bytes(2, "big")
SIM_READER = "Simulated PICC reader"
_TRANSPORT_TRAILER = bytes.fromhex("FFFFFFFFFFFF FF078069 FFFFFFFFFFFF")
ULTRALIGHT_PAGES = 45  # NTAG213

T = TypeVar("T")


class SimCard:
    """A blank card (transport keys, zeroed data) that answers the reader's pseudo-APDUs."""

    def __init__(self, card_type: CardType, uid: bytes) -> None:
        self.card_type = card_type
        self.uid = uid
        classic = card_type is CardType.MIFARE_CLASSIC_1K
        self.units = [
            bytearray(BLOCK_SIZE if classic else PAGE_SIZE)
            for _ in range(64 if classic else ULTRALIGHT_PAGES)
        ]
        if classic:
            for trailer in range(3, 64, 4):
                self.units[trailer][:] = _TRANSPORT_TRAILER
        self.key = b""
        self.authenticated: int | None = None  # sector
        self.verify_mismatch = False
        self.writes_left: int | None = None  # the card leaves the field at zero
        self.reverts = False
        self._before: dict[int, bytes] = {}  # units written this session: their old bytes

    def answer(self, command: bytes) -> bytes:
        ins, p2, lc, data = command[1], command[3], command[4], command[5:]
        if ins == 0xCA:
            return self.uid + OK
        if ins == 0x82:
            self.key = bytes(data)
            return OK
        if ins == 0x86:
            return self._authenticate(data[2], data[3] == 0x60)
        if self.card_type is CardType.MIFARE_CLASSIC_1K and self.authenticated != p2 // 4:
            return FAILED
        if ins == 0xB0:
            return self._read(p2, lc)
        if ins == 0xD6:
            return self._write(p2, bytes(data))
        return FAILED

    def _authenticate(self, block: int, key_a: bool) -> bytes:
        trailer = self.units[block // 4 * 4 + 3]
        if self.key != (trailer[0:6] if key_a else trailer[10:16]):
            self.authenticated = None
            return FAILED
        self.authenticated = block // 4
        return OK

    def _read(self, unit: int, length: int) -> bytes:
        if self.card_type is CardType.ULTRALIGHT:
            count = len(self.units)
            data = bytearray(b"".join(self.units[(unit + i) % count] for i in range(4)))
        else:
            data = bytearray(self.units[unit])
            if unit % 4 == 3:
                data[0:6] = bytes(6)  # key A never reads back
        if self.verify_mismatch and unit >= 4:
            data[0] ^= 0xFF
        return bytes(data[:length]) + OK

    def _write(self, unit: int, data: bytes) -> bytes:
        if unit < 4 if self.card_type is CardType.ULTRALIGHT else unit == 0:
            return FAILED
        if self.writes_left is not None:
            if self.writes_left == 0:
                raise CardRemoved("the card left the field (simulated)")
            self.writes_left -= 1
        self._before.setdefault(unit, bytes(self.units[unit]))
        self.units[unit][:] = data
        return OK

    def end_session(self) -> None:
        """The reader lets the card go; a card that ``reverts`` loses this session's writes."""
        if self.reverts:
            for unit, data in self._before.items():
                self.units[unit][:] = data
        self._before.clear()


class SimEncoder(SessionEncoder):
    """A ``CardEncoder`` whose reader holds an in-memory card (or none)."""

    def __init__(
        self,
        card_type: CardType = CardType.MIFARE_CLASSIC_1K,
        card_layout: CardLayout | None = None,
        keys: SectorKeys | None = None,
        name: str = "encoder",
    ) -> None:
        self.name = name
        self.card_type = card_type
        self._layout = card_layout or CardLayout()
        self._keys = keys or SectorKeys(transport=bytes.fromhex(DEFAULT_TRANSPORT_KEY))
        self._card: SimCard | None = None
        self._serial = 0
        self._watchers: list[Callable[[PresenceEvent], None]] = []
        self._lock = threading.Lock()

    @property
    def card(self) -> SimCard | None:
        return self._card

    def insert(self, card: SimCard | None = None) -> SimCard:
        """Put ``card`` (default: a new blank card of ``card_type``) in the field."""
        if card is None:
            self._serial += 1
            size = 4 if self.card_type is CardType.MIFARE_CLASSIC_1K else 7
            card = SimCard(self.card_type, self._serial.to_bytes(size, "big"))
        self._card = card
        self._notify(True)
        return card

    def remove(self) -> SimCard | None:
        card, self._card = self._card, None
        if card is not None:
            self._notify(False)
        return card

    def _notify(self, present: bool) -> None:
        for callback in list(self._watchers):
            callback(PresenceEvent(SIM_READER, present))

    def open(self) -> None:
        if self._card is None:
            self.insert()

    def close(self) -> None:
        self._watchers.clear()

    def _with_card(self, work: Callable[[CardSession, CardInfo], T]) -> T:
        with self._lock:
            card = self._card
            if card is None:
                raise NoCard("no card on the simulated reader")

            def transmit(command: bytes) -> bytes:
                try:
                    return card.answer(command)
                except CardRemoved:
                    self._card = None
                    self._notify(False)
                    raise

            session = CardSession(transmit, lambda: None, self._layout, self._keys)
            try:
                return work(session, session.identify(apdu.atr_for(card.card_type)))
            finally:
                card.end_session()

    def wait_for_card(self, timeout: float) -> CardInfo:
        """The card in the field now: a simulated card does not arrive on its own."""
        return self._with_card(lambda _session, card: card)

    def watch(self, callback: Callable[[PresenceEvent], None]) -> Callable[[], None]:
        self._watchers.append(callback)

        def stop() -> None:
            if callback in self._watchers:
                self._watchers.remove(callback)

        return stop

    def health(self) -> DeviceHealth:
        present = self._card is not None
        return DeviceHealth(
            self.name, HealthLevel.OK, f"reader {SIM_READER}", {"card_present": present}
        )
