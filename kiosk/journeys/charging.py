"""The guest's side of one sale at the terminal: confirm, pay, and what a decline or a
cancel at the terminal offers. Journeys other than check-in take it as it is (check-in's
own screens say "check-in" in their texts); the money itself goes through ``Payments``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

from hardware.payment.protocol import Outcome, PaymentResult
from kiosk.journeys.dialog import Dialog, cancel_on
from kiosk.journeys.messages import Action, ActionKind, Choice, Step, View
from kiosk.journeys.payment import PaymentUnresolved
from kiosk.journeys.refusals import Refusal, Refused
from kiosk.journeys.settings import JourneySettings


async def charge_guest(
    dialog: Dialog,
    settings: JourneySettings,
    charge: Callable[[], Awaitable[PaymentResult]],
    amount: Decimal,
    currency: str,
    *,
    message: str,
    cancelled_message: str,
    params: Mapping[str, Any] | None = None,
) -> PaymentResult:
    """Ask the guest to pay ``amount`` (``message``), then ``charge`` until approved. A
    decline offers another try up to ``payment_attempts``; a cancel at the terminal is no
    decline (``cancelled_message``: try again or cancel). Raises ``Refused`` (declined,
    unresolved) or ``GuestLeft`` (cancelled)."""
    values = {**(params or {}), "amount_due": amount, "currency": currency}

    async def ask(title: str, text: str, *choices: Choice) -> Action:
        view = View(Step.PAYMENT, title, text, values, choices, timeout_s=settings.view_timeout_s)
        return await dialog.ask(view, ActionKind.CHOOSE)

    pay, cancel = Choice("pay", "payment.pay", primary=True), Choice("cancel", "common.cancel")
    cancel_on(await ask("payment.title", message, pay, cancel))
    declines = 0
    while True:
        await dialog.show(
            View(Step.PAYMENT, "payment.title", "payment.processing", values, timeout_s=None)
        )
        try:
            result = await charge()
        except PaymentUnresolved:
            raise Refused(Refusal.PAYMENT_UNRESOLVED) from None
        if result.approved:
            return result
        if result.outcome is Outcome.CANCELLED:
            retry = Choice("retry", "common.try_again", primary=True)
            cancel_on(await ask("payment.cancelled.title", cancelled_message, retry, cancel))
            continue
        declines += 1
        if declines == settings.payment_attempts:
            raise Refused(Refusal.PAYMENT_DECLINED)
        action = await ask(
            "refusal.payment_declined.title",
            "refusal.payment_declined.message",
            Choice("retry", "common.try_again", primary=True),
            Choice("other_card", "payment.another_card"),
            Choice("front_desk", "common.ask_staff"),
        )
        if action.value == "front_desk":
            raise Refused(Refusal.PAYMENT_DECLINED, shown=True)
