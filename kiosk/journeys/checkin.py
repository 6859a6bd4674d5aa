"""The check-in journey: a plain async state machine driven through a ``Channel`` (no Kivy).

attract (the lobby's menu: lobby.py) -> language (skipped when the guest scanned there) ->
scan (or type the reference) -> identity (unsigned payloads) -> summary -> registration per
stay (skipped for guests the booking has on file) -> room assignment -> payment (+ deposit)
-> check-in (the registration is written with it) -> keys -> receipt -> done, with a refusal
screen for every way it can stop.

Each ``run`` builds a fresh ``_Run``, the only object that holds the guest's booking; it
is dropped when the run returns, so nothing of one guest survives into the next
(``JourneyResult`` carries no personal data). Back-end verbs are the only writes
(``PropertyBackend``, whose adapters route them through the durable outbox, marked with
this run's journey id); the money rule lives in ``Settlement`` (settlement.py).

A guest whose earlier check-in at this kiosk stopped after the check-in but before any
card came out (a crash, a power cut) is not refused as "already checked in": the run
picks up at the keys, and charges only what the back-end and the payment log together
say is still due.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from hardware.health import DeviceHealth, HealthLevel
from hardware.payment.protocol import Kind, Outcome, PaymentResult
from kiosk.backends.base import (
    Guest,
    IdKind,
    PropertyBackend,
    Reservation,
    Room,
    Stay,
    StayState,
    door_credentials,
)
from kiosk.i18n import Catalogue
from kiosk.journeys import ekeys
from kiosk.journeys.devices import Devices
from kiosk.journeys.dialog import CANCELLED_BY_GUEST, Dialog, GuestLeft, cancel_on
from kiosk.journeys.door_pins import door_pin
from kiosk.journeys.identify import Identification
from kiosk.journeys.keys import (
    CardIssueFailed,
    CardIssuer,
    CardStockEmpty,
    IssuedCard,
    Stage,
    require_cards,
)
from kiosk.journeys.lobby import GuestJourney, Lobby
from kiosk.journeys.messages import Action, ActionKind, Channel, Choice, Step, TextInput, View
from kiosk.journeys.payment import PaymentLog, Payments, PaymentUnresolved, new_reference
from kiosk.journeys.receipt import (
    RECEIPT_KEYS,
    ReceiptFacts,
    build_receipt,
    hand_out,
    initial_of,
)
from kiosk.journeys.refusals import Refusal, Refused, backend_call, refusal_view
from kiosk.journeys.result import JourneyResult
from kiosk.journeys.settings import JourneySettings
from kiosk.journeys.settlement import Settlement
from kiosk.qr_payload import PmsOrderRef
from kiosk.state import JourneyMark, current_journey, now_text

log = logging.getLogger(__name__)
T = TypeVar("T")

CHECKED_IN = "checked_in"
CARD_NOT_TAKEN = "card_not_taken"  # checked in, but the guest walked away from the card
FAILED = "failed"  # a bug: the guest was sent to the front desk
UNERASED_CARD = "card unerased"  # the audit action of a live card in the reject bin
# What a failed record of a card (addAccomCard) ends in: the back-end's books, not the key.
_BOOKKEEPING = frozenset({Refusal.BACKEND_UNREACHABLE, Refusal.BACKEND_FAULT})


# Every i18n key the journey puts on a view; the catalogues must hold each of them.
CHECKIN_KEYS: tuple[str, ...] = (
    "attract.title", "attract.message", "attract.start",
    "language.title", "language.message", "language.name",
    "scan.title", "scan.message", "scan.type_reference",
    "type_reference.title", "type_reference.message", "type_reference.placeholder",
    "identity.title", "identity.surname", "identity.phone_digits", "identity.placeholder",
    "identity.wrong",
    "summary.title", "summary.message", "summary.not_mine",
    "register.title", "register.message", "register.name", "register.id_type",
    "register.id_number", "register.id_passport", "register.id_national", "register.id_permit",
    "register.invalid",
    "room.title", "room.message", "room.option",
    "payment.title", "payment.message", "payment.deposit", "payment.pay", "payment.processing",
    "payment.another_card", "payment.cancelled.title", "payment.cancelled.message",
    "busy.title", "busy.looking_up", "busy.checking_in", "busy.message",
    "keys.title", "keys.message", "keys.count",
    "key_progress.title",
    *(f"key_progress.{stage.value}" for stage in Stage),
    "receipt.title", "receipt.printed", "receipt.on_screen",
    "done.title", "done.message", "done.finish",
    "common.continue", "common.cancel", "common.try_again", "common.ask_staff",
    "common.start_over",
    *(f"{r.key}.{part}" for r in Refusal for part in ("title", "message")),
    *RECEIPT_KEYS,
    *ekeys.EKEY_KEYS,  # the done screen's e-key
)  # fmt: skip

_ID_CHOICES = (
    (IdKind.PASSPORT, "register.id_passport"),
    (IdKind.NATIONAL_ID, "register.id_national"),
    (IdKind.TRAVEL_PERMIT, "register.id_permit"),
)
_ID_NUMBER = re.compile(r"[A-Za-z0-9]{4,24}")
_INVALID_INPUT_ATTEMPTS = 3


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class CheckinJourney:
    """What stays between guests: the back-end, the devices and the property's settings."""

    backend: PropertyBackend
    devices: Devices
    settings: JourneySettings
    payment_log: PaymentLog
    catalogue: Catalogue
    signing_key: bytes | None = None
    qr_max_length: int = 512
    now: Callable[[], datetime] = utc_now
    # Cards that went to the reject bin holding a key (UID, the key's end): no guest data.
    unerased_keys: list[tuple[str, datetime]] = field(default_factory=list)

    name = "checkin"
    menu_choice = Choice("start", "attract.start", primary=True)

    async def run(self, channel: Channel) -> JourneyResult:
        """One guest, from the attract screen to the end, with check-in the only journey
        offered (the kiosk in service offers all of them: ``Lobby``)."""
        return await self.lobby().run(channel)

    def lobby(self, *others: GuestJourney) -> Lobby:
        """The attract screen's menu: check-in first, then ``others``."""
        codes = [language.code for language in self.catalogue.languages]
        return Lobby((self, *others), codes, self.settings.timeout_grace_s)

    async def run_guest(self, dialog: Dialog, qr: str | None = None) -> JourneyResult:
        """One guest from the attract screen's "check in" (or a code scanned there: ``qr``)."""
        return await _Run(self, dialog).run(qr)

    def identification(
        self, dialog: Dialog, *, always_second_factor: bool = False
    ) -> Identification:
        """A run's search for the guest's booking: scan or type it, then the second factor
        where the code is not signed, or always (a room key: a photo of a code is not
        enough). Every journey that starts from a booking uses it."""
        return Identification(
            dialog,
            self.backend,
            self.settings,
            signing_key=self.signing_key,
            qr_max_length=self.qr_max_length,
            now=self.now,
            db=self.payment_log.db,
            always_second_factor=always_second_factor,
        )

    async def run_booking(self, dialog: Dialog, booking: PmsOrderRef) -> JourneyResult:
        """The check-in of a booking the kiosk has just made for the guest (a walk-in): no
        code to scan and nothing to prove, from the summary on."""
        return await _Run(self, dialog).run(None, booking)

    def reject_bin_health(self) -> DeviceHealth:
        """The operator's notice of cards in the reject bin whose keys still open a door."""
        now = self.now()
        self.unerased_keys[:] = [(uid, until) for uid, until in self.unerased_keys if until > now]
        live = [uid for uid, _until in self.unerased_keys]
        if not live:
            return DeviceHealth("reject_bin", HealthLevel.OK)
        return DeviceHealth(
            "reject_bin",
            HealthLevel.WARNING,
            f"{len(live)} card(s) in the reject bin may open a door: take them out and destroy"
            " them (audit: card unerased)",
            {"live_cards": len(live)},
        )


@dataclass
class _Run:
    """One guest's run: the only holder of their booking, dropped when the run ends."""

    journey: CheckinJourney
    dialog: Dialog
    receipt: str = "none"
    booking: str = ""  # the reservation id, once found
    departure: datetime | None = None  # when the keys of this run stop opening doors
    mark: JourneyMark = field(default_factory=lambda: JourneyMark(new_reference("journey")))
    made_here: bool = False  # the kiosk booked it for the guest just now (walk-in)

    def __post_init__(self) -> None:
        settings, devices = self.journey.settings, self.journey.devices
        self.settings = settings
        self.backend = self.journey.backend
        self.payments = Payments(
            devices.terminal,
            self.journey.payment_log,
            status_interval_s=settings.payment_status_interval_s,
            status_deadline_s=settings.payment_status_deadline_s,
        )
        self.settlement = Settlement(self.payments, self.backend, self.journey.payment_log.db)
        self.issuer = CardIssuer(
            devices.dispenser,
            devices.encoder,
            attempts=settings.card_attempts,
            take_timeout_s=settings.card_take_timeout_s,
            unerased=self._card_unerased,
        )

    def _card_unerased(self, uid: str) -> None:
        """Staff's notice (the audit table, the operator's health): a card in the reject bin
        may open a door."""
        if self.departure is not None:
            self.journey.unerased_keys.append((uid, self.departure))
        with self.journey.payment_log.db.transaction() as conn:
            conn.execute(
                "INSERT INTO audit (at, actor, action, detail) VALUES (?, 'kiosk', ?, ?)",
                (now_text(), UNERASED_CARD,
                 f"card {uid or '(UID unknown)'} of booking {self.booking} went to the reject "
                 "bin holding a key: take it out and destroy it"),
            )  # fmt: skip

    async def run(self, qr: str | None, known: PmsOrderRef | None = None) -> JourneyResult:
        # Every write of this run (and of the tasks it starts) is marked with its journey.
        token = current_journey.set(self.mark)
        try:
            return await self._run(qr, known)
        finally:
            current_journey.reset(token)

    async def _run(self, qr: str | None, known: PmsOrderRef | None) -> JourneyResult:
        try:
            outcome = await self._journey(qr, known)
        except GuestLeft as left:
            await self.settlement.settle(self.booking)
            outcome = left.outcome
        except Refused as refusal:
            await self.settlement.settle(self.booking)
            if not refusal.shown:
                await self._show_refusal(refusal)
            outcome = f"refused:{refusal.reason.value}"
        except asyncio.CancelledError:  # the kiosk stops mid-run: the money rule holds still
            await self.settlement.settle(self.booking)
            raise
        except Exception as exc:  # a bug must not strand a guest or keep their money
            log.error("check-in failed: %s", type(exc).__name__)  # its text may hold guest data
            await self.settlement.settle(self.booking)
            await self._show_refusal(Refused(Refusal.BACKEND_FAULT))
            outcome = f"{FAILED}:{type(exc).__name__}"
        log.info("check-in ended: %s", outcome)
        return self._result(outcome)

    # -- the journey ------------------------------------------------------------------------

    async def _journey(self, pending_qr: str | None, known: PmsOrderRef | None) -> str:
        self.made_here = known is not None
        if known is not None:
            await self.dialog.busy("busy.looking_up")
            reservation = await self._backend(self.backend.find_reservation(known))
        else:
            reservation = await self._identify(pending_qr)
        self._mark_booking(reservation.reservation_id)
        stays = self._stays_to_check_in(reservation)
        self.departure = max(s.ends for s in stays)
        await self._summary(reservation, stays)
        typed = [
            (stay, guest)
            for number, stay in enumerate(stays, 1)
            if (guest := await self._register(stay, number, len(stays))) is not None
        ]
        rooms = await self._assign_rooms(stays)
        await require_cards(self.issuer)
        due = self._still_due(reservation)
        deposit = await self._pay(reservation, due)
        self.settlement.require_paid(due)
        await self._check_in(reservation, rooms, typed)
        checked_in = [
            dataclasses.replace(s, room=rooms[s.stay_id], state=StayState.CHECKED_IN) for s in stays
        ]
        self.settlement.stays_checked_in(checked_in)
        # A room assigned here has its floor and lock on record only now: read while the
        # cards are made, for the door PINs and the done screen.
        known = asyncio.ensure_future(self._as_checked_in(checked_in))
        try:
            await self._issue_keys(checked_in)
            stays = await known
        finally:
            known.cancel()
        paid = self.settlement.sale
        if not self.settlement.key_delivered:
            await self.settlement.settle(self.booking)
            return CARD_NOT_TAKEN  # nobody is there to read the receipt or the done screen
        # The door PINs are asked for while the folio entry and the receipt are made.
        pins = asyncio.ensure_future(self._door_pins(stays))
        try:
            await self.settlement.settle(self.booking)
            await self._receipt(reservation, stays, paid, deposit)
            await self._done(stays, await pins)
        finally:
            pins.cancel()
        return CHECKED_IN

    async def _identify(self, pending_qr: str | None) -> Reservation:
        if pending_qr is None:
            # A guest who scans straight away skips the language screen: the attract
            # screen's language stays, and the guest can switch it on every screen.
            await self._choose_language()
        return await self.journey.identification(self.dialog).reservation(pending_qr)

    def _mark_booking(self, booking: str) -> None:
        """From here on this run's writes and payments also name the booking."""
        self.booking = booking
        self.mark = JourneyMark(self.mark.id, booking)
        current_journey.set(self.mark)

    @property
    def language(self) -> str:
        """The guest's language now: they may switch it on any screen."""
        return self.dialog.language

    async def _choose_language(self) -> None:
        codes = [language.code for language in self.journey.catalogue.languages]
        action = await self.dialog.ask(
            View(
                Step.LANGUAGE,
                "language.title",
                "language.message",
                choices=tuple(
                    Choice(code, "language.name", params={"code": code}) for code in codes
                ),
                timeout_s=self.settings.view_timeout_s,
            ),
            ActionKind.CHOOSE,
            ActionKind.LANGUAGE,
        )
        self.dialog.choose_language(action.value)  # a CHOOSE of a code; LANGUAGE is noted

    def _still_due(self, reservation: Reservation) -> Decimal:
        """The balance less what this kiosk took that the folio does not show yet."""
        taken = self.journey.payment_log.paid_not_booked(reservation.reservation_id)
        return max(Decimal("0"), reservation.amount_due - taken)

    def _stays_to_check_in(self, reservation: Reservation) -> list[Stay]:
        booked = [s for s in reservation.stays if s.state is StayState.BOOKED]
        if not booked:
            checked_in = [s for s in reservation.stays if s.state is StayState.CHECKED_IN]
            db = self.journey.payment_log.db
            if checked_in and db.keyless_check_in(reservation.reservation_id):
                return checked_in  # a check-in here stopped before a card came out: finish it
            if checked_in:
                raise Refused(Refusal.ALREADY_CHECKED_IN)
            raise Refused(Refusal.CANCELLED)
        # From the arrival day (the property's calendar) until the departure time, as the
        # back-end's own check-in: a guest arriving after midnight is still on their stay.
        now = self.journey.now()
        zone = self.settings.zone
        today = now.astimezone(zone).date()
        due = [s for s in booked if s.starts.astimezone(zone).date() <= today and now < s.ends]
        if not due:
            raise Refused(Refusal.WRONG_DAY, arrival=min(s.starts for s in booked))
        return due

    async def _summary(self, reservation: Reservation, stays: list[Stay]) -> None:
        zone = self.settings.zone
        arrival, departure = min(s.starts for s in stays), max(s.ends for s in stays)
        action = await self.dialog.ask(
            View(
                Step.SUMMARY,
                "summary.title",
                "summary.message",
                params={
                    # a booking made here for the guest (walk-in) names no one yet
                    "guest_name": "" if self.made_here else reservation.holder_name,
                    "arrival": arrival,
                    "departure": departure,
                    "nights": nights_of(arrival.astimezone(zone), departure.astimezone(zone)),
                    "rooms": ", ".join(s.room.name if s.room else s.room_type_name for s in stays),
                    "guests": sum(max(len(s.guests), 1) for s in stays),
                    "amount_due": reservation.amount_due,
                    "currency": reservation.currency,
                },
                choices=(
                    Choice("continue", "common.continue", primary=True),
                    Choice("not_mine", "summary.not_mine"),
                ),
                timeout_s=self.settings.view_timeout_s,
            ),
            ActionKind.CHOOSE,
        )
        if action.value == "not_mine":
            raise GuestLeft(CANCELLED_BY_GUEST)

    async def _register(self, stay: Stay, number: int, of: int) -> Guest | None:
        """The stay's guest as the PMS requires (name, ID type and number), to be written
        with the check-in; None when the booking has them already (unless the property
        re-registers every guest)."""
        known = bool(stay.guests) and all(guest.registered for guest in stay.guests)
        if known and not self.settings.reregister_known_guests:
            return None
        counter = {"guest": number, "guests": of}
        name = await self._valid_text(
            "register.name", counter, TextInput(max_length=60), _valid_name
        )
        id_action = await self.dialog.ask(
            View(
                Step.REGISTER,
                "register.title",
                "register.id_type",
                params=counter,
                choices=(
                    *(Choice(kind.value, label) for kind, label in _ID_CHOICES),
                    Choice("cancel", "common.cancel"),
                ),
                timeout_s=self.settings.view_timeout_s,
            ),
            ActionKind.CHOOSE,
        )
        cancel_on(id_action)
        id_number = await self._valid_text(
            "register.id_number",
            counter,
            TextInput(max_length=24),
            lambda text: bool(_ID_NUMBER.fullmatch(text)),
        )
        known = stay.guests[0] if stay.guests else Guest(guest_id=None)
        return dataclasses.replace(
            known, name=name, id_kind=IdKind(id_action.value), id_number=id_number.upper()
        )

    async def _valid_text(
        self,
        prompt: str,
        params: Mapping[str, Any],
        text_input: TextInput,
        valid: Callable[[str], bool],
    ) -> str:
        for attempt in range(_INVALID_INPUT_ATTEMPTS):
            action = await self.dialog.ask(
                View(
                    Step.REGISTER,
                    "register.title",
                    "register.invalid" if attempt else prompt,
                    params={**params, "prompt": prompt},
                    choices=(Choice("cancel", "common.cancel"),),
                    input=text_input,
                    timeout_s=self.settings.view_timeout_s,
                ),
                ActionKind.TEXT,
                ActionKind.CHOOSE,
            )
            cancel_on(action)
            text = " ".join(action.value.split())
            if valid(text):
                return text
        raise Refused(Refusal.INVALID_GUEST)

    async def _assign_rooms(self, stays: list[Stay]) -> dict[str, Room]:
        """The assigned room of each stay; a clean, free one of its type where it has none."""
        rooms: dict[str, Room] = {}
        for stay in stays:
            if stay.room is not None and stay.room_is_clean:
                rooms[stay.stay_id] = stay.room
                continue
            await self.dialog.busy("busy.message")
            taken = {room.room_id for room in rooms.values()}
            free = [
                room
                for room in await self._backend(self.backend.assignable_rooms(stay))
                if room.room_id not in taken
            ]
            if not free:
                raise Refused(Refusal.NOTHING_ASSIGNABLE)
            action = await self.dialog.ask(
                View(
                    Step.ROOM,
                    "room.title",
                    "room.message",
                    choices=tuple(
                        Choice(room.room_id, "room.option", params=_room_params(room))
                        for room in free[:6]
                    ),
                    timeout_s=self.settings.view_timeout_s,
                ),
                ActionKind.CHOOSE,
            )
            rooms[stay.stay_id] = next(r for r in free if r.room_id == action.value)
        return rooms

    async def _pay(self, reservation: Reservation, due: Decimal) -> PaymentResult | None:
        """The balance due (skipped when nothing is due), then the deposit if the property
        holds one (returned)."""
        currency = reservation.currency
        if due > 0:
            await self._charge(Kind.SALE, due, currency)
        if self.settings.deposit > 0:
            return await self._charge(Kind.PREAUTH, self.settings.deposit, currency)
        return None

    async def _charge(self, kind: Kind, amount: Decimal, currency: str) -> PaymentResult:
        params = {"amount_due": amount, "currency": currency}
        message = "payment.message" if kind is Kind.SALE else "payment.deposit"
        cancel_on(
            await self._ask_payment(
                "payment.title",
                message,
                params,
                Choice("pay", "payment.pay", primary=True),
                Choice("cancel", "common.cancel"),
            )
        )
        declines = 0
        while True:
            await self.dialog.show(
                View(Step.PAYMENT, "payment.title", "payment.processing", params, timeout_s=None)
            )
            try:
                result = await self.settlement.charge(kind, amount, currency)
            except PaymentUnresolved:
                raise Refused(Refusal.PAYMENT_UNRESOLVED) from None
            if result.approved:
                return result
            if result.outcome is Outcome.CANCELLED:
                # The guest cancelled at the terminal: nothing was refused, so no decline is
                # counted; they try again or give up.
                await self._payment_cancelled(params)
                continue
            declines += 1
            if declines == self.settings.payment_attempts:
                raise Refused(Refusal.PAYMENT_DECLINED)
            action = await self._ask_payment(
                "refusal.payment_declined.title",
                "refusal.payment_declined.message",
                params,
                Choice("retry", "common.try_again", primary=True),
                Choice("other_card", "payment.another_card"),
                Choice("front_desk", "common.ask_staff"),
            )
            if action.value == "front_desk":
                raise Refused(Refusal.PAYMENT_DECLINED, shown=True)

    async def _payment_cancelled(self, params: Mapping[str, Any]) -> None:
        """Try again, or cancel the check-in (nothing was charged)."""
        cancel_on(
            await self._ask_payment(
                "payment.cancelled.title",
                "payment.cancelled.message",
                params,
                Choice("retry", "common.try_again", primary=True),
                Choice("cancel", "common.cancel"),
            )
        )

    async def _ask_payment(
        self, title: str, message: str, params: Mapping[str, Any], *choices: Choice
    ) -> Action:
        """A payment screen with its choices; the guest's answer."""
        return await self.dialog.ask(
            View(
                Step.PAYMENT,
                title,
                message,
                params=params,
                choices=choices,
                timeout_s=self.settings.view_timeout_s,
            ),
            ActionKind.CHOOSE,
        )

    async def _check_in(
        self,
        reservation: Reservation,
        rooms: dict[str, Room],
        typed: list[tuple[Stay, Guest]],
    ) -> None:
        await self.dialog.busy("busy.checking_in")
        # What the guest typed is written only now, after the payment and just before the
        # check-in (the outbox keeps their order): a guest who walks away earlier leaves the
        # booking's record as it was.
        for stay, guest in typed:
            await self._backend(self.backend.register_guests(stay, [guest], new_reference("guest")))
        await self._backend(self.backend.check_in(reservation, rooms, new_reference("checkin")))

    async def _issue_keys(self, stays: list[Stay]) -> None:
        # Every stay's payload is asked for at once, while the guest picks the card counts
        # and the first card is fed; one left unused (the guest walked away) is dropped.
        payloads = [asyncio.ensure_future(self._key_payload(stay)) for stay in stays]
        try:
            counts = [await self._card_count(stay) for stay in stays]
            total, number = sum(counts), 0
            for stay, payload, count in zip(stays, payloads, counts, strict=True):
                for copy in range(count):
                    number += 1
                    try:
                        card = await self._issue_card(stay, payload, number, total)
                    except Refused as refused:
                        # Recording an extra copy failed: the guest holds this room's key,
                        # so no error screen for the bookkeeping (the copy was captured).
                        if copy == 0 or refused.reason not in _BOOKKEEPING:
                            raise
                        log.warning("an extra card not recorded (%s): not issued", refused)
                        break
                    self.settlement.card_issued(card)
                    if not card.taken:
                        return  # the guest has walked away: no more cards into the reject bin
        finally:
            for payload in payloads:
                payload.cancel()
            await asyncio.gather(*payloads, return_exceptions=True)  # retrieve their errors

    async def _key_payload(self, stay: Stay) -> bytes:
        return (await self._backend(self.backend.key_grant(stay))).payload

    async def _card_count(self, stay: Stay) -> int:
        most = self.settings.max_cards_per_room
        if most == 1:
            return 1
        action = await self.dialog.ask(
            View(
                Step.KEYS,
                "keys.title",
                "keys.message",
                params=_room_params(stay.room),
                choices=tuple(
                    Choice(str(n), "keys.count", primary=n == 1, params={"count": n})
                    for n in range(1, most + 1)
                ),
                timeout_s=self.settings.view_timeout_s,
            ),
            ActionKind.CHOOSE,
        )
        return int(action.value)

    async def _issue_card(
        self, stay: Stay, payload: asyncio.Future[bytes], number: int, total: int
    ) -> IssuedCard:
        params = {**_room_params(stay.room), "card": number, "cards": total}

        async def progress(stage: Stage) -> None:
            await self.dialog.show(
                View(
                    Step.KEY_PROGRESS,
                    "key_progress.title",
                    f"key_progress.{stage.value}",
                    params=params,
                    progress=(number, total),
                    timeout_s=None,
                )
            )

        async def record(uid: str) -> None:
            await self._backend(self.backend.record_key(stay, uid, new_reference("key")))
            self.settlement.presenting()

        try:
            return await self.issuer.issue(payload, record, progress)
        except CardStockEmpty:
            raise Refused(Refusal.CARD_STOCK_EMPTY) from None
        except CardIssueFailed:
            raise Refused(Refusal.CARD_FAILED) from None

    async def _receipt(
        self,
        reservation: Reservation,
        stays: list[Stay],
        sale: PaymentResult | None,
        deposit: PaymentResult | None,
    ) -> None:
        facts = ReceiptFacts(
            booking_reference=reservation.reference,
            holder_initial=initial_of(reservation.holder_name),
            rooms=tuple(s.room.name for s in stays if s.room),
            arrival=min(s.starts for s in stays),
            departure=max(s.ends for s in stays),
            paid=sale.amount if sale and sale.amount else Decimal("0"),
            currency=reservation.currency,
            card_last4=sale.card_last4 if sale else None,
            approval_code=sale.approval_code if sale else None,
            deposit=deposit.amount if deposit and deposit.amount else Decimal("0"),
        )
        receipt = build_receipt(facts, self.journey.catalogue, self.language)
        printer = self.journey.devices.printer
        self.receipt = await hand_out(self.dialog, printer, receipt, self.settings.done_timeout_s)

    async def _done(self, stays: list[Stay], pins: list[str]) -> None:
        rooms = []
        for stay, pin in zip(stays, pins, strict=True):
            room_params = _room_params(stay.room)
            room_params["directions"] = self.settings.directions_for(
                stay.room.floor if stay.room else None, self.language
            )
            room_params["door_pin"] = pin
            rooms.append(room_params)
        view = View(
            Step.DONE,
            "done.title",
            "done.message",
            params={
                "rooms": rooms,
                **{key: _joined(r[key] for r in rooms) for key in rooms[0]},
                "wifi_ssid": self.settings.wifi_ssid,
                "wifi_password": self.settings.wifi_password,
            },
            timeout_s=self.settings.done_timeout_s,
        )
        # Where the property uses e-keys, the guest may ask for one on their phone.
        finish = Choice("finish", "done.finish", primary=True)
        credentials = door_credentials(self.backend)
        await ekeys.ask_done(self.dialog, view, finish, credentials, stays, self.settings)

    async def _as_checked_in(self, stays: list[Stay]) -> list[Stay]:
        try:
            return await self._backend(self.backend.checked_in_stays(stays))
        except Refused:
            return stays  # the card opens the door; floor and PIN are conveniences

    async def _door_pins(self, stays: list[Stay]) -> list[str]:
        """Each stay's door PIN ("" for none), asked for all at once."""
        return list(
            await asyncio.gather(*(door_pin(self.backend, stay, self.settings) for stay in stays))
        )

    # -- endings ----------------------------------------------------------------------------

    async def _show_refusal(self, refusal: Refused) -> None:
        await self.dialog.ask_final(refusal_view(refusal, self.settings.done_timeout_s))

    async def _backend(self, call: Awaitable[T]) -> T:
        return await backend_call(call, self.settings.backend_timeout_s)

    def _result(self, outcome: str) -> JourneyResult:
        payments = self.payments
        return JourneyResult(
            outcome=outcome,
            steps=tuple(self.dialog.steps),
            language=self.language,
            payments=tuple(p.reference for p in payments.approved),
            voided=tuple(payments.voided),
            unresolved=(*payments.unresolved, *payments.void_failed),
            unrecorded=tuple(self.settlement.unrecorded),
            cards=tuple(c.uid for c in self.settlement.cards if c.taken),
            cards_not_taken=tuple(c.uid for c in self.settlement.cards if not c.taken),
            rejected_cards=self.issuer.rejected,
            unerased_cards=tuple(self.issuer.unerased),
            receipt=self.receipt,
        )


def nights_of(arrival: datetime, departure: datetime) -> int:
    """Nights from ``arrival`` to ``departure`` (local times): a stay that starts after
    midnight, before the check-out hour (a walk-in at 02:00), has last night as its first."""
    early = arrival.time() < departure.time()
    return (departure.date() - arrival.date()).days + early


def _valid_name(text: str) -> bool:
    return 0 < len(text) <= 60 and any(ch.isalpha() for ch in text)


def _room_params(room: Room | None) -> dict[str, Any]:
    if room is None:
        return {"room": "", "floor": ""}
    return {"room": room.name, "floor": "" if room.floor is None else room.floor}


def _joined(values: Any) -> str:
    """Distinct non-empty values, in order, for the single-line fields of the done screen."""
    return ", ".join(dict.fromkeys(str(v) for v in values if v not in ("", None)))
