"""Contactless cards behind an ACR122U-class reader, emulated for vsmartcard's vpcd driver.

The test double of the card encoder's hardware tests: a real ``pcscd`` loads Debian's
vpcd driver, which listens on a TCP port; ``VirtualCardSlot.insert`` connects a card to
it (the card is in the field) and ``remove`` closes the socket (the card left).

vpcd protocol: every message is a 2-byte big-endian length and a payload. A 1-byte
payload is a control: 0 power off, 1 power on, 2 reset, 4 get ATR (answered with the ATR);
anything else is a command APDU, answered with the response APDU.

The cards answer the PC/SC part 3 pseudo-APDUs the way the reader and a real card do:
MIFARE Classic 1K with keys and authentication per sector, the datasheet's access
conditions for data blocks and trailers (key A reads back as zeros, a readable key B
cannot authenticate, inconsistent access bits block the sector for good), a card that
halts after a failed authentication until it is reset; Ultralight/NTAG pages. The rules
are written here independently of ``hardware.card_encoder.access_bits`` so that the
tests check the driver against the datasheet, not against itself.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable

OK = b"\x90\x00"
FAILED = b"\x63\x00"
TRANSPORT_KEY = b"\xff" * 6
TRANSPORT_ACCESS = bytes.fromhex("FF078069")  # access bytes + general-purpose byte


def _pcsc_part3_atr(card_name: int) -> bytes:
    body = bytes.fromhex("8F8001804F0CA000000306") + bytes([0x03]) + card_name.to_bytes(2, "big")
    body += bytes(4)
    check = 0
    for byte in body:
        check ^= byte
    return b"\x3b" + body + bytes([check])


CLASSIC_1K_ATR = _pcsc_part3_atr(0x0001)
ULTRALIGHT_ATR = _pcsc_part3_atr(0x0003)
CLASSIC_4K_ATR = _pcsc_part3_atr(0x0002)

# MF1S50 datasheet, access conditions as "C1C2C3": who may (read, write) a data block ...
DATA_RULES = {
    "000": ("AB", "AB"),
    "010": ("AB", ""),
    "100": ("AB", "B"),
    "110": ("AB", "B"),
    "001": ("AB", ""),
    "011": ("B", "B"),
    "101": ("B", ""),
    "111": ("", ""),
}
# ... and (write key A, read access bits, write access bits, read key B, write key B).
TRAILER_RULES = {
    "000": ("A", "A", "", "A", "A"),
    "010": ("", "A", "", "A", ""),
    "100": ("B", "AB", "", "", "B"),
    "110": ("", "AB", "", "", ""),
    "001": ("A", "A", "A", "A", "A"),
    "011": ("B", "AB", "B", "", "B"),
    "101": ("", "AB", "B", "", ""),
    "111": ("", "AB", "", "", ""),
}


def access_codes(access: bytes) -> list[str] | None:
    """The "C1C2C3" code of blocks 0-3 from trailer bytes 6-8; None if the copies disagree."""
    b6, b7, b8 = access[:3]
    codes = []
    for block in range(4):
        c1, c2, c3 = (b7 >> (4 + block)) & 1, (b8 >> block) & 1, (b8 >> (4 + block)) & 1
        n1, n2, n3 = (b6 >> block) & 1, (b6 >> (4 + block)) & 1, (b7 >> block) & 1
        if (c1, c2, c3) != (1 - n1, 1 - n2, 1 - n3):
            return None
        codes.append(f"{c1}{c2}{c3}")
    return codes


class EmulatedCard:
    """A card's state that survives power cycles; ``answer`` handles one command APDU."""

    atr: bytes
    uid: bytes

    def power_on(self) -> None:
        """Power on or reset: authentication and halt states are lost."""

    def answer(self, command: bytes) -> bytes:
        if len(command) < 5 or command[0] != 0xFF:
            return b"\x6e\x00"  # class not supported
        ins, p2, lc = command[1], command[3], command[4]
        if ins == 0xCA:
            return self.uid + OK
        return self.storage_command(ins, p2, lc, command[5 : 5 + lc])

    def storage_command(self, ins: int, p2: int, lc: int, data: bytes) -> bytes:
        raise NotImplementedError


class ClassicCard(EmulatedCard):
    """MIFARE Classic 1K: 16 sectors of 4 blocks; fresh cards have the transport keys."""

    atr = CLASSIC_1K_ATR

    def __init__(self, uid: bytes = bytes.fromhex("A1B2C3D4")) -> None:
        self.uid = uid
        bcc = uid[0] ^ uid[1] ^ uid[2] ^ uid[3]
        self.blocks = [bytearray(16) for _ in range(64)]
        self.blocks[0][:] = uid + bytes([bcc]) + bytes.fromhex("0804006263646566676869")
        for sector in range(16):
            self.blocks[sector * 4 + 3][:] = TRANSPORT_KEY + TRANSPORT_ACCESS + TRANSPORT_KEY
        self.slots: dict[int, bytes] = {}
        self.blocked: set[int] = set()  # sectors whose access bits were written inconsistent
        self.power_on()

    def power_on(self) -> None:
        self.auth: tuple[int, str] | None = None
        self.halted = False

    def key(self, sector: int, kind: str) -> bytes:
        trailer = self.blocks[sector * 4 + 3]
        return bytes(trailer[0:6] if kind == "A" else trailer[10:16])

    def codes(self, sector: int) -> list[str]:
        codes = access_codes(bytes(self.blocks[sector * 4 + 3][6:9]))
        assert codes is not None, "a blocked sector is never authenticated"
        return codes

    def storage_command(self, ins: int, p2: int, lc: int, data: bytes) -> bytes:
        if ins == 0x82:  # load key
            if lc != 6:
                return FAILED
            self.slots[p2] = data
            return OK
        if self.halted:
            return FAILED
        if ins == 0x86:
            return self.authenticate(data)
        if ins == 0xB0:
            return self.read(p2, lc)
        if ins == 0xD6:
            return self.write(p2, data)
        return b"\x6d\x00"

    def authenticate(self, data: bytes) -> bytes:
        if len(data) != 5 or data[0] != 0x01 or data[3] not in (0x60, 0x61):
            return FAILED
        block, kind, slot = data[2], "A" if data[3] == 0x60 else "B", data[4]
        sector = block // 4
        if block >= 64 or slot not in self.slots:
            return FAILED
        if sector in self.blocked or self.slots[slot] != self.key(sector, kind):
            self.auth, self.halted = None, True  # a real card halts after a failed auth
            return FAILED
        self.auth = (sector, kind)
        return OK

    def allowed(self, sector: int, who: str) -> bool:
        """Whether the current authentication may do what ``who`` (a rule's keys) allows."""
        if self.auth is None or self.auth[0] != sector:
            return False
        kind = self.auth[1]
        if kind == "B" and TRAILER_RULES[self.codes(sector)[3]][3]:
            return False  # key B is readable, so it is no key (datasheet)
        return kind in who

    def read(self, block: int, length: int) -> bytes:
        sector, index = divmod(block, 4)
        if block >= 64 or length != 16 or self.auth is None or self.auth[0] != sector:
            return FAILED
        codes = self.codes(sector)
        if index < 3:
            if not self.allowed(sector, DATA_RULES[codes[index]][0]):
                return FAILED
            return bytes(self.blocks[block]) + OK
        rules = TRAILER_RULES[codes[3]]
        trailer = self.blocks[block]
        shown = bytearray(16)  # key A is never readable: zeros, as on a real card
        if self.allowed(sector, rules[1]):
            shown[6:10] = trailer[6:10]
        if self.allowed(sector, rules[3]):
            shown[10:16] = trailer[10:16]
        return bytes(shown) + OK

    def write(self, block: int, data: bytes) -> bytes:
        sector, index = divmod(block, 4)
        if block == 0 or block >= 64 or len(data) != 16:
            return FAILED
        if self.auth is None or self.auth[0] != sector:
            return FAILED
        codes = self.codes(sector)
        if index < 3:
            if not self.allowed(sector, DATA_RULES[codes[index]][1]):
                return FAILED
            self.blocks[block][:] = data
            return OK
        write_a, _, write_access, _, write_b = TRAILER_RULES[codes[3]]
        parts = [
            (slice(0, 6), write_a),
            (slice(6, 10), write_access),
            (slice(10, 16), write_b),
        ]
        permitted = [part for part, who in parts if self.allowed(sector, who)]
        if not permitted:
            return FAILED
        for part in permitted:
            self.blocks[block][part] = data[part]
        if access_codes(bytes(self.blocks[block][6:9])) is None:
            self.blocked.add(sector)  # the real card bricks the sector: no way back
        return OK


class UltralightCard(EmulatedCard):
    """MIFARE Ultralight / NTAG21x: 4-byte pages, user memory from page 4, no keys."""

    atr = ULTRALIGHT_ATR

    def __init__(self, uid: bytes = bytes.fromhex("04A1B2C3D4E580"), pages: int = 45) -> None:
        self.uid = uid
        self.pages = [bytearray(4) for _ in range(pages)]
        self.pages[0][:3] = uid[:3]
        self.pages[1][:] = uid[3:7]

    def storage_command(self, ins: int, p2: int, lc: int, data: bytes) -> bytes:
        if ins == 0xB0:  # READ returns four pages, wrapping round at the end
            if lc != 16 or p2 >= len(self.pages):
                return FAILED
            return b"".join(self.pages[(p2 + i) % len(self.pages)] for i in range(4)) + OK
        if ins == 0xD6:
            # Pages 0-3 hold the UID, lock and OTP bytes: not for data.
            if lc != 4 or len(data) != 4 or not 4 <= p2 < len(self.pages):
                return FAILED
            self.pages[p2][:] = data
            return OK
        return b"\x6d\x00"


class VirtualCardSlot:
    """One slot of the vpcd reader: put a card in its field, take it out, watch what it hears.

    ``commands`` records every command APDU the current card received. ``leave_on``, when
    set, is asked about each incoming APDU; when it returns True the card leaves the field
    at that moment, without answering (a guest pulling the card mid-write). ``mute_on``
    likewise makes the card never answer that APDU (a reader that hangs).
    """

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.address = (host, port)
        self.card: EmulatedCard | None = None
        self.commands: list[bytes] = []
        self.leave_on: Callable[[bytes], bool] | None = None
        self.mute_on: Callable[[bytes], bool] | None = None
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def insert(self, card: EmulatedCard, timeout: float = 5.0) -> None:
        """Connect ``card`` to vpcd (retrying while the driver is not yet listening)."""
        self.remove()
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection(self.address, timeout=1.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        sock.settimeout(None)
        self.card, self._sock, self.commands = card, sock, []
        self.leave_on = self.mute_on = None
        card.power_on()
        self._thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
        self._thread.start()

    def swap(self, card: EmulatedCard) -> None:
        """Replace the card in the field between two polls of the reader (instant: no
        reconnection to vpcd). The driver connects per operation, so it must notice."""
        card.power_on()
        self.card, self.commands = card, []

    def remove(self) -> None:
        """Take the card out of the field (vpcd sees the socket close)."""
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed by vpcd
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None
        self.card = None

    def _recv(self, sock: socket.socket, count: int) -> bytes:
        data = b""
        while len(data) < count:
            # vpcd writes the length and the payload separately; without quick ACKs every
            # message would wait out the delayed-ACK timer (40 ms) behind Nagle.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            chunk = sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("vpcd closed the connection")
            data += chunk
        return data

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                (length,) = struct.unpack(">H", self._recv(sock, 2))
                message = self._recv(sock, length)
                card = self.card
                if card is None:  # removed meanwhile
                    break
                reply = self._handle(card, message)
                if reply is None:
                    continue
                sock.sendall(struct.pack(">H", len(reply)) + reply)
        except (ConnectionError, OSError, _Left):
            pass
        if self._sock is sock:  # the card left on its own (not by ``remove``)
            self._sock, self.card = None, None
            sock.close()

    def _handle(self, card: EmulatedCard, message: bytes) -> bytes | None:
        if len(message) == 1:
            control = message[0]
            if control in (1, 2):  # power on, reset
                card.power_on()
            return card.atr if control == 4 else None
        self.commands.append(message)
        if self.leave_on is not None and self.leave_on(message):
            raise _Left
        if self.mute_on is not None and self.mute_on(message):
            return None
        return card.answer(message)


class _Left(Exception):
    """The card left the field in the middle of a command."""
