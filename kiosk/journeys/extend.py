"""The extend-stay journey (issue 11, item 2): a guest in house adds nights at the kiosk.

attract ("extend my stay") -> start: the guest inserts the room card (the dispenser takes
it in, the encoder reads its UID, the back-end names the stay the card was issued for), or
scans the booking instead (QR, plus the second factor where the code asks for one) and
then inserts the card -> nights: 1 up to the most the room is free for, each priced ->
payment -> the extension (through the outbox) -> the card re-encoded with the new
check-out, read back and compared -> the card given back -> done. A refusal screen for
every way it stops; the guest's card comes back out whatever happens (a card left in the
slot is erased and captured: it opens a door).

The money rule: the extension is what the guest buys. The payment's reference is saved
before the terminal is asked (``Payments``); an approved payment whose extension cannot
be made is voided; once the extension is made (applied, or stored in the outbox, which
delivers it reconciled) the sale goes on the folio and stays, even when the card cannot be
re-encoded (the desk makes a key: ``card_not_updated``). After a crash,
``resolve_unsettled`` applies the same rule from the outbox (``PAID_FOR_WRITES``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from hardware.card_encoder.protocol import CardEncoderError
from hardware.dispenser.protocol import DispenserError
from hardware.payment.protocol import Kind, PaymentResult
from kiosk.backends.base import (
    BackendError,
    ExtensionOffer,
    KeyGrant,
    PropertyBackend,
    Reservation,
    Stay,
    StayExtensions,
    StayState,
    door_credentials,
)
from kiosk.backends.key_payload import composed_grant
from kiosk.i18n import Catalogue
from kiosk.journeys import ekeys
from kiosk.journeys.card_slot import card_or_answer
from kiosk.journeys.charging import charge_guest
from kiosk.journeys.checkin import CheckinJourney
from kiosk.journeys.devices import Devices
from kiosk.journeys.dialog import CANCELLED_BY_GUEST, Dialog, GuestLeft, cancel_on
from kiosk.journeys.door_pins import door_pin
from kiosk.journeys.identify import Identification
from kiosk.journeys.keys import Stage
from kiosk.journeys.messages import Action, ActionKind, Choice, Step, View
from kiosk.journeys.payment import PaymentLog, Payments, new_reference
from kiosk.journeys.receipt import ReceiptFacts, build_receipt, hand_out, initial_of
from kiosk.journeys.refusals import Refusal, Refused, backend_call, refusal_view
from kiosk.journeys.result import JourneyResult
from kiosk.journeys.settings import JourneySettings
from kiosk.journeys.settlement import PAID_FOR_WRITES, record_sale
from kiosk.state import JourneyMark, current_journey

log = logging.getLogger(__name__)
T = TypeVar("T")

EXTENDED = "extended"
FAILED = "failed"  # a bug: the guest was sent to the front desk

# Every i18n key the journey puts on a view (besides the shared payment, busy, key-progress
# and refusal keys of check-in's ``CHECKIN_KEYS``).
EXTEND_KEYS: tuple[str, ...] = (
    "menu.extend",
    "extend_start.title", "extend_start.message", "extend_start.use_booking",
    "extend_card.title", "extend_card.message",
    "extend_nights.title", "extend_nights.message", "extend_nights.option",
    "extend_pay.message", "extend_pay.cancelled",
    "extend_busy.finding", "extend_busy.extending",
    "extend_return.title", "extend_return.message",
    "extend_done.title", "extend_done.message", "extend_done.door_pin", *ekeys.EKEY_KEYS,
    "extend_receipt.heading",
    *(f"refusal.{r.value}.{part}" for r in (Refusal.CARD_UNKNOWN, Refusal.NOT_IN_HOUSE,
      Refusal.ROOM_TAKEN, Refusal.CARD_NOT_UPDATED) for part in ("title", "message")),
)  # fmt: skip


@dataclass
class ExtendJourney:
    """What stays between guests: check-in's back-end, devices and settings, and the
    back-end's extension verbs."""

    backend: PropertyBackend
    stays: StayExtensions
    devices: Devices
    settings: JourneySettings
    payment_log: PaymentLog
    catalogue: Catalogue
    now: Callable[[], datetime]
    signing_key: bytes | None = None
    qr_max_length: int = 512

    name = "extend"
    menu_choice = Choice("extend", "menu.extend")

    async def run_guest(self, dialog: Dialog, qr: str | None = None) -> JourneyResult:
        """One guest from the attract screen's "extend my stay"."""
        return await _Run(self, dialog).run(qr)


@dataclass
class _Run:
    """One guest's run: the only holder of their stay, dropped when the run ends."""

    journey: ExtendJourney
    dialog: Dialog
    card_in: bool = False  # the guest's card is inside the kiosk: it must come back out
    extended: bool = False  # the extension is made (or in the outbox): the money stays
    sale: tuple[str, Decimal] | None = None  # the approved payment: reference, amount
    booking: str = ""
    receipt: str = "none"  # printed, on_screen
    unrecorded: list[str] = field(default_factory=list)
    mark: JourneyMark = field(default_factory=lambda: JourneyMark(new_reference("journey")))

    def __post_init__(self) -> None:
        settings = self.settings = self.journey.settings
        devices = self.journey.devices
        self.dispenser, self.encoder = devices.dispenser, devices.encoder
        self.payments = Payments(
            devices.terminal,
            self.journey.payment_log,
            status_interval_s=settings.payment_status_interval_s,
            status_deadline_s=settings.payment_status_deadline_s,
        )

    async def run(self, qr: str | None) -> JourneyResult:
        token = current_journey.set(self.mark)  # every write of the run names its journey
        try:
            return await self._run(qr)
        finally:
            current_journey.reset(token)

    async def _run(self, qr: str | None) -> JourneyResult:
        refused: Refused | None = None
        try:
            outcome = await self._journey(qr)
        except GuestLeft as left:
            outcome = left.outcome
        except Refused as refusal:
            refused, outcome = refusal, f"refused:{refusal.reason.value}"
        except asyncio.CancelledError:  # the kiosk stops mid-run: the money rule holds still
            await asyncio.shield(self._settle())
            raise
        except Exception as exc:  # a bug must not keep the guest's money or card
            log.error("extend stay failed: %s", type(exc).__name__)  # its text may hold guest data
            refused, outcome = Refused(Refusal.BACKEND_FAULT), f"{FAILED}:{type(exc).__name__}"
        await self._settle()
        if self.card_in:
            await self._give_back()
        if refused is not None and not refused.shown:
            await self.dialog.ask_final(refusal_view(refused, self.settings.done_timeout_s))
        log.info("extend stay ended: %s", outcome)
        return self._result(outcome)

    # -- the journey ------------------------------------------------------------------------

    async def _journey(self, qr: str | None) -> str:
        reservation, stay = await self._identify(qr)
        offer = await self._backend(self.journey.stays.extension_offer(stay))
        if offer.max_nights < 1:
            raise Refused(Refusal.ROOM_TAKEN, **_room(stay), until=stay.ends)
        nights = await self._nights(stay, offer, reservation.currency)
        until, amount = self._until(stay, nights), offer.nightly_rate * nights
        await self.dialog.busy("busy.message")
        if not await self._backend(self.journey.stays.room_free_until(stay, until)):
            raise Refused(Refusal.ROOM_TAKEN, **_room(stay), until=stay.ends)
        sale = await self._pay(stay, nights, amount, reservation.currency)
        extended_now = await self._extend(stay, until, amount, f"extend-{sale.reference}")
        await self._settle()
        longer = dataclasses.replace(stay, ends=until)
        grant = await self._grant(longer, extended_now)
        await self._reencode(grant.payload)
        await self._give_back()
        await self._receipt(reservation, longer, sale)
        await self._done(longer, nights, extended_now)
        return EXTENDED

    async def _receipt(self, reservation: Reservation, stay: Stay, sale: PaymentResult) -> None:
        """What was paid for which nights: the stay's dates with its new check-out."""
        facts = ReceiptFacts(
            booking_reference=reservation.reference,
            holder_initial=initial_of(reservation.holder_name),
            rooms=(str(_room(stay)["room"]),),
            arrival=stay.starts,
            departure=stay.ends,
            paid=sale.amount or Decimal("0"),
            currency=reservation.currency,
            card_last4=sale.card_last4,
            approval_code=sale.approval_code,
        )
        language = self.dialog.language
        receipt = build_receipt(facts, self.journey.catalogue, language, "extend_receipt.heading")
        printer = self.journey.devices.printer
        self.receipt = await hand_out(self.dialog, printer, receipt, self.settings.done_timeout_s)

    async def _done(self, stay: Stay, nights: int, extended_now: bool) -> None:
        """The new check-out time; a door PIN and, on request, a phone key that last until
        it, where the property uses them: the old ones end at the old check-out. (An
        extension still in the outbox is not the PMS's yet: its PIN waits for the desk.)"""
        backend = self.journey.backend
        pin = await door_pin(backend, stay, self.settings) if extended_now else ""
        view = View(
            Step.EXTEND_DONE,
            "extend_done.title",
            "extend_done.message",
            params={**_room(stay), "until": stay.ends, "nights": nights, "door_pin": pin},
            timeout_s=self.settings.done_timeout_s,
        )
        finish = Choice("finish", "done.finish", primary=True)
        offered = [stay] if extended_now else []
        credentials = door_credentials(backend)
        await ekeys.ask_done(self.dialog, view, finish, credentials, offered, self.settings)

    async def _identify(self, qr: str | None) -> tuple[Reservation, Stay]:
        """The guest's card and its stay: by the card itself, or by the booking's code (and
        second factor) and then the card, which must be one of that stay's."""
        if qr is None:
            action = await self._card_or(
                View(
                    Step.EXTEND_START,
                    "extend_start.title",
                    "extend_start.message",
                    choices=(
                        Choice("booking", "extend_start.use_booking"),
                        Choice("cancel", "common.cancel"),
                    ),
                    timeout_s=self.settings.view_timeout_s,
                ),
                ActionKind.CHOOSE,
                ActionKind.QR,
            )
            if action is None:
                return await self._stay_of_card()
            cancel_on(action)
            qr = action.value if action.kind is ActionKind.QR else None
        reservation = await self._identification().reservation(qr)
        self._mark_booking(reservation.reservation_id)
        in_house = [s for s in reservation.stays if s.state is StayState.CHECKED_IN]
        if not in_house:
            raise Refused(Refusal.NOT_IN_HOUSE)
        action = await self._card_or(
            View(
                Step.EXTEND_CARD,
                "extend_card.title",
                "extend_card.message",
                choices=(Choice("cancel", "common.cancel"),),
                timeout_s=self.settings.view_timeout_s,
            ),
            ActionKind.CHOOSE,
        )
        if action is not None:  # its one choice is cancel
            raise GuestLeft(CANCELLED_BY_GUEST)
        uid = await self._card_uid()
        await self.dialog.busy("extend_busy.finding")
        uids = await self._backend(
            asyncio.gather(*(self.journey.stays.card_uids(s) for s in in_house))
        )
        for stay, cards in zip(in_house, uids, strict=True):
            if uid in cards:
                return reservation, stay
        raise Refused(Refusal.CARD_UNKNOWN)

    async def _stay_of_card(self) -> tuple[Reservation, Stay]:
        uid = await self._card_uid()
        await self.dialog.busy("extend_busy.finding")
        found = await self._backend(self.journey.stays.find_by_card(uid, self.journey.now()))
        if found is None:
            raise Refused(Refusal.CARD_UNKNOWN)
        self._mark_booking(found[0].reservation_id)
        return found

    def _identification(self) -> Identification:
        journey = self.journey
        return Identification(
            self.dialog,
            journey.backend,
            self.settings,
            signing_key=journey.signing_key,
            qr_max_length=journey.qr_max_length,
            now=journey.now,
            db=journey.payment_log.db,
        )

    def _mark_booking(self, booking: str) -> None:
        """From here on this run's writes and payments also name the booking."""
        self.booking = booking
        self.mark = JourneyMark(self.mark.id, booking)
        current_journey.set(self.mark)

    async def _nights(self, stay: Stay, offer: ExtensionOffer, currency: str) -> int:
        most = min(offer.max_nights, self.settings.extend_nights_offered)
        action = await self.dialog.ask(
            View(
                Step.EXTEND_NIGHTS,
                "extend_nights.title",
                "extend_nights.message",
                params={**_room(stay), "ends": stay.ends, "max_nights": offer.max_nights},
                choices=(
                    *(
                        self._option(stay, n, offer.nightly_rate * n, currency)
                        for n in range(1, most + 1)
                    ),
                    Choice("cancel", "common.cancel"),
                ),
                timeout_s=self.settings.view_timeout_s,
            ),
            ActionKind.CHOOSE,
        )
        cancel_on(action)
        return int(action.value)

    def _option(self, stay: Stay, nights: int, amount: Decimal, currency: str) -> Choice:
        until = self._until(stay, nights)
        day = until.astimezone(self.settings.zone).date()  # on the button: the hour is the stay's
        params = {
            "nights": nights,
            "until": until,
            "day": day,
            "amount": amount,
            "currency": currency,
        }
        return Choice(str(nights), "extend_nights.option", primary=nights == 1, params=params)

    def _until(self, stay: Stay, nights: int) -> datetime:
        """The new check-out: the same time of day ``nights`` later on the property's
        calendar (wall-clock days, whatever a daylight-saving change does to hours)."""
        local = stay.ends.astimezone(self.settings.zone)
        return (local + timedelta(days=nights)).astimezone(stay.ends.tzinfo)

    async def _pay(
        self, stay: Stay, nights: int, amount: Decimal, currency: str
    ) -> PaymentResult:
        """The guest pays for the nights; the approved payment."""

        async def charge() -> PaymentResult:
            result = await self.payments.charge(Kind.SALE, amount, currency)
            if result.approved:
                self.sale = (result.reference, amount)
            return result

        result = await charge_guest(
            self.dialog,
            self.settings,
            charge,
            amount,
            currency,
            message="extend_pay.message",
            cancelled_message="extend_pay.cancelled",
            params={**_room(stay), "nights": nights},
        )
        return result

    async def _extend(self, stay: Stay, until: datetime, amount: Decimal, reference: str) -> bool:
        """The extension, through the outbox (``reference`` is the payment's own, so never
        applied twice); refused (the room taken meanwhile, or the back-end will not) it ends
        the run, and the payment is voided."""
        await self.dialog.busy("extend_busy.extending")
        try:
            extended_now = await backend_call(
                self.journey.stays.extend_stay(stay, until, amount, reference),
                self.settings.backend_timeout_s,
            )
        except Refused as refused:
            if self.journey.payment_log.db.wrote(self.mark.id, PAID_FOR_WRITES):
                # Stored (or being sent) when the wait ran out: the outbox delivers it.
                log.warning("extension stored for a later delivery (%s)", refused.reason)
                self.extended = True
                return False
            if await self._room_taken(stay, until):
                raise Refused(Refusal.ROOM_TAKEN, **_room(stay), until=stay.ends) from None
            raise
        self.extended = True
        return extended_now

    async def _room_taken(self, stay: Stay, until: datetime) -> bool:
        try:
            return not await self._backend(self.journey.stays.room_free_until(stay, until))
        except Refused:
            return False

    async def _grant(self, stay: Stay, extended_now: bool) -> KeyGrant:
        """The card's new payload: the back-end's, or (the extension still in the outbox,
        so the back-end would answer the old end) composed here in the same format."""
        if extended_now:
            try:
                return await self._backend(self.journey.backend.key_grant(stay))
            except Refused as refused:
                raise Refused(Refusal.CARD_NOT_UPDATED, until=stay.ends) from refused
        if stay.room is None:
            raise Refused(Refusal.CARD_NOT_UPDATED, until=stay.ends)
        return composed_grant(stay, stay.room.room_id)

    async def _settle(self) -> None:
        """Apply the money rule once the outcome is known: extended -> the sale on the
        folio; not extended -> every approved payment voided."""
        sale, self.sale = self.sale, None
        if sale is None:
            return
        if not self.extended:
            await self.payments.void_all()
            return
        reference, amount = sale
        try:
            await record_sale(
                self.journey.backend, self.journey.payment_log, self.booking, reference, amount
            )
        except Exception as exc:  # refused, or a bug: for the operator, never the guest's
            why = exc.reason if isinstance(exc, BackendError) else type(exc).__name__
            log.error("payment %s not on the folio: %s", reference, why)
            self.unrecorded.append(reference)

    # -- the card ---------------------------------------------------------------------------

    async def _card_or(self, view: View, *kinds: ActionKind) -> Action | None:
        """Show ``view`` with the card slot open: None once the guest's card is in, else the
        guest's action (a card that came in at the same moment is given back at the end)."""
        slot = await card_or_answer(self.dialog, self.dispenser, view, *kinds, needs_card=True)
        self.card_in = self.card_in or slot.took
        return slot.action

    async def _card_uid(self) -> str:
        try:
            info = await asyncio.to_thread(self.encoder.wait_for_card, 1.0)
        except CardEncoderError as exc:
            log.warning("the guest's card cannot be read: %s", type(exc).__name__)
            raise Refused(Refusal.CARD_UNKNOWN) from None
        return info.uid_hex

    async def _reencode(self, payload: bytes) -> None:
        """The card on the antenna holds ``payload``, read back afresh as a door would."""
        for attempt in range(1, self.settings.card_attempts + 1):
            await self._card_progress(Stage.ENCODE)
            try:
                written = await asyncio.to_thread(self.encoder.write_key, payload)
                await self._card_progress(Stage.VERIFY)
                read, holds = await asyncio.to_thread(self.encoder.read_key)
            except CardEncoderError as exc:
                log.warning("re-encoding attempt %d failed: %s", attempt, type(exc).__name__)
                continue
            if holds == payload and read.uid == written.uid:
                return
            log.warning("re-encoding attempt %d: the card reads back otherwise", attempt)
        raise Refused(Refusal.CARD_NOT_UPDATED)

    async def _card_progress(self, stage: Stage) -> None:
        await self.dialog.show(
            View(
                Step.KEY_PROGRESS,
                "key_progress.title",
                f"key_progress.{stage.value}",
                params={"room": "", "card": 1, "cards": 1},
                timeout_s=None,
            )
        )

    async def _give_back(self) -> None:
        """The guest's card to the exit slot; one not taken is erased and captured (it may
        open a door), for staff to hand back."""
        self.card_in = False
        await self.dialog.show(
            View(Step.EXTEND_CARD, "extend_return.title", "extend_return.message", timeout_s=None)
        )
        try:
            await asyncio.to_thread(self.dispenser.present)
            take_s = self.settings.card_take_timeout_s
            if await asyncio.to_thread(self.dispenser.wait_taken, take_s):
                return
            await asyncio.to_thread(self.dispenser.move_to_rf)
            await asyncio.to_thread(self.encoder.erase)
            await asyncio.to_thread(self.dispenser.capture)
            log.warning("a guest's card was left in the slot: erased and captured")
        except (DispenserError, CardEncoderError) as exc:
            log.error("a guest's card may be stuck in the kiosk: %s", type(exc).__name__)

    # -- endings ----------------------------------------------------------------------------

    async def _backend(self, call: Awaitable[T]) -> T:
        return await backend_call(call, self.settings.backend_timeout_s)

    def _result(self, outcome: str) -> JourneyResult:
        payments = self.payments
        return JourneyResult(
            outcome=outcome,
            steps=tuple(self.dialog.steps),
            language=self.dialog.language,
            payments=tuple(p.reference for p in payments.approved),
            voided=tuple(payments.voided),
            unresolved=(*payments.unresolved, *payments.void_failed),
            unrecorded=tuple(self.unrecorded),
            receipt=self.receipt,
            journey=ExtendJourney.name,
        )


def _room(stay: Stay) -> dict[str, object]:
    return {"room": stay.room.name if stay.room else stay.room_type_name}


def extend_journey(checkin: CheckinJourney) -> ExtendJourney | None:
    """The journey beside ``checkin``, sharing its parts (its clock too, moved by a script),
    where the back-end can extend a stay. The extension verbs are looked for behind an
    offline wrapper (``inner``): a stay is never extended from the arrivals cache."""
    inner = getattr(checkin.backend, "inner", checkin.backend)
    if not isinstance(inner, StayExtensions):
        return None
    return ExtendJourney(
        checkin.backend,
        inner,
        checkin.devices,
        checkin.settings,
        checkin.payment_log,
        checkin.catalogue,
        now=lambda: checkin.now(),
        signing_key=checkin.signing_key,
        qr_max_length=checkin.qr_max_length,
    )
