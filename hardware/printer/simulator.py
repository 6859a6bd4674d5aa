"""A simulated receipt printer: each receipt becomes a PNG in a folder, on a paper roll
that runs down (near end, out) and can be taken offline."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from hardware.health import DeviceHealth
from hardware.printer.png_render import CELL_H, render_png
from hardware.printer.protocol import (
    PaperLevel,
    PaperOut,
    PrinterOffline,
    PrinterStatus,
    check_printable,
    printer_health,
)
from hardware.printer.receipt import Receipt


class SimPrinter:
    """Paper is counted in 24-dot rows (one normal text row). Knobs: ``paper_rows``,
    ``near_end_rows``, ``offline``; ``set_paper`` sets the paper to a level (a fresh roll
    holds ``roll_rows``)."""

    def __init__(
        self,
        folder: Path,
        *,
        paper_rows: int = 3000,
        near_end_rows: int = 300,
        roll_rows: int = 3000,
        columns: int = 48,
        font_path: Path | None = None,
        name: str = "printer",
    ) -> None:
        self.name = name
        self.folder = folder
        self.paper_rows = paper_rows
        self.roll_rows = roll_rows
        self.near_end_rows = near_end_rows
        self.offline = False
        self.columns = columns
        self.font_path = font_path
        self.printed: list[Path] = []
        self._lock = threading.Lock()

    def open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def close(self) -> None:
        return None

    def status(self) -> PrinterStatus:
        if self.offline:
            raise PrinterOffline("simulated printer is offline")
        if self.paper_rows <= 0:
            return PrinterStatus(True, PaperLevel.OUT)
        near_end = self.paper_rows <= self.near_end_rows
        return PrinterStatus(True, PaperLevel.NEAR_END if near_end else PaperLevel.OK)

    def set_paper(self, level: PaperLevel) -> None:
        """Paper at ``level``: OK a fresh roll, NEAR_END the near-end mark (still enough
        for a receipt or two), OUT none."""
        rows = {
            PaperLevel.OK: self.roll_rows,
            PaperLevel.NEAR_END: self.near_end_rows,
            PaperLevel.OUT: 0,
        }
        if level not in rows:
            raise ValueError(f"a simulated roll cannot be {level.value}")
        with self._lock:
            self.paper_rows = rows[level]

    def print_receipt(self, receipt: Receipt) -> None:
        """Render to ``folder/receipt-<UTC time>-<n>.png``; the path is in ``printed``."""
        with self._lock:
            check_printable(self.status())
            image = render_png(receipt, self.columns, self.font_path)
            rows = -(-image.height // CELL_H)
            if rows > self.paper_rows:
                raise PaperOut(f"{self.paper_rows} rows of paper left, the receipt needs {rows}")
            self.folder.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            path = self.folder / f"receipt-{stamp}-{len(self.printed) + 1:04d}.png"
            image.save(path, format="PNG")
            self.paper_rows -= rows
            self.printed.append(path)

    def health(self) -> DeviceHealth:
        try:
            health = printer_health(self.name, self.status())
        except PrinterOffline:
            health = printer_health(self.name, PrinterStatus(False, PaperLevel.UNKNOWN))
        health.metrics["paper_rows"] = self.paper_rows
        return health
