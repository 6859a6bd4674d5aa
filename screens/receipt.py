"""The receipt: printed, or shown as a QR code (``receipt_qr`` param) when the printer is out."""

from __future__ import annotations

from hardware.qr.render import render_qr
from kiosk.journeys.messages import Step, View
from screens.base import StepScreen
from screens.kv import load_kv


class ReceiptScreen(StepScreen):
    step = Step.RECEIPT

    def prepare(self, view: View) -> None:
        payload = view.params.get("receipt_qr")
        self.ids.qr.show(render_qr(str(payload), module_px=8) if payload else None)

    def wipe(self) -> None:
        self.ids.qr.show(None)


load_kv(__file__)
