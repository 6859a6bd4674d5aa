"""A ZVT payment terminal emulated on loopback TCP, in the test process.

A mock at a boundary that cannot run here: no certified terminal, card or acquirer is
available to the tests, so this speaks the terminal's side of the ZVT wire protocol as
the public specification describes it (and as ``hardware.payment.zvt`` assumes it; see
that module). It frames and parses with its own code, not the driver's, so that a codec
bug in the driver cannot hide behind a shared helper.

Like a real terminal it keeps its bookings (receipt and trace numbers) across
connections, finishes a transaction whose connection dropped, refuses commands with
84 A0 while a transaction is in progress, and repeats its last booking's receipt.
What happens to the next transactions is chosen by ``queue`` (``Script``s).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field

PASSWORD = bytes.fromhex("123456")


@dataclass(frozen=True)
class Script:
    """One transaction: ``result`` "approve", "decline" (``code``), "guest_cancel",
    "refuse" (84 83: the terminal does not start it);
    ``card_s``: how long the guest takes to present a card (the kiosk may abort then);
    ``authorise_s``: the host's round trip (too late to abort); ``drop``: the link is cut
    after the intermediate status, the terminal finishes on its own (an approval is
    booked); ``garble``: the
    result carries a BMP no specification knows."""

    result: str = "approve"
    code: int = 0x05
    card_s: float = 0.0
    authorise_s: float = 0.0
    drop: bool = False
    garble: bool = False


@dataclass
class Booking:
    receipt: int
    trace: int
    kind: str  # "sale" or "preauth"
    units: int
    currency: str  # BCD digits, "0156"
    reversed: bool = False


TRANSACTIONS = {"0601": "sale", "0622": "preauth", "0631": "refund"}


@dataclass
class ZvtEmulator:
    port: int = 0
    bookings: dict[int, Booking] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)  # control fields received, "0601"
    aborts_received: int = 0
    drop_next_void_answer: bool = False  # reverse, then cut the link before answering

    def __post_init__(self) -> None:
        self._scripts: deque[Script] = deque()
        self._lock = threading.Lock()
        self._busy = False
        self._receipt = 0
        self._trace = 100
        self._last: bytes | None = None  # the last booking's 04 0F data, for Repeat Receipt
        self._abort_pending = False  # an Abort came while the terminal was sending
        self.request_seen = threading.Event()  # an authorisation/pre-auth arrived
        self._server = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self.port = self._server.getsockname()[1]
        self._stopped = False
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True, name="zvt-emulator").start()

    # -- test controls --------------------------------------------------------------------

    def queue(self, *scripts: Script) -> None:
        with self._lock:
            self._scripts.extend(scripts)

    def charges(self) -> list[Booking]:
        """Bookings that took money and were not reversed."""
        with self._lock:
            return [b for b in self.bookings.values() if not b.reversed and b.kind != "refund"]

    def refunds(self) -> list[Booking]:
        """Bookings that gave money back."""
        with self._lock:
            return [b for b in self.bookings.values() if b.kind == "refund"]

    def wait_idle(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._busy:
                    return
            time.sleep(0.01)
        raise AssertionError("the emulated terminal is still busy")

    def stop(self) -> None:
        self._stopped = True
        self._server.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    # -- the terminal ---------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopped:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError, EOFError), conn:
            while True:
                control, data = _read(conn, None)
                self.requests.append(control)
                self._handle(conn, control, data)

    def _handle(self, conn: socket.socket, control: str, data: bytes) -> None:
        with self._lock:
            busy = self._busy
            if control in ("0601", "0622", "0631") and not busy:
                self._busy = True
        if control == "06b0":
            return  # an abort outside a transaction: nothing to abort
        if busy:
            conn.sendall(apdu("84a0"))
            return
        if control == "0600":  # registration: password and config byte
            conn.sendall(apdu("8000"))
            self._finish(conn, apdu("060f"))
        elif control in ("0601", "0622", "0631"):
            self.request_seen.set()
            if control == "0631":  # a refund, like a reversal, needs the password first
                assert data[:3] == PASSWORD, "a refund needs the terminal's password"
                data = data[3:]
            try:
                self._transaction(conn, TRANSACTIONS[control], data)
            finally:
                with self._lock:
                    self._busy = False
        elif control == "0620":  # repeat receipt
            conn.sendall(apdu("8000"))
            last = self._last
            if last is None:
                self._finish(conn, apdu("061e", b"\x83"))
            else:
                self._finish(conn, apdu("040f", last), apdu("060f"))
        elif control in ("0630", "0625"):
            self._reverse(conn, control, data)
        else:
            conn.sendall(apdu("8483"))  # function not possible

    def _transaction(self, conn: socket.socket, kind: str, data: bytes) -> None:
        assert data[0] == 0x04 and data[7] == 0x49, data.hex()
        units, currency = int(data[1:7].hex()), data[8:10].hex()
        script = self._scripts.popleft() if self._scripts else Script()
        if script.result == "refuse":
            conn.sendall(apdu("8483"))
            return
        conn.sendall(apdu("8000"))
        self._send_acked(conn, apdu("04ff", bytes([0x0A])))  # "insert card"
        if script.drop:
            conn.shutdown(socket.SHUT_RDWR)
            conn.close()
            if script.result == "approve":
                self._book(kind, units, currency)
            return
        if self._aborted_while_waiting(conn, script.card_s):
            self._finish(conn, apdu("061e", b"\x6c"))
            return
        if script.result == "guest_cancel":
            self._finish(conn, apdu("061e", b"\x6c"))
            return
        time.sleep(script.authorise_s)
        if script.result == "decline":
            status = bytes([0x27, script.code]) + b"\x04" + data[1:7]
            self._finish(conn, apdu("040f", status), apdu("061e", bytes([script.code])))
            return
        status = self._book(kind, units, currency)
        if script.garble:
            status = bytes([0x27, 0x00, 0xFE, 0x01, 0x02])
        self._send_acked(conn, apdu("06d1", b"\x00" + b"THANK YOU"))  # a print line
        self._finish(conn, apdu("040f", status), apdu("060f"))

    def _book(self, kind: str, units: int, currency: str) -> bytes:
        with self._lock:
            self._receipt += 1
            self._trace += 1
            booking = Booking(self._receipt, self._trace, kind, units, currency)
            self.bookings[booking.receipt] = booking
            status = (
                b"\x27\x00"
                + b"\x04" + bytes.fromhex(f"{units:012d}")
                + b"\x49" + bytes.fromhex(currency)
                + b"\x0b" + bytes.fromhex(f"{booking.trace:06d}")
                + b"\x87" + bytes.fromhex(f"{booking.receipt:04d}")
                + b"\x0c\x12\x30\x00\x0d\x12\x06"  # time 12:30:00, date 12-06
                + b"\x22\xf0\xf8" + bytes.fromhex("6759EEEEEEE4242F")  # masked PAN, LLVAR
                + b"\x3b" + b"A1B2C3\x00\x00"  # authorisation attribute
                + b"\x06\x04\x1f\x10\x01\x02"  # a TLV container (cardholder auth)
                + b"\x3c\xf0\xf0\xf4" + b"demo"  # additional text, LLLVAR
            )  # fmt: skip
            self._last = status
            return status

    def _reverse(self, conn: socket.socket, control: str, data: bytes) -> None:
        if control == "0630":
            assert data[:3] == PASSWORD, "a reversal needs the terminal's password"
            data = data[3:]
        assert data[0] == 0x87, data.hex()
        receipt = int(data[1:3].hex())
        conn.sendall(apdu("8000"))
        with self._lock:
            booking = self.bookings.get(receipt)
            if booking is None:
                code = 0x64
            elif booking.reversed:
                code = 0xB4
            else:
                booking.reversed = True
                code = 0
        if self.drop_next_void_answer:
            self.drop_next_void_answer = False
            conn.shutdown(socket.SHUT_RDWR)
        elif code:
            self._finish(conn, apdu("061e", bytes([code])))
        else:
            status = b"\x27\x00\x87" + bytes.fromhex(f"{receipt:04d}")
            self._finish(conn, apdu("040f", status), apdu("060f"))

    def _aborted_while_waiting(self, conn: socket.socket, seconds: float) -> bool:
        """Wait for the card; True if the kiosk sent Abort (06 B0) meanwhile. A dropped
        link does not stop the terminal: the guest's card is read all the same."""
        if self._abort_pending:
            self._abort_pending = False
            self.aborts_received += 1
            return True
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                control, _ = _read(conn, remaining)
            except TimeoutError:
                return False
            except (OSError, EOFError):
                time.sleep(max(0.0, deadline - time.monotonic()))
                return False
            if control == "06b0":
                self.aborts_received += 1
                conn.sendall(apdu("8000"))
                return True
        return False

    def _send_acked(self, conn: socket.socket, message: bytes) -> None:
        """Send and wait for the kiosk's 80 00; a dead link is ignored (the terminal goes
        on). An Abort that crosses the message is acknowledged and kept for later."""
        try:
            conn.sendall(message)
            while (control := _read(conn, 5.0)[0]) == "06b0":
                self._abort_pending = True
                conn.sendall(apdu("8000"))
            assert control == "8000", control
        except (OSError, EOFError):
            pass

    def _finish(self, conn: socket.socket, *messages: bytes) -> None:
        for message in messages:
            self._send_acked(conn, message)


def apdu(control: str, data: bytes = b"") -> bytes:
    """An APDU, with the long length form (FF low high) above 254 bytes."""
    size = len(data)
    length = bytes([size]) if size < 0xFF else bytes([0xFF, size & 0xFF, size >> 8])
    return bytes.fromhex(control) + length + data


def _read(conn: socket.socket, timeout: float | None) -> tuple[str, bytes]:
    conn.settimeout(timeout)
    head = _exact(conn, 3)
    size = head[2]
    if size == 0xFF:
        low, high = _exact(conn, 2)
        size = low | high << 8
    return head[:2].hex(), _exact(conn, size)


def _exact(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data
