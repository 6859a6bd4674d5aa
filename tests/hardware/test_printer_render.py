"""The receipt model's layout, and the PNG rendering against the ESC/POS stream."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from escpos.printer import Dummy
from PIL import Image, ImageChops

from hardware.printer.escpos_render import render_escpos
from hardware.printer.png_render import CELL_H, CELL_W, MARGIN, render_png, save_png
from hardware.printer.receipt import (
    Align,
    Logo,
    Pair,
    QrCode,
    Receipt,
    Separator,
    Text,
    TextRow,
    cells,
    layout,
)

pytestmark = pytest.mark.timeout(60)

COLUMNS = 48
NO_CJK_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
BOOKING_URL = "https://example.test/b/ABC123"
RECEIPT = Receipt(
    (
        Text("Harbour View Hotel", Align.CENTER, bold=True, double=True),
        Text("港景酒店 · 入住凭条", Align.CENTER),
        Separator(),
        Pair("Room", "301"),
        Pair("Check-out", "2026-03-05 12:00"),
        Separator("="),
        Pair("Paid", "CNY 100.00", bold=True),
        Text(""),
        Text("请妥善保管房卡。Please keep your room card with you at all times.", Align.LEFT),
        Text("Thank you!", Align.RIGHT),
        QrCode(BOOKING_URL, 5),
    )
)


def dark_pixels(image: Image.Image) -> int:
    return int((np.asarray(image.convert("L")) < 128).sum())


def text_lines_of(stream: bytes) -> list[str]:
    """The text rows of an ESC/POS stream: control sequences stripped, graphics rows left out."""
    lines = []
    for chunk in stream.split(b"\n"):
        if b"\x1d" in chunk:  # QR, image or cut commands, not a text row
            continue
        lines.append(re.sub(rb"\x1b[!Eat].", b"", chunk).decode("gb18030"))
    return lines


def test_pairs_fill_the_columns_and_wide_characters_count_twice() -> None:
    rows = layout(Receipt((Pair("Room", "301"), Pair("房间", "301"), Separator("*"))), COLUMNS)
    assert [cells(row.text) for row in rows] == [COLUMNS, COLUMNS, COLUMNS]
    assert rows[1].text == "房间" + " " * (COLUMNS - 7) + "301"


def test_long_text_wraps_at_spaces_and_within_the_grid() -> None:
    rows = layout(RECEIPT, COLUMNS)
    text_rows = [row for row in rows if isinstance(row, TextRow)]
    for row in text_rows:
        assert cells(row.text) <= (COLUMNS // 2 if row.double else COLUMNS)
    wrapped = [row.text for row in text_rows if "keep" in row.text or "times" in row.text]
    assert len(wrapped) == 2
    # Broken at a space, nothing lost: the rows joined by that space are the text again.
    assert " ".join(wrapped) == RECEIPT.lines[8].text


def test_a_pair_too_long_for_one_row_puts_the_value_under_the_label() -> None:
    rows = layout(Receipt((Pair("x" * 40, "CNY 1,000,000.00"),)), COLUMNS)
    assert rows == [TextRow("x" * 40), TextRow("CNY 1,000,000.00", Align.RIGHT)]


def test_png_has_the_same_text_rows_as_the_escpos_stream() -> None:
    printer = Dummy()
    render_escpos(RECEIPT, printer, COLUMNS)
    rows = layout(RECEIPT, COLUMNS)
    text_rows = [row for row in rows if isinstance(row, TextRow)]
    assert text_lines_of(printer.output)[: len(text_rows)] == [row.text for row in text_rows]

    image = render_png(RECEIPT, COLUMNS)
    assert image.width == COLUMNS * CELL_W + 2 * MARGIN
    y = MARGIN
    for row in text_rows:  # the text rows come first, then the QR code
        height = CELL_H * (2 if row.double else 1)
        band = image.crop((MARGIN, y, MARGIN + COLUMNS * CELL_W, y + height))
        assert (dark_pixels(band) > 0) == bool(row.text.strip()), row.text
        y += height
    qr = zxingcpp.read_barcodes(image.crop((0, y, image.width, image.height)))
    assert [code.text for code in qr] == [BOOKING_URL]


def test_png_evidence(tmp_path: Path) -> None:
    path = save_png(RECEIPT, tmp_path / "receipt.png", COLUMNS)  # looked at by hand once
    with Image.open(path) as saved:
        assert saved.format == "PNG" and saved.size == render_png(RECEIPT, COLUMNS).size


def test_cjk_glyphs_are_drawn() -> None:
    cjk = Receipt((Text("港景酒店入住凭条"),))
    with_glyphs = render_png(cjk, COLUMNS)
    area = with_glyphs.crop((MARGIN, MARGIN, MARGIN + 16 * CELL_W, MARGIN + CELL_H))
    assert dark_pixels(area) > 200  # 8 ideographs of ink, not a blank row
    missing = render_png(cjk, COLUMNS, font_path=NO_CJK_FONT)  # a font without CJK glyphs
    assert ImageChops.difference(with_glyphs, missing).getbbox() is not None
    # Each ideograph is a different glyph, not the same "missing" box repeated.
    first, second = (area.crop((i * 2 * CELL_W, 0, (i + 1) * 2 * CELL_W, CELL_H)) for i in range(2))
    assert ImageChops.difference(first, second).getbbox() is not None


def test_bold_double_and_alignment_change_the_image() -> None:
    plain = render_png(Receipt((Text("Room 301"),)), COLUMNS)
    bold = render_png(Receipt((Text("Room 301", bold=True),)), COLUMNS)
    double = render_png(Receipt((Text("Room 301", double=True),)), COLUMNS)
    right = render_png(Receipt((Text("Room 301", Align.RIGHT),)), COLUMNS)
    assert dark_pixels(bold) > dark_pixels(plain) * 1.2
    assert double.height == plain.height + CELL_H
    assert dark_pixels(double) > dark_pixels(plain) * 3
    half = COLUMNS * CELL_W // 2 + MARGIN
    assert dark_pixels(plain.crop((half, 0, plain.width, plain.height))) == 0
    assert dark_pixels(right.crop((0, 0, half, right.height))) == 0


def test_logo_in_both_renderings(tmp_path: Path) -> None:
    logo_path = tmp_path / "logo.png"
    Image.new("L", (120, 40), 0).save(logo_path)
    receipt = Receipt((Logo(logo_path), Text("Harbour View")))
    printer = Dummy()
    render_escpos(receipt, printer, COLUMNS)
    assert b"\x1dv0" in printer.output  # GS v 0: raster bit image
    image = render_png(receipt, COLUMNS)
    centre = image.crop((image.width // 2 - 50, MARGIN, image.width // 2 + 50, MARGIN + 40))
    assert dark_pixels(centre) == 100 * 40


def test_missing_font_falls_back_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        image = render_png(Receipt((Text("Room 301"),)), COLUMNS, font_path=tmp_path / "no.ttf")
    assert "no CJK glyphs" in caplog.text
    assert dark_pixels(image) > 0
