"""One TCP connection to a ZVT terminal (its ECR port, 20007 by default) and the
command exchange every ZVT function shares.

Exchange: the kiosk (the master) sends a command; the terminal acknowledges it (80 00)
or refuses it (84 xx) and becomes the master: it sends intermediate status (04 FF),
print lines (06 D1, 06 D3) and the result (04 0F), each acknowledged by the kiosk, and
hands mastership back with Completion (06 0F) or Abort (06 1E <result code>). Every
read has a deadline; a closed or reset connection is ``TerminalOffline``.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from hardware.payment.protocol import PaymentError, TerminalBusy, TerminalOffline
from hardware.payment.zvt.apdu import (
    ABORTED,
    ACK,
    BUSY,
    COMPLETION,
    INTERMEDIATE_STATUS,
    PRINT_LINE,
    PRINT_TEXT_BLOCK,
    PT_ABORT,
    STATUS_INFO,
    Apdu,
    ZvtFormatError,
    parse_bmps,
    read_apdu,
    result_text,
)

_ACK = Apdu(ACK)


class TerminalRefused(PaymentError):
    """The terminal answered a command with 84 xx: it did not start it."""

    def __init__(self, code: int) -> None:
        super().__init__(f"the terminal refused the command: {result_text(code)}")
        self.code = code


@dataclass(frozen=True)
class Answer:
    """How the terminal ended a command: its result fields (04 0F), if it sent any, and
    the result code of an Abort (06 1E), if it ended that way."""

    status: dict[int, bytes] | None
    aborted: int | None


class Link:
    """A connected socket that reads and writes whole APDUs. ``send`` may be called from
    another thread while one thread reads (the kiosk's Abort during a sale)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._send_lock = threading.Lock()
        self._deadline = 0.0

    @classmethod
    def connect(cls, host: str, port: int, timeout_s: float) -> Link:
        try:
            sock = socket.create_connection((host, port), timeout=timeout_s)
        except OSError as exc:
            raise TerminalOffline(f"cannot connect to {host}:{port}: {_reason(exc)}") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(sock)

    def send(self, apdu: Apdu) -> None:
        with self._send_lock:
            try:
                self._sock.sendall(apdu.encode())
            except OSError as exc:
                raise TerminalOffline(f"link to the terminal lost: {_reason(exc)}") from None

    def receive(self, deadline: float) -> Apdu:
        """The next APDU; ``TimeoutError`` when none is complete by ``deadline``."""
        self._deadline = deadline
        return read_apdu(self._read_exact)

    def close(self) -> None:
        # Wakes a thread blocked reading it; a reset connection has nothing to shut down.
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()

    def _read_exact(self, size: int) -> bytes:
        chunks = bytearray()
        while len(chunks) < size:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no answer from the terminal in time")
            self._sock.settimeout(remaining)
            try:
                chunk = self._sock.recv(size - len(chunks))
            except TimeoutError:
                raise
            except OSError as exc:
                raise TerminalOffline(f"link to the terminal lost: {_reason(exc)}") from None
            if not chunk:
                raise TerminalOffline("the terminal closed the connection")
            chunks += chunk
        return bytes(chunks)


def command(
    link: Link,
    request: Apdu,
    *,
    ack_timeout_s: float,
    deadline: float,
    on_result: Callable[[], None] | None = None,
) -> Answer:
    """Send ``request`` and follow the terminal until it hands mastership back.

    ``TerminalBusy`` on 84 A0, ``TerminalRefused`` on another 84 xx; ``TerminalOffline``
    when the link drops or the command is not acknowledged in ``ack_timeout_s``;
    ``TimeoutError`` when the terminal is still working at ``deadline``;
    ``ZvtFormatError`` on what is not ZVT.
    ``on_result`` is called once the result (04 0F) is in: too late to abort.
    """
    link.send(request)
    try:
        first = link.receive(min(deadline, time.monotonic() + ack_timeout_s))
    except TimeoutError:
        raise TerminalOffline("the terminal did not acknowledge the command") from None
    if first.negative and first.error_code == BUSY:
        raise TerminalBusy("the terminal is busy with another transaction (84 A0)")
    if first.negative and first.error_code:
        raise TerminalRefused(first.error_code)
    if first.control not in (ACK, 0x8400):
        raise ZvtFormatError(f"expected an acknowledgement, got {first.control:04X}")
    status: dict[int, bytes] | None = None
    while True:
        message = link.receive(deadline)
        if message.control in (INTERMEDIATE_STATUS, PRINT_LINE, PRINT_TEXT_BLOCK):
            link.send(_ACK)
        elif message.control == STATUS_INFO:
            status = parse_bmps(message.data)
            link.send(_ACK)
            if on_result is not None:
                on_result()
        elif message.control == ACK:
            continue  # the terminal's acknowledgement of the kiosk's Abort (06 B0)
        elif message.control == COMPLETION:
            link.send(_ACK)
            return Answer(status, None)
        elif message.control == PT_ABORT:
            link.send(_ACK)
            return Answer(status, message.data[0] if message.data else ABORTED)
        else:
            raise ZvtFormatError(f"unexpected APDU {message.control:04X} from the terminal")


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__
