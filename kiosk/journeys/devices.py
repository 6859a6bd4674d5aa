"""The devices a check-in journey drives, bundled so a journey gets them in one value."""

from __future__ import annotations

from dataclasses import dataclass

from hardware.card_encoder.protocol import CardEncoder
from hardware.dispenser.protocol import CardDispenser
from hardware.payment.protocol import PaymentTerminal
from hardware.printer.protocol import ReceiptPrinter


@dataclass(frozen=True)
class Devices:
    """``printer`` is optional: without one the receipt is shown on screen."""

    terminal: PaymentTerminal
    dispenser: CardDispenser
    encoder: CardEncoder
    printer: ReceiptPrinter | None = None
