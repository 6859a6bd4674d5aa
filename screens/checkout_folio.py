"""Check-out's folio: a card per line (nights, extras, payments, refunds) with its amount
right-aligned, then the total, what was paid, and what is due or was paid too much."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kivy.app import App

from kiosk.journeys.messages import Step, View
from screens.base import StepScreen
from screens.kv import load_kv
from screens.widgets.cards import DetailCard

LINE_ICONS = {
    "checkout_folio.nights": "nights",
    "checkout_folio.extra": "check",
    "checkout_folio.payment": "payment",
    "checkout_folio.refund": "payment",
}
SUMS = ("total", "paid", "due", "overpaid")  # shown when above zero (``total`` always)


class CheckoutFolioScreen(StepScreen):
    step = Step.CHECKOUT_FOLIO
    hero_icon = "payment"

    def render(self, view: View) -> None:
        details = self.ids.details
        details.clear_widgets()
        currency = str(view.params.get("currency", ""))
        for line in view.params.get("lines", ()):
            label = _tr(line["label"], name=line["name"], count=line["count"])
            icon = LINE_ICONS.get(line["label"], "check")
            details.add_widget(_money_card(icon, label, line["amount"], currency))
        for key in SUMS:
            amount = view.params.get(key)
            if isinstance(amount, Decimal) and (amount > 0 or key == "total"):
                label = _tr(f"checkout_folio.{key}")
                details.add_widget(_money_card("payment", label, amount, currency))

    def wipe(self) -> None:
        self.ids.details.clear_widgets()


def _tr(key: str, **params: Any) -> str:
    app = App.get_running_app()
    return str(app.tr(key, app.lang, **params))


def _money_card(icon: str, label: str, amount: Decimal, currency: str) -> DetailCard:
    app = App.get_running_app()
    value = f"{app.catalogue.format_value(amount, app.lang)} {currency}".strip()
    return DetailCard(icon=icon, text=f"{label}: {value}", label=label, value=value)


load_kv(__file__)
