"""The simulated printer: PNGs in a folder, a paper roll that runs down, offline knob."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from hardware.health import HealthLevel
from hardware.printer import (
    PaperLevel,
    PaperOut,
    PrinterConfig,
    PrinterOffline,
    Receipt,
    Separator,
    Text,
    open_printer,
)
from hardware.printer.png_render import render_png
from hardware.printer.simulator import SimPrinter

pytestmark = pytest.mark.timeout(30)

SHORT = Receipt((Text("Harbour View Hotel", bold=True), Separator(), Text("Room 301")))
ROWS = 4  # 3 text rows + two 12-dot margins, in 24-dot rows


def test_prints_png_files_that_match_the_renderer(tmp_path: Path) -> None:
    printer = open_printer(PrinterConfig(sim_folder=tmp_path / "out", columns=32))
    assert isinstance(printer, SimPrinter)
    printer.print_receipt(SHORT)
    printer.print_receipt(SHORT)
    assert len(printer.printed) == 2 and len({p.name for p in printer.printed}) == 2
    with Image.open(printer.printed[0]) as saved:
        assert saved.tobytes() == render_png(SHORT, 32).tobytes()


def test_paper_runs_down_to_near_end_then_out(tmp_path: Path) -> None:
    printer = SimPrinter(tmp_path, paper_rows=2 * ROWS, near_end_rows=ROWS)
    assert printer.status().paper is PaperLevel.OK
    printer.print_receipt(SHORT)
    assert printer.status().paper is PaperLevel.NEAR_END
    health = printer.health()
    assert health.level is HealthLevel.WARNING and health.metrics["paper_rows"] == ROWS
    printer.print_receipt(SHORT)
    assert printer.status().paper is PaperLevel.OUT
    assert printer.health().level is HealthLevel.FAULT
    with pytest.raises(PaperOut):
        printer.print_receipt(SHORT)
    assert len(printer.printed) == 2


def test_a_receipt_longer_than_the_paper_left_is_refused_whole(tmp_path: Path) -> None:
    printer = SimPrinter(tmp_path, paper_rows=ROWS - 1, near_end_rows=0)
    with pytest.raises(PaperOut, match="needs"):
        printer.print_receipt(SHORT)
    assert printer.paper_rows == ROWS - 1 and list(tmp_path.iterdir()) == []


def test_offline_knob(tmp_path: Path) -> None:
    printer = SimPrinter(tmp_path)
    printer.offline = True
    with pytest.raises(PrinterOffline):
        printer.print_receipt(SHORT)
    assert printer.health().level is HealthLevel.FAULT
    printer.offline = False
    printer.print_receipt(SHORT)
    assert printer.health().level is HealthLevel.OK
