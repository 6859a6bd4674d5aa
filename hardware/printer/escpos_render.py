"""Send a receipt to any python-escpos printer object (Usb, Serial, Network, File, Dummy).

Rows come from ``receipt.layout``, the same rows the PNG renderer draws. Text goes
through python-escpos's code-page switching; lines with CJK ideographs are sent as
GB18030 by python-escpos, which is what Chinese-market ESC/POS printers expect. QR codes
use the printer's own QR command (GS ( k) so they stay sharp at any size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hardware.printer.receipt import Align, Logo, QrCode, Receipt, TextRow, layout

if TYPE_CHECKING:  # python-escpos is slow to import; callers bring their printer object
    from escpos.escpos import Escpos


def render_escpos(receipt: Receipt, printer: Escpos, columns: int = 48, cut: bool = True) -> None:
    """Print ``receipt`` on ``printer`` and cut the paper; printer errors propagate."""
    for row in layout(receipt, columns):
        if isinstance(row, TextRow):
            printer.set(
                align=row.align.value,
                bold=row.bold,
                normal_textsize=not row.double,
                double_width=row.double,
                double_height=row.double,
            )
            printer.textln(row.text)
        elif isinstance(row, QrCode):
            printer.set(align=Align.CENTER.value)
            printer.qr(row.data, size=row.module_dots, native=True)
            printer.ln()
        elif isinstance(row, Logo):
            printer.image(str(row.path), center=True)
    printer.set(align=Align.LEFT.value, bold=False, normal_textsize=True)
    if cut:
        printer.cut()
