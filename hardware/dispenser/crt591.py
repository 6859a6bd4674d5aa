"""Serial driver for the Creator CRT-591 family of card dispensers (RS-232, 9600 8N1).

Frames (both directions): ``F2 ADDR LENH LENL TEXT 03 BCC``, where LEN counts the bytes
of TEXT and BCC is the XOR of every byte from F2 through 03.
    command TEXT:  'C' CM PM [data]
    positive TEXT: 'P' CM PM st0 st1 st2 [data]
    negative TEXT: 'N' CM PM e1 e0 [data]

Exchange: host -> command; dispenser -> ACK (06), or NAK (15) when it got a corrupt
frame (the host retransmits); host -> ENQ (05), the dispenser executes and sends the
reply frame; a corrupt reply is NAKed by the host and sent again. The first exchanges
and framing follow the family's published protocol (CRT-571/591 manuals); the rest is
assumed, as listed here, because only fragments of the manuals could be checked:
- commands: CM 0x30 initialise (PM 0x31: a card left in the channel goes to the reject
  bin), CM 0x31 PM 0x30 status, CM 0x32 move with PM 0x30 hold at the gate,
  0x32 RF position, 0x33 reject bin, 0x39 exit slot; CM 0x33 card entry through the
  exit slot with PM 0x31 permitted (the card stops at the RF position) and PM 0x30
  prohibited (the family's "insert from the mouth" setting; CRT-531 spells it "IN");
- status bytes: st0 card channel '0' empty / '1' card at the exit / '2' card at the RF
  position; st1 stacker '0' empty / '1' low / '2' enough; st2 reject bin '0' room / '1' full;
- error codes (e1 e0, ASCII): "10" card jam, "A0" stacker empty, "A1" reject bin full,
  others reported as ``DispenserRejected`` with their code;
- the host does not ACK a good reply; a jam is remembered until an initialise succeeds
  (the status reply has no jam flag).
Every wait is bounded: a command is sent at most ``retries + 1`` times and each wait for
ACK or reply has its own timeout, so a silent device raises ``DispenserTimeout``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import serial

from hardware.dispenser.protocol import (
    DispenserCommError,
    DispenserEmpty,
    DispenserError,
    DispenserJam,
    DispenserNAK,
    DispenserRejected,
    DispenserStatus,
    DispenserTimeout,
    RejectBinFull,
    StockLevel,
    dispenser_health,
    health_of_error,
    poll_until_taken,
)
from hardware.health import DeviceHealth

log = logging.getLogger(__name__)

STX, ETX, ENQ, ACK, NAK = 0xF2, 0x03, 0x05, 0x06, 0x15
COMMAND, POSITIVE, NEGATIVE = ord("C"), ord("P"), ord("N")

CM_INIT, CM_STATUS, CM_MOVE, CM_ENTRY = 0x30, 0x31, 0x32, 0x33
PM_INIT_CAPTURE = 0x31
PM_STATUS = 0x30
PM_RF, PM_REJECT, PM_EXIT = 0x32, 0x33, 0x39
PM_ENTRY_PROHIBIT, PM_ENTRY_TO_RF = 0x30, 0x31

MAX_TEXT = 512  # longer LEN fields are line noise, not a reply
_READ_SLICE_S = 0.05  # pyserial read timeout; the real bound is each wait's deadline

ERROR_TEXT = {
    "00": "undefined command",
    "01": "parameter error",
    "02": "command cannot be executed now",
    "03": "hardware does not support the command",
    "04": "command data error",
    "10": "card jam",
    "12": "sensor error",
    "13": "card too long",
    "14": "card too short",
    "A0": "no card in the stacker",
    "A1": "reject bin full",
    "B0": "not initialised",
}
_ERROR_TYPES: dict[str, type[DispenserRejected]] = {
    "10": DispenserJam,
    "A0": DispenserEmpty,
    "A1": RejectBinFull,
}
_CHANNEL = {ord("0"): (False, False), ord("1"): (False, True), ord("2"): (True, False)}
_STOCK = {ord("0"): StockLevel.EMPTY, ord("1"): StockLevel.LOW, ord("2"): StockLevel.OK}
_BIN_FULL = {ord("0"): False, ord("1"): True}


class BadFrame(DispenserCommError):
    """A frame that is not a well-formed CRT-591 frame (bad BCC, ETX, length or type)."""


@dataclass(frozen=True)
class Reply:
    """A decoded reply: positive with three status bytes, or negative with an error code."""

    positive: bool
    cm: int
    pm: int
    status: bytes  # st0 st1 st2 (positive replies)
    error: str  # e1 e0 as text (negative replies)
    data: bytes


def bcc(data: bytes) -> int:
    value = 0
    for byte in data:
        value ^= byte
    return value


def build_frame(address: int, text: bytes) -> bytes:
    """Wrap TEXT in STX, address, length, ETX and BCC."""
    body = bytes([STX, address]) + len(text).to_bytes(2, "big") + text + bytes([ETX])
    return body + bytes([bcc(body)])


def command_frame(address: int, cm: int, pm: int, data: bytes = b"") -> bytes:
    return build_frame(address, bytes([COMMAND, cm, pm]) + data)


def decode_text(text: bytes) -> Reply:
    """Decode a reply's TEXT field."""
    if len(text) < 3 or text[0] not in (POSITIVE, NEGATIVE):
        raise BadFrame(f"not a reply: {text[:8].hex()}")
    if text[0] == POSITIVE:
        if len(text) < 6:
            raise BadFrame("positive reply without three status bytes")
        return Reply(True, text[1], text[2], text[3:6], "", text[6:])
    if len(text) < 5:
        raise BadFrame("negative reply without an error code")
    return Reply(False, text[1], text[2], b"", text[3:5].decode("ascii", "replace"), text[5:])


def parse_status(st: bytes, jammed: bool = False) -> DispenserStatus:
    """st0 st1 st2 -> DispenserStatus; unknown codes are a BadFrame, never a guess."""
    try:
        at_rf, at_exit = _CHANNEL[st[0]]
        return DispenserStatus(_STOCK[st[1]], _BIN_FULL[st[2]], at_rf, at_exit, jammed)
    except (KeyError, IndexError) as exc:
        raise BadFrame(f"unknown status bytes {st.hex()}") from exc


def rejection(reply: Reply) -> DispenserRejected:
    """The typed error for a negative reply."""
    text = ERROR_TEXT.get(reply.error, "unknown error")
    error_type = _ERROR_TYPES.get(reply.error, DispenserRejected)
    return error_type(
        f"CRT-591 refused command {reply.cm:02X}/{reply.pm:02X}: {reply.error} {text}", reply.error
    )


class Crt591Dispenser:
    """A CRT-591 on a serial port. Thread-safe: one exchange at a time."""

    def __init__(
        self,
        port: str,
        *,
        address: int = 0,
        baudrate: int = 9600,
        ack_timeout: float = 0.5,
        reply_timeout: float = 8.0,
        retries: int = 3,
        poll_interval: float = 0.2,
        name: str = "dispenser",
    ) -> None:
        self.name = name
        self._port_name = port
        self._address = address
        self._baudrate = baudrate
        self._ack_timeout = ack_timeout
        self._reply_timeout = reply_timeout
        self._retries = retries
        self._poll_interval = poll_interval
        self._serial: serial.Serial | None = None
        self._lock = threading.Lock()
        self._jammed = False

    def open(self) -> None:
        if self._serial is not None:
            return
        try:
            self._serial = serial.Serial(
                self._port_name,
                self._baudrate,
                bytesize=serial.EIGHTBITS,
                parity=serial.PARITY_NONE,
                stopbits=serial.STOPBITS_ONE,
                timeout=_READ_SLICE_S,
                write_timeout=self._ack_timeout,
            )
        except (serial.SerialException, OSError) as exc:
            raise DispenserError(f"cannot open {self._port_name}: {exc}") from exc

    def close(self) -> None:
        if self._serial is not None:
            self._serial.close()
            self._serial = None

    def __enter__(self) -> Crt591Dispenser:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- operations -----------------------------------------------------------------
    def reset(self) -> None:
        self._command(CM_INIT, PM_INIT_CAPTURE)
        self._jammed = False

    def status(self) -> DispenserStatus:
        return parse_status(self._command(CM_STATUS, PM_STATUS).status, self._jammed)

    def move_to_rf(self) -> None:
        self._command(CM_MOVE, PM_RF)

    def present(self) -> None:
        self._command(CM_MOVE, PM_EXIT)

    def capture(self) -> None:
        self._command(CM_MOVE, PM_REJECT)

    def wait_taken(self, timeout: float) -> bool:
        return poll_until_taken(self.status, timeout, self._poll_interval)

    def take_in(self, timeout: float) -> bool:
        if self.status().card_in_channel:
            raise DispenserError("a card is in the channel: capture or present it first")
        self._command(CM_ENTRY, PM_ENTRY_TO_RF)
        try:
            deadline = time.monotonic() + timeout
            while not self.status().card_at_rf:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                time.sleep(min(self._poll_interval, remaining))
            return True
        finally:
            # Closed again whatever happened: no second card may follow the first one in.
            self._command(CM_ENTRY, PM_ENTRY_PROHIBIT)

    def health(self) -> DeviceHealth:
        try:
            return dispenser_health(self.name, self.status())
        except DispenserError as exc:
            return health_of_error(self.name, exc)

    # -- exchange ----------------------------------------------------------------------
    def _command(self, cm: int, pm: int, data: bytes = b"") -> Reply:
        """One exchange; a negative reply raises its typed error."""
        reply = self._exchange(cm, pm, data)
        if (reply.cm, reply.pm) != (cm, pm):
            raise DispenserCommError(
                f"reply to {reply.cm:02X}/{reply.pm:02X}, expected {cm:02X}/{pm:02X}"
            )
        if not reply.positive:
            error = rejection(reply)
            if isinstance(error, DispenserJam):
                self._jammed = True
            raise error
        return reply

    def _exchange(self, cm: int, pm: int, data: bytes) -> Reply:
        port = self._require_port()
        frame = command_frame(self._address, cm, pm, data)
        with self._lock:
            self._send_until_acked(port, frame)
            self._write(port, bytes([ENQ]))
            last: DispenserCommError | None = None
            for _ in range(self._retries + 1):
                try:
                    return self._read_reply(port, time.monotonic() + self._reply_timeout)
                except BadFrame as exc:
                    log.warning("CRT-591: corrupt reply to %02X/%02X (%s), NAK", cm, pm, exc)
                    last = exc
                    port.reset_input_buffer()
                    self._write(port, bytes([NAK]))
            raise DispenserCommError(
                f"no valid reply to {cm:02X}/{pm:02X} after {self._retries + 1} tries: {last}"
            )

    def _send_until_acked(self, port: serial.Serial, frame: bytes) -> None:
        """Send ``frame`` until it is ACKed; NAK, noise or silence make it try again."""
        naks = silences = 0
        for _ in range(self._retries + 1):
            port.reset_input_buffer()  # stale bytes from an earlier, abandoned exchange
            self._write(port, frame)
            answer = self._read_exact(port, 1, time.monotonic() + self._ack_timeout)
            if answer == bytes([ACK]):
                return
            if answer == bytes([NAK]):
                naks += 1
                log.info("CRT-591: NAK, sending the command again")
            elif not answer:
                silences += 1
            else:
                log.info("CRT-591: %s instead of ACK, sending the command again", answer.hex())
        tries = self._retries + 1
        if silences == tries:
            raise DispenserTimeout(f"CRT-591 on {self._port_name} did not answer ({tries} tries)")
        if naks == tries:
            raise DispenserNAK(f"CRT-591 NAKed the command {tries} times")
        raise DispenserCommError(f"CRT-591 did not ACK the command in {tries} tries")

    def _read_reply(self, port: serial.Serial, deadline: float) -> Reply:
        """Read one frame (noise before STX is skipped) and decode it."""
        while True:
            first = self._read_exact(port, 1, deadline)
            if not first:
                raise DispenserTimeout(f"CRT-591 on {self._port_name}: no reply in time")
            if first[0] == STX:
                break
        header = self._read_exact(port, 3, deadline)
        if len(header) < 3:
            raise DispenserTimeout("CRT-591: reply cut short")
        length = int.from_bytes(header[1:3], "big")
        if length > MAX_TEXT:
            raise BadFrame(f"length {length} out of range")
        rest = self._read_exact(port, length + 2, deadline)
        if len(rest) < length + 2:
            raise DispenserTimeout("CRT-591: reply cut short")
        frame = first + header + rest
        if frame[-2] != ETX:
            raise BadFrame("no ETX where the length says")
        if bcc(frame[:-1]) != frame[-1]:
            raise BadFrame(f"BCC {frame[-1]:02X}, computed {bcc(frame[:-1]):02X}")
        if header[0] != self._address:
            raise BadFrame(f"reply from address {header[0]}, expected {self._address}")
        return decode_text(frame[4:-2])

    @staticmethod
    def _read_exact(port: serial.Serial, count: int, deadline: float) -> bytes:
        """Up to ``count`` bytes; fewer only when ``deadline`` passed."""
        buffer = bytearray()
        while len(buffer) < count:
            try:
                buffer += port.read(count - len(buffer))
            except serial.SerialException as exc:
                raise DispenserError(f"serial port failed: {exc}") from exc
            if len(buffer) < count and time.monotonic() >= deadline:
                break
        return bytes(buffer)

    def _write(self, port: serial.Serial, data: bytes) -> None:
        try:
            port.write(data)
            port.flush()
        except serial.SerialTimeoutException as exc:
            raise DispenserTimeout(f"CRT-591 on {self._port_name}: write timed out") from exc
        except serial.SerialException as exc:
            raise DispenserError(f"serial port failed: {exc}") from exc

    def _require_port(self) -> serial.Serial:
        if self._serial is None:
            raise DispenserError("dispenser not open")
        return self._serial
