"""The python-escpos backed receipt printer.

Status comes from ESC/POS real-time status (DLE EOT n) where the link can answer
(network, serial, USB): n=1 printer status (bit 3: offline), n=4 paper roll sensor
(bits 2-3: near end, bits 5-6: paper out). A printer that does not answer within
``timeout_s`` is ``PrinterOffline``; a File link cannot answer, so its paper is UNKNOWN.
"""

from __future__ import annotations

import contextlib
import threading

from escpos.constants import RT_STATUS_ONLINE, RT_STATUS_PAPER
from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposLibraryError

from hardware.health import DeviceHealth, HealthLevel
from hardware.printer.config import PrinterConfig
from hardware.printer.escpos_render import render_escpos
from hardware.printer.protocol import (
    PaperLevel,
    PrinterError,
    PrinterOffline,
    PrinterStatus,
    ReceiptPrinter,
    check_printable,
    parse_online,
    parse_paper,
    printer_health,
)
from hardware.printer.receipt import Receipt

__all__ = ["EscposPrinter", "ReceiptPrinter"]


class EscposPrinter:
    """A real printer through python-escpos; the link is opened lazily and reopened after
    a failure. Thread-safe: one receipt or status query at a time."""

    def __init__(self, config: PrinterConfig, name: str = "printer") -> None:
        self.name = name
        self._config = config
        self._link: Escpos | None = None
        self._lock = threading.Lock()

    def open(self) -> None:
        with self._lock:
            self._connected()

    def close(self) -> None:
        with self._lock:
            self._drop_link()

    def status(self) -> PrinterStatus:
        with self._lock:
            return self._status()

    def print_receipt(self, receipt: Receipt) -> None:
        with self._lock:
            check_printable(self._status())
            try:
                render_escpos(receipt, self._connected(), self._config.columns)
            except (OSError, EscposLibraryError) as exc:
                self._drop_link()
                raise PrinterOffline(f"printing failed: {exc}") from exc

    def health(self) -> DeviceHealth:
        try:
            return printer_health(self.name, self.status())
        except PrinterError as exc:
            return DeviceHealth(self.name, HealthLevel.FAULT, f"{type(exc).__name__}: {exc}")

    # -- internals ------------------------------------------------------------------
    def _status(self) -> PrinterStatus:
        if self._config.connection == "file":
            return PrinterStatus(None, PaperLevel.UNKNOWN)
        online = parse_online(self._query(RT_STATUS_ONLINE))
        return PrinterStatus(online, parse_paper(self._query(RT_STATUS_PAPER)))

    def _query(self, request: bytes) -> int:
        link = self._connected()
        try:
            link._raw(request)
            answer = self._read_answer(link)
        except (OSError, EscposLibraryError) as exc:  # socket.timeout is an OSError
            self._drop_link()
            raise PrinterOffline(f"no status within {self._config.timeout_s} s: {exc}") from exc
        if not answer:
            self._drop_link()
            raise PrinterOffline(f"no status within {self._config.timeout_s} s")
        # Printers with automatic status back may have queued more bytes; the newest counts.
        return answer[-1]

    def _read_answer(self, link: Escpos) -> bytes:
        if self._config.connection == "serial":
            # python-escpos reads 16 bytes from serial, i.e. always waits the whole timeout;
            # the answer is one byte.
            return link.device.read(1)  # type: ignore[union-attr]
        return link._read()

    def _connected(self) -> Escpos:
        if self._link is None:
            link = self._make_link()
            try:
                link.open()
            except (OSError, EscposLibraryError) as exc:
                raise PrinterOffline(f"cannot connect to the printer: {exc}") from exc
            self._link = link
        return self._link

    def _make_link(self) -> Escpos:
        config = self._config
        profile = {"profile": config.profile} if config.profile else {}
        if config.connection == "network":
            from escpos.printer import Network

            return Network(config.host, config.port, timeout=config.timeout_s, **profile)
        if config.connection == "serial":
            from escpos.printer import Serial

            return Serial(config.serial_port, config.baudrate, timeout=config.timeout_s, **profile)
        if config.connection == "usb":
            from escpos.printer import Usb

            return Usb(
                config.usb_vendor_id,
                config.usb_product_id,
                timeout=int(config.timeout_s * 1000),  # pyusb counts milliseconds
                **profile,
            )
        from escpos.printer import File

        return File(str(config.file_path), **profile)

    def _drop_link(self) -> None:
        if self._link is not None:
            # It is already broken, or about to be replaced: we only want it gone.
            with contextlib.suppress(OSError, EscposLibraryError):
                self._link.close()
            self._link = None
