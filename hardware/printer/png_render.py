"""Render a receipt to a PNG-ready Pillow image with the printer's layout.

The grid is the printer's: ``columns`` cells of 12 x 24 dots (ESC/POS font A on an
80 mm head is 48 x 12 = 576 dots), double size is 24 x 48, CJK characters take two
cells. Characters are drawn one per cell so the columns line up as on paper. This is
the simulator's output, the on-screen receipt and the test evidence.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from hardware.printer.receipt import Align, Logo, QrCode, Receipt, TextRow, char_cells, layout

log = logging.getLogger(__name__)

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
CELL_W, CELL_H = 12, 24
MARGIN = 12
WHITE, BLACK = 255, 0

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@functools.cache
def load_font(path: Path | None, size: int) -> Font:
    """The font at ``path`` (default: WenQuanYi Micro Hei, which has CJK glyphs); Pillow's
    built-in font, with a warning, when it cannot be loaded."""
    font_path = path or CJK_FONT
    try:
        return ImageFont.truetype(str(font_path), size)
    except OSError:
        log.warning("font %s not found: using Pillow's default font, no CJK glyphs", font_path)
        return ImageFont.load_default(size)


def render_png(receipt: Receipt, columns: int = 48, font_path: Path | None = None) -> Image.Image:
    """The receipt as a greyscale image, ``columns * 12`` dots wide plus margins."""
    width = columns * CELL_W
    blocks = [_render_row(row, width, font_path) for row in layout(receipt, columns)]
    image = Image.new("L", (width + 2 * MARGIN, sum(b.height for b in blocks) + 2 * MARGIN), WHITE)
    y = MARGIN
    for block in blocks:
        image.paste(block, (MARGIN, y))
        y += block.height
    return image


def save_png(
    receipt: Receipt, path: Path, columns: int = 48, font_path: Path | None = None
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    render_png(receipt, columns, font_path).save(path, format="PNG")
    return path


def _render_row(row: TextRow | QrCode | Logo, width: int, font_path: Path | None) -> Image.Image:
    if isinstance(row, TextRow):
        return _text_block(row, width, font_path)
    if isinstance(row, QrCode):
        return _qr_block(row, width)
    return _logo_block(row, width)


def _text_block(row: TextRow, width: int, font_path: Path | None) -> Image.Image:
    scale = 2 if row.double else 1
    cell_w, cell_h = CELL_W * scale, CELL_H * scale
    font = load_font(font_path, cell_h - 2 * scale)
    block = Image.new("L", (width, cell_h), WHITE)
    draw = ImageDraw.Draw(block)
    used = sum(char_cells(char) for char in row.text) * cell_w
    x = {Align.LEFT: 0, Align.CENTER: (width - used) // 2, Align.RIGHT: width - used}[row.align]
    for char in row.text:
        span = char_cells(char) * cell_w
        if span and not char.isspace():
            # Centre the glyph in its cells; bold is a second pass one dot to the right,
            # as a printer's double-strike.
            centre = (x + span / 2, cell_h / 2)
            for dx in (0, scale) if row.bold else (0,):
                draw.text((centre[0] + dx, centre[1]), char, fill=BLACK, font=font, anchor="mm")
        x += span
    return block


def _qr_block(row: QrCode, width: int) -> Image.Image:
    code = qrcode.QRCode(box_size=row.module_dots, border=0)
    code.add_data(row.data)
    code.make(fit=True)
    qr = code.make_image().get_image().convert("L")
    # The printer prints the code centred with a blank row under it.
    block = Image.new("L", (width, qr.height + CELL_H), WHITE)
    block.paste(qr, ((width - qr.width) // 2, 0))
    return block


def _logo_block(row: Logo, width: int) -> Image.Image:
    with Image.open(row.path) as source:
        logo = source.convert("L")
    if logo.width > width:
        logo = logo.resize((width, max(1, logo.height * width // logo.width)))
    logo = logo.point(lambda value: WHITE if value >= 128 else BLACK)  # a thermal head: 1 bit
    block = Image.new("L", (width, logo.height), WHITE)
    block.paste(logo, ((width - logo.width) // 2, 0))
    return block
