"""Receipt printers: one receipt model, ESC/POS and PNG renderers, a real printer and a sim."""

from __future__ import annotations

from hardware.printer.config import PrinterConfig
from hardware.printer.protocol import (
    PaperLevel,
    PaperOut,
    PrinterError,
    PrinterOffline,
    PrinterStatus,
    ReceiptPrinter,
)
from hardware.printer.receipt import Align, Logo, Pair, QrCode, Receipt, Separator, Text


def open_printer(config: PrinterConfig) -> ReceiptPrinter:
    """The printer ``config`` names. The escpos link connects on first use, so a printer
    that is off at start-up shows as a health fault instead of stopping the kiosk."""
    printer: ReceiptPrinter
    if config.driver == "escpos":
        from hardware.printer.driver import EscposPrinter

        printer = EscposPrinter(config)
    else:
        from hardware.printer.simulator import SimPrinter

        if config.sim_folder is None:
            raise ValueError("the simulated printer needs sim_folder (the kiosk's state directory)")
        printer = SimPrinter(
            config.sim_folder,
            paper_rows=config.sim_paper_rows,
            near_end_rows=config.sim_near_end_rows,
            columns=config.columns,
            font_path=config.font_path,
        )
        printer.open()
    return printer


__all__ = [
    "Align",
    "Logo",
    "Pair",
    "PaperLevel",
    "PaperOut",
    "PrinterConfig",
    "PrinterError",
    "PrinterOffline",
    "PrinterStatus",
    "QrCode",
    "Receipt",
    "ReceiptPrinter",
    "Separator",
    "Text",
    "open_printer",
]
