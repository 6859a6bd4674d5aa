"""A CRT-591 card dispenser emulated on the master side of a real pty pair.

The driver under test opens ``emulator.port_name`` (the pty's slave) with pyserial, so
every byte crosses a real tty. The emulator frames its replies with its own code, not
the driver's, so that a framing bug in the driver cannot hide behind a shared helper.
Knobs: stock, positions, jam, reject bin, and faults (NAK the next commands, garble the
next replies' BCC, stop answering).
"""

from __future__ import annotations

import os
import select
import threading
import tty
from dataclasses import dataclass, field

STX, ETX, ENQ, ACK, NAK = 0xF2, 0x03, 0x05, 0x06, 0x15


def _xor(data: bytes) -> int:
    value = 0
    for byte in data:
        value ^= byte
    return value


def frame(address: int, text: bytes) -> bytes:
    body = bytes([STX, address, len(text) >> 8, len(text) & 0xFF]) + text + bytes([ETX])
    return body + bytes([_xor(body)])


@dataclass
class Crt591State:
    stock: int = 50
    low_threshold: int = 5
    reject_capacity: int = 10
    rejected: int = 0
    card: str | None = None  # None, "rf" or "exit"
    jammed: bool = False
    jam_next_feed: bool = False
    entry_allowed: bool = False  # the exit slot takes a card in (CM 0x33)
    card_offered: bool = False  # a guest holds a card to the exit slot
    # faults
    nak_commands: int = 0  # NAK this many next command frames
    garble_replies: int = 0  # corrupt the BCC of this many next reply frames
    silent: bool = False  # swallow everything, answer nothing
    hang_after_ack: bool = False  # ACK the next command, then fall silent before replying
    # what happened, for assertions
    executed: list[tuple[int, int]] = field(default_factory=list)
    naks_sent: int = 0
    naks_received: int = 0

    def status_bytes(self) -> bytes:
        st0 = {"rf": b"2", "exit": b"1"}.get(self.card or "", b"0")
        low = self.stock <= self.low_threshold
        st1 = b"0" if self.stock <= 0 else (b"1" if low else b"2")
        st2 = b"1" if self.rejected >= self.reject_capacity else b"0"
        return st0 + st1 + st2

    def execute(self, cm: int, pm: int) -> bytes:
        """Run one command; the reply TEXT."""
        self.executed.append((cm, pm))
        if self.entry_allowed and self.card_offered and self.card is None:
            self.card, self.card_offered = "rf", False  # drawn in while the slot is open
        error = self._run(cm, pm)
        head = bytes([cm, pm])
        return b"N" + head + error.encode() if error else b"P" + head + self.status_bytes()

    def _run(self, cm: int, pm: int) -> str:
        if cm == 0x30:  # initialise
            self.jammed = False
            if self.card is not None and pm == 0x31:
                self.card, self.rejected = None, self.rejected + 1
            elif self.card is not None and pm == 0x30:
                self.card = "exit"
            return ""
        if cm == 0x31:
            return ""
        if cm == 0x33:
            if pm not in (0x30, 0x31):
                return "01"
            self.entry_allowed = pm == 0x31
            return ""
        if cm != 0x32:
            return "00"
        if self.jammed:
            return "10"
        if pm == 0x32:
            return self._feed()
        if pm in (0x30, 0x39):
            if self.card is None:
                return "02"
            self.card = "exit"
            return ""
        if pm == 0x33:
            if self.card is None:
                return "02"
            if self.rejected >= self.reject_capacity:
                return "A1"
            self.card, self.rejected = None, self.rejected + 1
            return ""
        return "01"

    def _feed(self) -> str:
        if self.card is not None:
            self.card = "rf"
            return ""
        if self.stock <= 0:
            return "A0"
        self.stock -= 1
        if self.jam_next_feed:
            self.jam_next_feed, self.jammed = False, True
            return "10"
        self.card = "rf"
        return ""


class Crt591Emulator:
    """Speaks the CRT-591 protocol on a pty master in a thread; use as a context manager."""

    def __init__(self, state: Crt591State | None = None, address: int = 0) -> None:
        self.state = state or Crt591State()
        self.address = address
        self.lock = threading.Lock()  # tests change knobs while the thread runs
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line editing before pyserial configures it
        self.port_name = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="crt591-emulator", daemon=True)
        self._buffer = bytearray()
        self._pending: tuple[int, int] | None = None  # ACKed, waiting for ENQ
        self._last_reply = b""

    def __enter__(self) -> Crt591Emulator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        os.close(self._master)
        os.close(self._slave)

    def take_card(self) -> None:
        """The guest pulls the card out of the exit slot."""
        with self.lock:
            if self.state.card == "exit":
                self.state.card = None

    def _run(self) -> None:
        while not self._stop.is_set():
            readable, _, _ = select.select([self._master], [], [], 0.02)
            if not readable:
                continue
            try:
                data = os.read(self._master, 1024)
            except OSError:  # the slave side was closed for a moment
                continue
            with self.lock:
                if self.state.silent:
                    continue
                self._buffer += data
                self._consume()

    def _consume(self) -> None:
        while self._buffer:
            first = self._buffer[0]
            if first == ENQ:
                del self._buffer[0]
                self._answer_enq()
            elif first == NAK:
                del self._buffer[0]
                self.state.naks_received += 1
                if self._last_reply:
                    self._send_reply(self._last_reply)
            elif first == STX:
                if not self._take_frame():
                    return  # wait for the rest of the frame
            else:
                del self._buffer[0]  # noise

    def _take_frame(self) -> bool:
        if len(self._buffer) < 4:
            return False
        size = 4 + ((self._buffer[2] << 8) | self._buffer[3]) + 2
        if len(self._buffer) < size:
            return False
        raw = bytes(self._buffer[:size])
        del self._buffer[:size]
        good = raw[-2] == ETX and _xor(raw[:-1]) == raw[-1] and raw[4] == ord("C")
        if not good or self.state.nak_commands > 0:
            if good:
                self.state.nak_commands -= 1
            self.state.naks_sent += 1
            os.write(self._master, bytes([NAK]))
            return True
        self._pending = (raw[5], raw[6])
        os.write(self._master, bytes([ACK]))
        return True

    def _answer_enq(self) -> None:
        if self._pending is None:
            return
        cm, pm = self._pending
        self._pending = None
        if self.state.hang_after_ack:
            self.state.silent = True
            return
        self._last_reply = frame(self.address, self.state.execute(cm, pm))
        self._send_reply(self._last_reply)

    def _send_reply(self, reply: bytes) -> None:
        if self.state.garble_replies > 0:
            self.state.garble_replies -= 1
            reply = reply[:-1] + bytes([reply[-1] ^ 0xFF])
        os.write(self._master, reply)
