"""The escpos-backed printer: bytes captured from a network printer on loopback and from a
File printer; real-time status (DLE EOT) parsed; a printer that never answers is offline."""

from __future__ import annotations

import os
import select
import socket
import threading
import time
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.health import HealthLevel
from hardware.printer import (
    Align,
    Pair,
    PaperLevel,
    PaperOut,
    PrinterConfig,
    PrinterError,
    PrinterOffline,
    QrCode,
    Receipt,
    Separator,
    Text,
    open_printer,
)
from hardware.printer.driver import EscposPrinter
from hardware.printer.protocol import parse_online, parse_paper

pytestmark = pytest.mark.timeout(20)

DLE_EOT = b"\x10\x04"
ONLINE, OFFLINE = 0x12, 0x1A  # DLE EOT 1: fixed bits, plus bit 3 when offline
PAPER_OK, PAPER_NEAR_END, PAPER_OUT = 0x12, 0x1E, 0x72  # DLE EOT 4

GUEST = "Zhang Wei"
RECEIPT = Receipt(
    (
        Text("Harbour View Hotel", Align.CENTER, bold=True, double=True),
        Text("港景酒店 入住凭条", Align.CENTER),
        Separator(),
        Pair("Guest", GUEST),
        Pair("Paid", "CNY 100.00", bold=True),
        QrCode("https://example.test/b/ABC123", 5),
    )
)


class FakeNetworkPrinter:
    """A TCP server on loopback standing in for a printer's raw port 9100 (the physical
    printer cannot run here). It records every byte and answers DLE EOT n queries from
    ``answers``, or never answers when ``silent``."""

    def __init__(self) -> None:
        self.answers = {1: bytes([ONLINE]), 4: bytes([PAPER_OK])}
        self.silent = False
        self.received = bytearray()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.1)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> FakeNetworkPrinter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._server.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(0.1)
                self._talk(conn)

    def _talk(self, conn: socket.socket) -> None:
        pending = b""
        while not self._stop.is_set():
            try:
                data = conn.recv(4096)
            except TimeoutError:
                continue
            if not data:
                return
            self.received += data
            pending += data
            while (at := pending.find(DLE_EOT)) >= 0 and len(pending) > at + 2:
                n = pending[at + 2]
                pending = pending[at + 3 :]
                if not self.silent:
                    conn.sendall(self.answers.get(n, b""))
            pending = pending[-2:]


@pytest.fixture
def net_printer() -> Iterator[FakeNetworkPrinter]:
    with FakeNetworkPrinter() as server:
        yield server


def network_config(server: FakeNetworkPrinter, **extra) -> PrinterConfig:
    return PrinterConfig(
        driver="escpos", connection="network", host="127.0.0.1", port=server.port, **extra
    )


def wait_for(predicate, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def assert_receipt_sequences(stream: bytes) -> None:
    assert b"\x1bE\x01" in stream  # ESC E 1: bold on
    assert b"\x1b!\x30" in stream  # ESC ! 0x30: double width and height
    assert b"\x1ba\x01" in stream  # ESC a 1: centred
    assert b"\x1dV" in stream and stream.rstrip(b"\n").endswith((b"\x1dV\x00", b"\x1dVA\x00"))
    qr = b"https://example.test/b/ABC123"
    # GS ( k pL pH cn=49 fn=80 m=48 data: store the QR data, then fn=81: print it.
    store = b"\x1d(k" + (len(qr) + 3).to_bytes(2, "little") + b"1P0" + qr
    assert store in stream
    assert b"\x1d(k\x03\x001Q0" in stream
    assert b"Harbour View Hotel" in stream
    assert "港景酒店 入住凭条".encode("gb18030") in stream
    assert b"Paid" + b" " * 34 + b"CNY 100.00" in stream  # 48 columns, right-aligned value


def test_network_printer_receives_the_receipt(net_printer: FakeNetworkPrinter) -> None:
    printer = open_printer(network_config(net_printer))
    try:
        printer.print_receipt(RECEIPT)
    finally:
        printer.close()
    wait_for(lambda: b"\x1dV" in net_printer.received)
    stream = bytes(net_printer.received)
    assert_receipt_sequences(stream)
    # The status was checked before the first byte of the receipt.
    assert stream.startswith(b"\x10\x04\x01\x10\x04\x04")


def test_file_printer_gets_the_same_stream(tmp_path: Path) -> None:
    device = tmp_path / "lp0"
    printer = open_printer(PrinterConfig(driver="escpos", connection="file", file_path=device))
    assert printer.status().paper is PaperLevel.UNKNOWN
    assert printer.health().level is HealthLevel.OK
    printer.print_receipt(RECEIPT)
    printer.close()
    stream = device.read_bytes()
    assert_receipt_sequences(stream)
    assert b"\x10\x04" not in stream  # a file cannot answer, so it is never asked


@pytest.mark.parametrize(
    ("paper", "level", "health"),
    [
        (PAPER_OK, PaperLevel.OK, HealthLevel.OK),
        (PAPER_NEAR_END, PaperLevel.NEAR_END, HealthLevel.WARNING),
        (0x16, PaperLevel.NEAR_END, HealthLevel.WARNING),  # only one near-end bit set
        (PAPER_OUT, PaperLevel.OUT, HealthLevel.FAULT),
    ],
)
def test_paper_status_from_the_printer(
    net_printer: FakeNetworkPrinter, paper: int, level: PaperLevel, health: HealthLevel
) -> None:
    net_printer.answers[4] = bytes([paper])
    printer = EscposPrinter(network_config(net_printer))
    try:
        status = printer.status()
        assert status.paper is level and status.online is True
        assert printer.health().level is health
    finally:
        printer.close()


def test_paper_out_refuses_the_receipt_before_sending_it(
    net_printer: FakeNetworkPrinter,
) -> None:
    net_printer.answers[4] = bytes([PAPER_OUT])
    printer = EscposPrinter(network_config(net_printer))
    try:
        with pytest.raises(PaperOut):
            printer.print_receipt(RECEIPT)
    finally:
        printer.close()
    assert b"Harbour" not in net_printer.received


def test_printer_reporting_offline(net_printer: FakeNetworkPrinter) -> None:
    net_printer.answers[1] = bytes([OFFLINE])
    printer = EscposPrinter(network_config(net_printer))
    try:
        assert printer.status().online is False
        assert printer.health().level is HealthLevel.FAULT
        with pytest.raises(PrinterOffline):
            printer.print_receipt(RECEIPT)
    finally:
        printer.close()


def test_printer_that_never_answers_is_offline_within_the_timeout(
    net_printer: FakeNetworkPrinter, caplog: pytest.LogCaptureFixture
) -> None:
    net_printer.silent = True
    printer = EscposPrinter(network_config(net_printer, timeout_s=0.3))
    started = time.monotonic()
    with pytest.raises(PrinterOffline):
        printer.print_receipt(RECEIPT)
    assert 0.25 <= time.monotonic() - started < 1.5
    health = printer.health()
    assert health.level is HealthLevel.FAULT and "PrinterOffline" in health.detail
    assert GUEST not in caplog.text  # the receipt's guest data is never logged
    # The link is reopened once the printer answers again.
    net_printer.silent = False
    assert printer.status().paper is PaperLevel.OK
    printer.close()


def test_nothing_listening_is_offline() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    printer = EscposPrinter(
        PrinterConfig(driver="escpos", host="127.0.0.1", port=port, timeout_s=0.3)
    )
    with pytest.raises(PrinterOffline, match="cannot connect"):
        printer.status()
    assert printer.health().level is HealthLevel.FAULT


def test_malformed_status_bytes_are_an_error_not_a_guess(
    net_printer: FakeNetworkPrinter,
) -> None:
    net_printer.answers[4] = b"\xff"
    printer = EscposPrinter(network_config(net_printer))
    try:
        with pytest.raises(PrinterError, match="malformed"):
            printer.status()
    finally:
        printer.close()
    with pytest.raises(PrinterError):
        parse_online(0x00)
    assert parse_online(ONLINE) is True and parse_paper(PAPER_OUT) is PaperLevel.OUT


def test_serial_printer_status_over_a_pty() -> None:
    """A serial printer: the driver opens the pty's slave; a thread answers on the master."""
    master, slave = os.openpty()
    tty.setraw(slave)
    stop = threading.Event()

    def answer() -> None:
        while not stop.is_set():
            if select.select([master], [], [], 0.02)[0]:
                request = os.read(master, 64)
                if request.endswith(b"\x10\x04\x01"):
                    os.write(master, bytes([ONLINE]))
                elif request.endswith(b"\x10\x04\x04"):
                    os.write(master, bytes([PAPER_NEAR_END]))

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    config = PrinterConfig(
        driver="escpos", connection="serial", serial_port=os.ttyname(slave), timeout_s=1.0
    )
    printer = EscposPrinter(config)
    try:
        started = time.monotonic()
        assert printer.status().paper is PaperLevel.NEAR_END
        assert time.monotonic() - started < 0.5  # one byte is enough; no waiting out the timeout
    finally:
        printer.close()
        stop.set()
        thread.join(timeout=2)
        os.close(master)
        os.close(slave)
