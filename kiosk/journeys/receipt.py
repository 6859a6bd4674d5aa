"""The check-in receipt as the printer's ``Receipt`` model, in the guest's language.

It carries what a receipt needs and no more guest data: the booking reference, the
holder's initial, rooms, dates, what was paid (card's last four digits at most) and
the deposit held. The same model prints on paper or is shown on screen with a QR code
of its text when the printer is out (``hand_out``, for every journey's receipt).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from hardware.printer.protocol import PrinterError, ReceiptPrinter
from hardware.printer.receipt import Align, Pair, Receipt, Separator, Text, TextRow, layout
from kiosk.i18n import Catalogue
from kiosk.journeys.dialog import Dialog
from kiosk.journeys.messages import Choice, Step, View

log = logging.getLogger(__name__)

RECEIPT_KEYS = (
    "receipt.heading",
    "receipt.booking",
    "receipt.guest",
    "receipt.room",
    "receipt.arrival",
    "receipt.departure",
    "receipt.paid",
    "receipt.card",
    "receipt.approval",
    "receipt.deposit",
    "receipt.nothing_due",
    "receipt.thanks",
)
QR_MAX_CHARS = 600  # a QR a phone reads easily off a screen


@dataclass(frozen=True)
class ReceiptFacts:
    """What the journey knows when it is time for the receipt (no PII beyond an initial)."""

    booking_reference: str
    holder_initial: str
    rooms: tuple[str, ...]
    arrival: datetime
    departure: datetime
    paid: Decimal
    currency: str
    card_last4: str | None = None
    approval_code: str | None = None
    deposit: Decimal = Decimal("0")


def initial_of(name: str) -> str:
    """ "W." for "Wei Wang"; "" for no name."""
    stripped = name.strip()
    return f"{stripped[0]}." if stripped else ""


def build_receipt(
    facts: ReceiptFacts, catalogue: Catalogue, lang: str, heading: str = "receipt.heading"
) -> Receipt:
    def t(key: str, **params: object) -> str:
        return catalogue.translate(key, lang, **params)

    lines: list[Text | Pair | Separator] = [
        Text(t(heading), Align.CENTER, bold=True),
        Separator(),
        Pair(t("receipt.booking"), facts.booking_reference),
        Pair(t("receipt.guest"), facts.holder_initial),
        *(Pair(t("receipt.room"), room) for room in facts.rooms),
        Pair(t("receipt.arrival"), catalogue.format_value(facts.arrival, lang)),
        Pair(t("receipt.departure"), catalogue.format_value(facts.departure, lang)),
        Separator(),
    ]
    if facts.paid > 0:
        amount = f"{catalogue.format_value(facts.paid, lang)} {facts.currency}"
        lines.append(Pair(t("receipt.paid"), amount, bold=True))
        if facts.card_last4:
            lines.append(Pair(t("receipt.card"), f"**** {facts.card_last4}"))
        if facts.approval_code:
            lines.append(Pair(t("receipt.approval"), facts.approval_code))
    else:
        lines.append(Text(t("receipt.nothing_due")))
    if facts.deposit > 0:
        deposit = f"{catalogue.format_value(facts.deposit, lang)} {facts.currency}"
        lines.append(Pair(t("receipt.deposit"), deposit))
    lines += [Separator(), Text(t("receipt.thanks"), Align.CENTER)]
    return Receipt(tuple(lines))


def receipt_rows(receipt: Receipt, columns: int = 32) -> list[str]:
    """The receipt's text rows, as the screen shows them when the printer is out."""
    return [row.text for row in layout(receipt, columns) if isinstance(row, TextRow)]


def receipt_qr_text(receipt: Receipt) -> str:
    """The receipt's text for the QR code on screen: no separators, bounded in length."""
    rows = (" ".join(row.split()) for row in receipt_rows(receipt))
    return "\n".join(row for row in rows if row and set(row) != {"-"})[:QR_MAX_CHARS]


async def hand_out(
    dialog: Dialog, printer: ReceiptPrinter | None, receipt: Receipt, timeout_s: float
) -> str:
    """Print ``receipt``, or (no printer, out of paper, jammed) show it with a QR code of its
    text; the screen says which. "printed" or "on_screen"."""
    printed = False
    if printer is not None:
        try:
            await asyncio.to_thread(printer.print_receipt, receipt)
            printed = True
        except PrinterError as exc:
            log.warning("receipt not printed: %s", type(exc).__name__)
    where = "printed" if printed else "on_screen"
    params = {}
    if not printed:
        params = {"receipt_rows": receipt_rows(receipt), "receipt_qr": receipt_qr_text(receipt)}
    await dialog.ask_final(
        View(
            Step.RECEIPT,
            "receipt.title",
            f"receipt.{where}",
            params=params,
            choices=(Choice("continue", "common.continue", primary=True),),
            timeout_s=timeout_s,
        )
    )
    return where
