"""The receipt: printed, or shown on screen when the printer is out — its text
(``receipt_rows``) and a QR code of it (``receipt_qr``) for the guest's phone."""

from __future__ import annotations

from hardware.qr.render import render_qr
from kiosk.journeys.messages import Step, View
from screens.base import StepScreen
from screens.kv import load_kv


class ReceiptScreen(StepScreen):
    step = Step.RECEIPT
    stage = 3

    def prepare(self, view: View) -> None:
        payload = view.params.get("receipt_qr")
        self.ids.qr.show(render_qr(str(payload), module_px=8) if payload else None)
        self.ids.rows.text = "\n".join(str(row) for row in view.params.get("receipt_rows", ()))

    def wipe(self) -> None:
        self.ids.qr.show(None)
        self.ids.rows.text = ""


load_kv(__file__)
