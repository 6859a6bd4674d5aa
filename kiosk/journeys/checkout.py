"""The check-out journey: a plain async state machine driven through the lobby's ``Dialog``.

menu "check out" -> the guest inserts a room card (the dispenser takes it in, the encoder
reads its UID, the stay is found by ``getAllAccomCard``) or scans the booking's QR (an
unsigned code asks the second factor, as check-in does) -> which rooms leave (when more
than one is in the house) -> the folio (nights, extras, payments; what is due or
overpaid) -> the balance paid at the terminal, or an overpayment refunded to the card of
the kiosk's own sale -> ``checkOut`` (the leaving rooms) -> ``settle`` when no room of the
booking is left in the house -> returned cards erased and captured -> receipt (printed,
or on screen with a QR) -> done (or the desk's screen for a refund or balance left).

Money follows the payment log's rule (payment.py): the reference is saved before the
terminal is asked, and a payment the kiosk may have started is resolved at start-up
(settlement.py) — a check-out's money is never voided: what the guest paid and what was
given back go on the folio, through the outbox, exactly once. The PMS's settlement
refusals 444-447 each end on a screen of their own, never in a crash. One ``_Run`` per
guest holds their booking and is dropped when the run returns (``JourneyResult`` carries
no personal data).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from hardware.card_encoder.protocol import CardEncoderError
from hardware.dispenser.protocol import DispenserError
from hardware.payment.protocol import Kind, Outcome, PaymentError, PaymentResult
from hardware.printer.receipt import Align, Pair, Receipt, Separator, Text
from kiosk.backends.base import (
    BackendError,
    CheckoutBackend,
    CheckoutFolio,
    Reason,
    Reservation,
    Stay,
    StayState,
)
from kiosk.i18n import Catalogue
from kiosk.journeys.card_slot import card_or_answer
from kiosk.journeys.devices import Devices
from kiosk.journeys.dialog import Dialog, GuestLeft, cancel_on
from kiosk.journeys.identify import Identification
from kiosk.journeys.messages import Action, ActionKind, Choice, Step, View
from kiosk.journeys.payment import (
    CHECKOUT_STEP,
    RECORDED,
    PaymentLog,
    Payments,
    PaymentUnresolved,
    new_reference,
)
from kiosk.journeys.receipt import hand_out
from kiosk.journeys.refusals import Refusal, Refused, backend_call, refusal_view
from kiosk.journeys.result import JourneyResult
from kiosk.journeys.settings import JourneySettings
from kiosk.journeys.settlement import bill_reference, record_sale
from kiosk.state import JourneyMark, current_journey, now_text

log = logging.getLogger(__name__)
T = TypeVar("T")

CHECKED_OUT = "checked_out"
FAILED = "failed"  # a bug: the guest was sent to the front desk
CARD_READ_S = 2.0  # a card taken in is on the antenna: the encoder reads it within this
UNERASED_CARD = "card unerased"  # the audit action of a returned card that kept its key

# The settlement refusals that leave the rooms checked out but the folio open.
_FOLIO_OPEN = frozenset({Reason.RESERVED_ROOMS_EXIST, Reason.ROOMS_NOT_CHECKED_OUT})
_AT_DESK = {
    Reason.UNSETTLED_BILLS: Refusal.BALANCE_AT_DESK,
    Reason.OVERPAID: Refusal.REFUND_AT_DESK,
}

# Every i18n key the journey puts on a view of its own; the catalogues must hold each.
CHECKOUT_KEYS: tuple[str, ...] = (
    "menu.checkout",
    "checkout_start.title", "checkout_start.message",
    "checkout_rooms.title", "checkout_rooms.message", "checkout_rooms.room",
    "checkout_rooms.all",
    "checkout_folio.title", "checkout_folio.message_due", "checkout_folio.message_overpaid",
    "checkout_folio.message_settled", "checkout_folio.message_partial",
    "checkout_folio.nights", "checkout_folio.extra", "checkout_folio.payment",
    "checkout_folio.refund", "checkout_folio.total", "checkout_folio.paid",
    "checkout_folio.due", "checkout_folio.overpaid",
    "checkout_folio.pay", "checkout_folio.refund_and_check_out", "checkout_folio.check_out",
    "checkout_refund.processing",
    "checkout_cards.title", "checkout_cards.message", "checkout_cards.returned",
    "checkout_cards.no_more",
    "checkout_done.title", "checkout_done.message", "checkout_done.folio_open",
    "checkout_done.finish",
    "busy.checking_out",
    "checkout_receipt.heading", "checkout_receipt.refunded", "checkout_receipt.paid_now",
    "checkout_receipt.thanks",
    *(f"refusal.{r.value}.{part}" for r in (
        Refusal.CARD_UNKNOWN, Refusal.NOT_IN_HOUSE, Refusal.BALANCE_AT_DESK,
        Refusal.REFUND_AT_DESK) for part in ("title", "message")),
    # shared with check-in
    "busy.title", "busy.looking_up", "payment.title", "payment.processing",
    "payment.cancelled.title", "payment.cancelled.message",
    "refusal.payment_declined.title", "refusal.payment_declined.message",
    "receipt.title", "receipt.printed", "receipt.on_screen", "receipt.booking", "receipt.room",
    "receipt.card",
    "common.cancel", "common.try_again", "common.continue",
)  # fmt: skip


@dataclass
class CheckoutJourney:
    """What stays between guests: check-in's back-end (with the check-out verbs), devices,
    settings, payment log and catalogue."""

    backend: CheckoutBackend
    devices: Devices
    settings: JourneySettings
    payment_log: PaymentLog
    catalogue: Catalogue
    signing_key: bytes | None
    now: Callable[[], datetime]
    qr_max_length: int = 512

    name = "checkout"
    menu_choice = Choice("checkout", "menu.checkout")

    async def run_guest(self, dialog: Dialog, qr: str | None = None) -> JourneyResult:
        """One guest from the attract screen's "check out" to the end."""
        return await _Run(self, dialog).run(qr)


@dataclass
class _Run:
    """One guest's check-out: the only holder of their booking, dropped when it ends."""

    journey: CheckoutJourney
    dialog: Dialog
    booking: str = ""
    card_in: bool = False  # the guest's card is on the antenna, not checked out yet
    card_uid: str = ""  # the card the guest identified with (not guest data)
    checked_out: bool = False
    receipt: str = "none"
    returned: list[str] = field(default_factory=list)  # UIDs of cards captured
    unerased: list[str] = field(default_factory=list)
    unrecorded: list[str] = field(default_factory=list)
    refunds: list[PaymentResult] = field(default_factory=list)  # made at the terminal
    mark: JourneyMark = field(default_factory=lambda: JourneyMark(new_reference("journey")))

    def __post_init__(self) -> None:
        self.settings = self.journey.settings
        self.backend = self.journey.backend
        self.dispenser = self.journey.devices.dispenser
        self.encoder = self.journey.devices.encoder
        self.payments = Payments(
            self.journey.devices.terminal,
            self.journey.payment_log,
            status_interval_s=self.settings.payment_status_interval_s,
            status_deadline_s=self.settings.payment_status_deadline_s,
        )

    async def run(self, qr: str | None) -> JourneyResult:
        token = current_journey.set(self.mark)  # every write of the run names its journey
        try:
            outcome = await self._outcome(qr)
        finally:
            current_journey.reset(token)
        log.info("check-out ended: %s", outcome)
        return self._result(outcome)

    async def _outcome(self, qr: str | None) -> str:
        try:
            return await self._journey(qr)
        except GuestLeft as left:
            await self._release_card()
            return left.outcome
        except Refused as refusal:
            await self._release_card()
            if not refusal.shown:
                await self._show_refusal(refusal)
            return f"refused:{refusal.reason.value}"
        except asyncio.CancelledError:
            await asyncio.shield(self._release_card())
            raise
        except Exception as exc:  # a bug must not strand a guest
            log.error("check-out failed: %s", type(exc).__name__)  # its text may hold guest data
            await self._release_card()
            await self._show_refusal(Refused(Refusal.BACKEND_FAULT))
            return f"{FAILED}:{type(exc).__name__}"

    # -- the journey ------------------------------------------------------------------------

    async def _journey(self, qr: str | None) -> str:
        reservation, card_stay = await self._identify(qr)
        self._mark_booking(reservation.reservation_id)
        stays = await self._leaving(reservation, card_stay)
        await self.dialog.busy("busy.looking_up")
        folio = await self._backend(self.backend.checkout_folio(reservation, stays))
        await self._show_folio(reservation, folio)
        sale = await self._pay(reservation, folio)
        desk = await self._refund(reservation, folio)  # the desk's, when not made here
        await self.dialog.busy("busy.checking_out")
        await self._backend(self.backend.check_out(reservation, stays, new_reference("checkout")))
        self.checked_out = True
        folio_open = not folio.last_out
        if folio.last_out and desk is None:
            # Right after the check-out, before the guest's cards: a crash in between must
            # not leave a folio nobody settles (once queued, the outbox delivers it).
            folio_open, desk = await self._settle(reservation, folio)
        await self._collect_cards()
        await self._receipt(reservation, folio, sale)
        if desk is not None:
            raise desk
        await self._done(folio_open)
        return CHECKED_OUT

    def _mark_booking(self, booking: str) -> None:
        """From here on this run's writes and payments also name the booking."""
        self.booking = booking
        self.mark = JourneyMark(self.mark.id, booking)
        current_journey.set(self.mark)

    async def _identify(self, qr: str | None) -> tuple[Reservation, str | None]:
        """The booking, by the card the guest inserts (and its stay) or by its QR code."""
        if qr is None:
            action = await self._card_or(
                View(
                    Step.CHECKOUT_START,
                    "checkout_start.title",
                    "checkout_start.message",
                    choices=(Choice("cancel", "common.cancel"),),
                    timeout_s=self.settings.view_timeout_s,
                ),
                ActionKind.QR,
                ActionKind.CHOOSE,
            )
            if action is None:
                return await self._by_card()
            cancel_on(action)
            qr = action.value
        identify = Identification(
            self.dialog,
            self.journey.backend,
            self.settings,
            signing_key=self.journey.signing_key,
            qr_max_length=self.journey.qr_max_length,
            now=self.journey.now,
            db=self.journey.payment_log.db,
        )
        return await identify.reservation(qr), None

    async def _by_card(self) -> tuple[Reservation, str]:
        self.card_in = True
        await self.dialog.busy("busy.looking_up")
        try:
            card = await asyncio.to_thread(self.encoder.wait_for_card, CARD_READ_S)
        except CardEncoderError as exc:
            log.warning("returned card unreadable: %s", type(exc).__name__)
            raise Refused(Refusal.CARD_UNKNOWN) from None
        self.card_uid = card.uid_hex
        try:
            return await self._backend(
                self.backend.departure_by_card(card.uid_hex, self.journey.now())
            )
        except Refused as refused:
            if refused.reason is Refusal.UNKNOWN_CODE:
                raise Refused(Refusal.CARD_UNKNOWN) from None
            raise

    async def _leaving(self, reservation: Reservation, card_stay: str | None) -> list[Stay]:
        """The in-house stays that leave now: one room, or every room of the booking."""
        in_house = [s for s in reservation.stays if s.state is StayState.CHECKED_IN]
        if not in_house:
            raise Refused(Refusal.NOT_IN_HOUSE)
        if len(in_house) == 1:
            return in_house
        first = [s for s in in_house if s.stay_id == card_stay] or in_house
        ordered = first + [s for s in in_house if s not in first]
        action = await self.dialog.ask(
            View(
                Step.CHECKOUT_ROOMS,
                "checkout_rooms.title",
                "checkout_rooms.message",
                choices=(
                    Choice(
                        "all",
                        "checkout_rooms.all",
                        primary=True,
                        params={"rooms": ", ".join(_room_name(s) for s in ordered)},
                    ),
                    *(
                        Choice(s.stay_id, "checkout_rooms.room", params={"room": _room_name(s)})
                        for s in ordered
                    ),
                    Choice("cancel", "common.cancel"),
                ),
                timeout_s=self.settings.view_timeout_s,
            ),
            ActionKind.CHOOSE,
        )
        cancel_on(action)
        return (
            ordered if action.value == "all" else [s for s in ordered if s.stay_id == action.value]
        )

    async def _show_folio(self, reservation: Reservation, folio: CheckoutFolio) -> None:
        if not folio.last_out:
            message, label = "checkout_folio.message_partial", "checkout_folio.check_out"
        elif folio.due > 0:
            message, label = "checkout_folio.message_due", "checkout_folio.pay"
        elif folio.overpaid > 0:
            message, label = (
                "checkout_folio.message_overpaid",
                "checkout_folio.refund_and_check_out",
            )
        else:
            message, label = "checkout_folio.message_settled", "checkout_folio.check_out"
        action = await self.dialog.ask(
            View(
                Step.CHECKOUT_FOLIO,
                "checkout_folio.title",
                message,
                params=_folio_params(folio, reservation.currency),
                choices=(
                    Choice("confirm", label, primary=True, params=_money(folio, reservation)),
                    Choice("cancel", "common.cancel"),
                ),
                timeout_s=self.settings.view_timeout_s,
            ),
            ActionKind.CHOOSE,
        )
        cancel_on(action)

    async def _pay(self, reservation: Reservation, folio: CheckoutFolio) -> PaymentResult | None:
        """The balance at the terminal (only when the folio closes now), booked on the folio
        at once: a check-out's payment is never voided."""
        taken = self.journey.payment_log.paid_not_booked(reservation.reservation_id)
        due = folio.due - taken  # what an earlier, interrupted check-out here took
        if not folio.last_out or due <= 0:
            return None
        params = {"amount_due": due, "currency": reservation.currency}
        for attempt in range(1, self.settings.payment_attempts + 1):
            await self.dialog.show(
                View(Step.PAYMENT, "payment.title", "payment.processing", params, timeout_s=None)
            )
            try:
                result = await self.payments.charge(
                    Kind.SALE, due, reservation.currency, CHECKOUT_STEP
                )
            except PaymentUnresolved:
                raise Refused(Refusal.PAYMENT_UNRESOLVED) from None
            if result.approved:
                await self._book_sale(result)
                return result
            cancelled = result.outcome is Outcome.CANCELLED
            if attempt == self.settings.payment_attempts and not cancelled:
                break
            title = "payment.cancelled" if cancelled else "refusal.payment_declined"
            action = await self.dialog.ask(
                View(
                    Step.PAYMENT,
                    f"{title}.title",
                    f"{title}.message",
                    params=params,
                    choices=(
                        Choice("retry", "common.try_again", primary=True),
                        Choice("cancel", "common.cancel"),
                    ),
                    timeout_s=self.settings.view_timeout_s,
                ),
                ActionKind.CHOOSE,
            )
            cancel_on(action)
        raise Refused(Refusal.PAYMENT_DECLINED)

    async def _book_sale(self, sale: PaymentResult) -> None:
        assert sale.amount is not None
        try:
            await record_sale(
                self.backend, self.journey.payment_log, self.booking, sale.reference, sale.amount
            )
        except BackendError as exc:  # for the operator (the log still says approved)
            log.error("payment %s not on the folio: %s", sale.reference, exc.reason)
            self.unrecorded.append(sale.reference)

    async def _refund(self, reservation: Reservation, folio: CheckoutFolio) -> Refused | None:
        """An overpayment back to the card of the kiosk's own sale (only when the folio
        closes now), where the terminal allows; otherwise the desk's refusal, returned: it
        is shown once the rooms are checked out."""
        if not folio.last_out or folio.overpaid <= 0:
            return None
        owed = {"amount": folio.overpaid, "currency": reservation.currency}
        sales = [ref for ref, amount in folio.kiosk_sales if amount >= folio.overpaid]
        if not sales:
            return Refused(Refusal.REFUND_AT_DESK, **owed)
        await self.dialog.show(
            View(Step.PAYMENT, "payment.title", "checkout_refund.processing", owed, timeout_s=None)
        )
        try:
            result = await self.payments.refund(folio.overpaid, reservation.currency, sales[-1])
        except PaymentUnresolved:  # the terminal may still make it: the desk must look first
            return Refused(Refusal.PAYMENT_UNRESOLVED)
        except PaymentError as exc:  # this terminal makes no refunds (or is unreachable)
            log.warning("refund not made at the terminal: %s", type(exc).__name__)
            return Refused(Refusal.REFUND_AT_DESK, **owed)
        if not result.approved:
            return Refused(Refusal.REFUND_AT_DESK, **owed)
        self.refunds.append(result)
        try:
            await self.backend.record_refund(
                self.booking, folio.overpaid, result.reference, bill_reference(result.reference)
            )
            self.journey.payment_log.settle(result.reference, RECORDED)
        except BackendError as exc:
            log.error("refund %s not on the folio: %s", result.reference, exc.reason)
            self.unrecorded.append(result.reference)
        return None

    async def _settle(
        self, reservation: Reservation, folio: CheckoutFolio
    ) -> tuple[bool, Refused | None]:
        """Close the folio; (folio still open, the desk's refusal) for 444-447."""
        try:
            await asyncio.wait_for(
                self.backend.settle(reservation, new_reference("settle")),
                self.settings.backend_timeout_s,
            )
        except TimeoutError:
            return False, None  # the outbox keeps it: the rooms are out, the folio follows
        except BackendError as exc:
            log.warning("settlement refused: %s", exc.reason)
            if exc.reason in _FOLIO_OPEN:
                return True, None
            refusal = _AT_DESK.get(exc.reason, Refusal.BACKEND_FAULT)
            return True, Refused(refusal, amount=folio.overpaid, currency=reservation.currency)
        return False, None

    # -- cards ------------------------------------------------------------------------------

    async def _card_or(self, view: View, *kinds: ActionKind) -> Action | None:
        """The guest's answer to ``view``, or None when a card came in through the slot
        first (it is then on the antenna). The slot is open only while the view waits."""
        slot = await card_or_answer(self.dialog, self.dispenser, view, *kinds)
        if slot.took and slot.action is not None:  # a card beside a cancel: given back at the end
            self.card_in = True
        return slot.action

    async def _collect_cards(self) -> None:
        """The card the guest identified with, then any other card of the stay: each one
        erased and captured, until the guest says there are no more."""
        if self.card_in:
            await self._keep_card()
        while True:
            view = View(
                Step.CHECKOUT_CARDS,
                "checkout_cards.title",
                "checkout_cards.returned" if self.returned else "checkout_cards.message",
                params={"returned": len(self.returned)},
                choices=(Choice("no_more", "checkout_cards.no_more", primary=True),),
                timeout_s=self.settings.view_timeout_s,
            )
            try:
                if await self._card_or(view, ActionKind.CHOOSE) is not None:
                    return
            except GuestLeft:
                return  # checked out already: the guest walking away ends only this step
            self.card_in = True
            await self._keep_card()

    async def _keep_card(self) -> None:
        """Erase the returned card on the antenna and drop it in the bin; a card that kept
        its key (erase failed) is the operator's to destroy."""
        uid = ""
        try:
            uid = (await asyncio.to_thread(self.encoder.erase)).uid_hex
        except CardEncoderError as exc:
            log.warning("returned card not erased: %s", type(exc).__name__)
            self._audit_unerased(uid)
        try:
            await asyncio.to_thread(self.dispenser.capture)
        except DispenserError as exc:
            log.error("returned card not captured: %s", type(exc).__name__)
            return
        finally:
            self.card_in = False
        self.returned.append(uid)

    def _audit_unerased(self, uid: str) -> None:
        """Staff's notice (the audit table): a card in the reject bin may open a door."""
        self.unerased.append(uid)
        with self.journey.payment_log.db.transaction() as conn:
            conn.execute(
                "INSERT INTO audit (at, actor, action, detail) VALUES (?, 'kiosk', ?, ?)",
                (now_text(), UNERASED_CARD,
                 f"card {uid or '(UID unknown)'} of booking {self.booking or '(none)'} went to "
                 "the reject bin at check-out holding a key: take it out and destroy it"),
            )  # fmt: skip

    async def _release_card(self) -> None:
        """The run ends before the check-out: the guest's card goes back to them (captured
        if they leave it); after the check-out it is kept as returned."""
        if not self.card_in:
            return
        if self.checked_out:
            await self._keep_card()
            return
        self.card_in = False
        try:
            await asyncio.to_thread(self.dispenser.present)
            taken = await asyncio.to_thread(
                self.dispenser.wait_taken, self.settings.card_take_timeout_s
            )
            if not taken:  # left in the slot: kept, and still a key of a stay in the house
                await asyncio.to_thread(self.dispenser.capture)
                self._audit_unerased(self.card_uid)
        except DispenserError as exc:
            log.error("the guest's card not given back: %s", type(exc).__name__)

    # -- endings ----------------------------------------------------------------------------

    async def _receipt(
        self, reservation: Reservation, folio: CheckoutFolio, sale: PaymentResult | None
    ) -> None:
        refunded = sum((r.amount or Decimal(0) for r in self.refunds), Decimal(0))
        receipt = _receipt(
            self.journey.catalogue, self.dialog.language, reservation, folio, sale, refunded
        )
        printer = self.journey.devices.printer
        self.receipt = await hand_out(self.dialog, printer, receipt, self.settings.done_timeout_s)

    async def _done(self, folio_open: bool) -> None:
        await self.dialog.ask_final(
            View(
                Step.CHECKOUT_DONE,
                "checkout_done.title",
                "checkout_done.folio_open" if folio_open else "checkout_done.message",
                choices=(Choice("finish", "checkout_done.finish", primary=True),),
                timeout_s=self.settings.done_timeout_s,
            )
        )

    async def _show_refusal(self, refusal: Refused) -> None:
        await self.dialog.ask_final(refusal_view(refusal, self.settings.done_timeout_s))

    async def _backend(self, call: Awaitable[T]) -> T:
        return await backend_call(call, self.settings.backend_timeout_s)

    def _result(self, outcome: str) -> JourneyResult:
        payments = self.payments
        return JourneyResult(
            outcome=outcome,
            steps=tuple(self.dialog.steps),
            language=self.dialog.language,
            payments=tuple(p.reference for p in (*payments.approved, *self.refunds)),
            unresolved=tuple(payments.unresolved),
            unrecorded=tuple(self.unrecorded),
            unerased_cards=tuple(self.unerased),
            receipt=self.receipt,
            journey=CheckoutJourney.name,
            cards_returned=tuple(self.returned),
        )


def _room_name(stay: Stay) -> str:
    return stay.room.name if stay.room else stay.room_type_name


def _money(folio: CheckoutFolio, reservation: Reservation) -> dict[str, Any]:
    return {
        "due": folio.due,
        "overpaid": folio.overpaid,
        "currency": reservation.currency,
        "amount_due": folio.due,
    }


def _folio_params(folio: CheckoutFolio, currency: str) -> dict[str, Any]:
    """The folio screen's rows: a label key, its values, an amount (right-aligned there)."""
    return {
        "rooms": ", ".join(_room_name(s) for s in folio.stays),
        "lines": [
            {
                "label": f"checkout_folio.{line.kind}",
                "name": line.label,
                "count": line.count,
                "amount": -line.amount if line.kind == "payment" else line.amount,
            }
            for line in folio.lines
        ],
        "total": folio.total,
        "paid": folio.paid,
        "due": folio.due,
        "overpaid": folio.overpaid,
        "currency": currency,
    }


def _receipt(
    catalogue: Catalogue,
    lang: str,
    reservation: Reservation,
    folio: CheckoutFolio,
    sale: PaymentResult | None,
    refunded: Decimal,
) -> Receipt:
    """The check-out's invoice: the folio's lines and what was paid or given back now.
    No guest data: the booking reference and room names only."""

    def t(key: str, **params: object) -> str:
        return catalogue.translate(key, lang, **params)

    def money(amount: Decimal) -> str:
        return f"{catalogue.format_value(amount, lang)} {reservation.currency}"

    lines: list[Text | Pair | Separator] = [
        Text(t("checkout_receipt.heading"), Align.CENTER, bold=True),
        Separator(),
        Pair(t("receipt.booking"), reservation.reference),
        *(Pair(t("receipt.room"), _room_name(s)) for s in folio.stays),
        Separator(),
    ]
    for line in folio.lines:
        label = t(f"checkout_folio.{line.kind}", name=line.label, count=line.count)
        lines.append(Pair(label, money(-line.amount if line.kind == "payment" else line.amount)))
    lines += [
        Separator(),
        Pair(t("checkout_folio.total"), money(folio.total), bold=True),
        Pair(t("checkout_folio.paid"), money(folio.paid)),
    ]
    if sale is not None and sale.amount:
        lines.append(Pair(t("checkout_receipt.paid_now"), money(sale.amount), bold=True))
        if sale.card_last4:
            lines.append(Pair(t("receipt.card"), f"**** {sale.card_last4}"))
    if refunded > 0:
        lines.append(Pair(t("checkout_receipt.refunded"), money(refunded), bold=True))
    lines += [Separator(), Text(t("checkout_receipt.thanks"), Align.CENTER)]
    return Receipt(tuple(lines))
