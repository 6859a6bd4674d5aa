"""What the kiosk needs from a receipt printer, and ESC/POS real-time status decoding.

Kept free of python-escpos (slow to import) so that the config and the simulator load fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from hardware.health import DeviceHealth, HealthLevel
from hardware.printer.receipt import Receipt

# DLE EOT status bytes always have bit 1 and bit 4 set, bit 0 and bit 7 clear.
_FIXED_MASK, _FIXED_BITS = 0x93, 0x12
_OFFLINE = 0x08
_NEAR_END, _PAPER_OUT = 0x0C, 0x60


class PaperLevel(StrEnum):
    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"
    UNKNOWN = "unknown"  # the link cannot report it (File)


@dataclass(frozen=True)
class PrinterStatus:
    online: bool | None  # None: the link cannot tell
    paper: PaperLevel


class PrinterError(RuntimeError):
    """The printer could not print the receipt."""


class PrinterOffline(PrinterError):
    """The printer does not answer, or reports itself offline (cover open, error)."""


class PaperOut(PrinterError):
    """No paper (or too little for this receipt)."""


class ReceiptPrinter(Protocol):
    name: str

    def open(self) -> None: ...

    def close(self) -> None: ...

    def status(self) -> PrinterStatus: ...

    def print_receipt(self, receipt: Receipt) -> None:
        """Print and cut; raises ``PaperOut`` / ``PrinterOffline`` / ``PrinterError``."""

    def health(self) -> DeviceHealth: ...


def _check_fixed_bits(byte: int, what: str) -> None:
    if byte & _FIXED_MASK != _FIXED_BITS:
        raise PrinterError(f"malformed {what} status byte {byte:#04x}")


def parse_online(byte: int) -> bool:
    """DLE EOT 1 reply -> online?"""
    _check_fixed_bits(byte, "printer")
    return not byte & _OFFLINE


def parse_paper(byte: int) -> PaperLevel:
    """DLE EOT 4 reply -> paper level."""
    _check_fixed_bits(byte, "paper")
    if byte & _PAPER_OUT:
        return PaperLevel.OUT
    return PaperLevel.NEAR_END if byte & _NEAR_END else PaperLevel.OK


def printer_health(name: str, status: PrinterStatus) -> DeviceHealth:
    """Paper near end -> WARNING; paper out or offline -> FAULT."""
    metrics = {"paper": status.paper.value, "online": status.online}
    if status.online is False:
        return DeviceHealth(name, HealthLevel.FAULT, "printer offline", metrics)
    if status.paper is PaperLevel.OUT:
        return DeviceHealth(name, HealthLevel.FAULT, "paper out", metrics)
    if status.paper is PaperLevel.NEAR_END:
        return DeviceHealth(name, HealthLevel.WARNING, "paper near end", metrics)
    return DeviceHealth(name, HealthLevel.OK, "", metrics)


def check_printable(status: PrinterStatus) -> None:
    """Refuse to start a receipt the printer cannot finish."""
    if status.online is False:
        raise PrinterOffline("printer reports itself offline")
    if status.paper is PaperLevel.OUT:
        raise PaperOut("paper out")
