"""The one receipt model, and its layout on a grid of the printer's columns.

A ``Receipt`` is a list of lines (text, a left/right pair, a separator, a QR code, a
logo). ``layout`` turns it into rows that already fit the columns (wrapped, padded),
and both renderers (ESC/POS and PNG) print exactly those rows, so the on-screen receipt
and the paper one have the same lines. CJK characters take two columns, as on a printer.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Align(StrEnum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


@dataclass(frozen=True)
class Text:
    text: str
    align: Align = Align.LEFT
    bold: bool = False
    double: bool = False  # double width and height: half as many columns


@dataclass(frozen=True)
class Pair:
    """A label on the left and a value on the right: "Room 301 ....... 100.00"."""

    left: str
    right: str
    bold: bool = False


@dataclass(frozen=True)
class Separator:
    char: str = "-"


@dataclass(frozen=True)
class QrCode:
    data: str
    module_dots: int = 6  # printer dots per QR module (python-escpos allows 1-16)


@dataclass(frozen=True)
class Logo:
    path: Path


Line = Text | Pair | Separator | QrCode | Logo


@dataclass(frozen=True)
class Receipt:
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class TextRow:
    """One printed text row that fits the grid: ``cells(text) <= columns // (2 if double)``."""

    text: str
    align: Align = Align.LEFT
    bold: bool = False
    double: bool = False


Row = TextRow | QrCode | Logo


def char_cells(char: str) -> int:
    """Columns a character takes: 2 for wide (CJK) characters, 0 for combining marks."""
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def cells(text: str) -> int:
    return sum(char_cells(char) for char in text)


def wrap(text: str, width: int) -> list[str]:
    """Split ``text`` into rows of at most ``width`` cells, at a space when there is one."""
    rows: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for char in paragraph:
            if cells(current) + char_cells(char) <= width:
                current += char
                continue
            cut = current.rfind(" ")
            if char != " " and cut > 0:
                rows.append(current[:cut].rstrip())
                current = current[cut + 1 :] + char
            else:
                rows.append(current.rstrip())
                current = "" if char == " " else char
        rows.append(current.rstrip())
    return rows


def layout(receipt: Receipt, columns: int) -> list[Row]:
    """The rows both renderers print, for a printer of ``columns`` normal-size columns."""
    rows: list[Row] = []
    for line in receipt.lines:
        if isinstance(line, Text):
            width = columns // 2 if line.double else columns
            rows += [
                TextRow(row, line.align, line.bold, line.double) for row in wrap(line.text, width)
            ]
        elif isinstance(line, Pair):
            rows += _pair_rows(line, columns)
        elif isinstance(line, Separator):
            rows.append(TextRow((line.char * columns)[:columns]))
        else:
            rows.append(line)
    return rows


def _pair_rows(pair: Pair, columns: int) -> list[TextRow]:
    gap = columns - cells(pair.left) - cells(pair.right)
    if gap >= 1:
        return [TextRow(pair.left + " " * gap + pair.right, bold=pair.bold)]
    # Too long for one row: the label wraps, the value goes right-aligned under it.
    rows = [TextRow(row, bold=pair.bold) for row in wrap(pair.left, columns)]
    return rows + [TextRow(row, Align.RIGHT, pair.bold) for row in wrap(pair.right, columns)]
