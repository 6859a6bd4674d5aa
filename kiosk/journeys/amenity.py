"""The amenity journey: an in-house guest books the gym, the pool or a meeting room.

attract "Book an amenity" -> scan the booking (or type it, + the second factor as at
check-in) -> the guest must be staying now -> menu, until the guest is done:
  book: amenity -> day -> a free slot (closed and booked ones greyed out) -> booked: PIN
        code on screen and on a printed slip;
  my bookings: pick one -> cancel it;
  a booking code: scan it -> the booking it makes, with its PIN code.
Amenities cost nothing in seed 000, so no money moves. Bookings are made and claimed
through the outbox as writes whose answer the guest waits for (never replayed later
behind their back); a cancellation is a write that may be delivered later. A booking
whose reply was lost is looked up in the residence's bookings before the guest is told
it failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from hardware.printer.protocol import PrinterError
from hardware.printer.receipt import Align, Pair, Receipt, Separator, Text
from kiosk.backends.amenities import AmenityBooking, AmenityDesk, BookingState
from kiosk.backends.base import Reservation, StayState
from kiosk.journeys.checkin import CheckinJourney
from kiosk.journeys.dialog import Dialog, GuestLeft, cancel_on
from kiosk.journeys.messages import ActionKind, Choice, Step, View
from kiosk.journeys.payment import new_reference
from kiosk.journeys.refusals import Refusal, Refused, backend_call, refusal_view
from kiosk.journeys.result import JourneyResult
from kiosk.qr_payload import BookingCodeRef, QrPayloadError, parse_payload
from kiosk.state import JourneyMark, current_journey

log = logging.getLogger(__name__)
T = TypeVar("T")

AMENITY_DONE = "amenity_done"
# What the booking screen lists (``amenity_booked.<key>`` lines, in this order).
BOOKING_DETAILS = ("amenity", "starts", "ends", "state", "pin_code")
_STATE_KEYS = {
    BookingState.PENDING: "amenity.state.pending",
    BookingState.SUCCESS: "amenity.state.success",
    BookingState.REJECTED: "amenity.state.rejected",
    BookingState.CANCELED: "amenity.state.canceled",
    BookingState.UNKNOWN: "amenity.state.unknown",
}

# Every i18n key the journey puts on a view; the catalogues must hold each of them.
AMENITY_KEYS: tuple[str, ...] = (
    "menu.amenity",
    "amenity_menu.title", "amenity.menu.message", "amenity.menu.book", "amenity.menu.bookings",
    "amenity.menu.code", "amenity.menu.done", "amenity.menu.code_refused",
    "amenity.menu.cancelled", "amenity.menu.slot_taken",
    "amenity.pick_amenity.title", "amenity.pick_amenity.message", "amenity.amenity_option",
    "amenity.pick_day.title", "amenity.pick_day.message", "amenity.day_option",
    "amenity_slot.title", "amenity.slot.message", "amenity.slot_option",
    "amenity.bookings.title", "amenity.bookings.message", "amenity.bookings.none",
    "amenity.booking_option",
    "amenity_booked.title", "amenity.booked.message", "amenity.booked.printed",
    "amenity.booked.kept", "amenity.booked.cancel",
    *(f"amenity_booked.{key}" for key in BOOKING_DETAILS),
    "amenity.slip.title", "amenity.slip.amenity", "amenity.slip.starts", "amenity.slip.ends",
    "amenity.slip.pin_code",
    "amenity.scan_code.title", "amenity.scan_code.message",
    "busy.looking_up", "busy.booking",
    *_STATE_KEYS.values(),
    *(f"{r.key}.{part}" for r in (Refusal.NOT_IN_HOUSE, Refusal.AMENITIES_UNAVAILABLE)
      for part in ("title", "message")),
)  # fmt: skip


@dataclass
class AmenityJourney:
    """What stays between guests: check-in's shared parts, the amenity system, the rules."""

    checkin: CheckinJourney  # the back-end, devices, settings, catalogue and clock it shares
    desk: AmenityDesk
    slot_minutes: int = 60
    days_ahead: int = 3
    residences: Mapping[str, str] = field(default_factory=dict)  # room name -> residence id

    name = "amenity"
    menu_choice = Choice("amenity", "menu.amenity")

    async def run_guest(self, dialog: Dialog, qr: str | None = None) -> JourneyResult:
        """One in-house guest, from "Book an amenity" to done."""
        run = _AmenityRun(self, dialog)
        token = current_journey.set(JourneyMark(new_reference("journey")))
        try:
            outcome = await run.run()
        finally:
            current_journey.reset(token)
        log.info("amenity journey ended: %s", outcome)
        return JourneyResult(outcome, tuple(dialog.steps), dialog.language, journey=self.name)


@dataclass
class _AmenityRun:
    """One guest's visit: the only holder of their residence and bookings."""

    journey: AmenityJourney
    dialog: Dialog
    residence: str = ""
    notice: str = ""  # a line for the menu about what just happened (cancelled, ...)

    def __post_init__(self) -> None:
        self.checkin = self.journey.checkin
        self.settings = self.checkin.settings
        self.desk = self.journey.desk

    async def run(self) -> str:
        try:
            reservation = await self._identify()
            self.residence = await self._residence_of(reservation)
            await self._menu()
            return AMENITY_DONE
        except GuestLeft as left:
            return left.outcome
        except Refused as refusal:
            if not refusal.shown:
                await self.dialog.ask_final(refusal_view(refusal, self.settings.done_timeout_s))
            return f"refused:{refusal.reason.value}"
        except Exception as exc:  # a bug must not strand the guest on a screen
            log.error("amenity journey failed: %s", type(exc).__name__)
            await self.dialog.ask_final(
                refusal_view(Refused(Refusal.BACKEND_FAULT), self.settings.done_timeout_s)
            )
            return f"failed:{type(exc).__name__}"

    # -- who is asking ----------------------------------------------------------------------

    async def _identify(self) -> Reservation:
        return await self.checkin.identification(self.dialog).reservation(None)

    async def _residence_of(self, reservation: Reservation) -> str:
        """The residence of the guest's room, if the guest is staying now."""
        now = self.checkin.now()
        staying = [
            s
            for s in reservation.stays
            if s.state is StayState.CHECKED_IN and now < s.ends and s.room
        ]
        if not staying:
            raise Refused(Refusal.NOT_IN_HOUSE)
        room = staying[0].room
        assert room is not None  # filtered above
        residence = self.journey.residences.get(room.name) or await self._backend(
            self.desk.residence_of(room)
        )
        if not residence:
            raise Refused(Refusal.AMENITIES_UNAVAILABLE)
        return residence

    # -- the menu ---------------------------------------------------------------------------

    async def _menu(self) -> None:
        while True:
            action = await self.dialog.ask(
                View(
                    Step.AMENITY_MENU,
                    "amenity_menu.title",
                    self.notice or "amenity.menu.message",
                    choices=(
                        Choice("book", "amenity.menu.book", primary=True),
                        Choice("bookings", "amenity.menu.bookings"),
                        Choice("code", "amenity.menu.code"),
                        Choice("done", "amenity.menu.done"),
                    ),
                    timeout_s=self.settings.view_timeout_s,
                ),
                ActionKind.CHOOSE,
            )
            self.notice = ""
            if action.value == "done":
                return
            if action.value == "book":
                await self._book()
            elif action.value == "bookings":
                await self._my_bookings()
            else:
                await self._claim_code()

    # -- book -------------------------------------------------------------------------------

    async def _book(self) -> None:
        await self.dialog.busy("busy.looking_up")
        amenities = await self._backend(self.desk.amenities(self.residence))
        if not amenities:
            raise Refused(Refusal.AMENITIES_UNAVAILABLE)
        picked = await self._pick(
            "amenity.pick_amenity",
            [
                Choice(a.amenity_id, "amenity.amenity_option", params={"name": a.name})
                for a in amenities
            ],
        )
        if picked is None:
            return
        amenity = next(a for a in amenities if a.amenity_id == picked)
        today = self.checkin.now().astimezone(self.checkin.catalogue.tz).date()
        days = [today + timedelta(days=n) for n in range(self.journey.days_ahead)]
        day_id = await self._pick(
            "amenity.pick_day",
            [Choice(f"d{n}", "amenity.day_option", params={"day": d}) for n, d in enumerate(days)],
        )
        if day_id is None:
            return
        start = await self._slot(amenity.amenity_id, amenity.name, days[int(day_id[1:])])
        if start is None:
            return
        try:
            booking = await self._make_booking(amenity.amenity_id, amenity.name, start)
        except Refused as refusal:
            if refusal.reason is not Refusal.SLOT_TAKEN:
                raise
            self.notice = "amenity.menu.slot_taken"  # someone was faster: pick again
            return
        await self._show_booking(booking, kept=True)

    async def _slot(self, amenity_id: str, amenity_name: str, day: Any) -> datetime | None:
        """The guest's pick among the day's slots; taken, closed and past ones greyed out."""
        await self.dialog.busy("busy.looking_up")
        opening = await self._backend(self.desk.amenity_day(self.residence, amenity_id, day))
        length = timedelta(minutes=self.journey.slot_minutes)
        now = self.checkin.now()
        slots: list[datetime] = []
        start = opening.opens
        while start + length <= opening.closes:
            slots.append(start)
            start += length
        choices = [
            Choice(
                f"s{n}",
                "amenity.slot_option",
                params={"time": self._clock_time(s)},
                enabled=s > now and opening.free(s, s + length),
            )
            for n, s in enumerate(slots)
        ]
        action = await self.dialog.ask(
            View(
                Step.AMENITY_SLOT,
                "amenity_slot.title",
                "amenity.slot.message",
                params={"amenity": amenity_name, "day": day},
                choices=(*choices, Choice("back", "common.back")),
                timeout_s=self.settings.view_timeout_s,
            ),
            ActionKind.CHOOSE,
        )
        return None if action.value == "back" else slots[int(action.value[1:])]

    async def _make_booking(self, amenity_id: str, name: str, start: datetime) -> AmenityBooking:
        await self.dialog.busy("busy.booking")
        minutes = self.journey.slot_minutes
        try:
            return await self._backend(
                self.desk.book_amenity(
                    self.residence, amenity_id, start, minutes, new_reference("amenity")
                )
            )
        except Refused as refusal:
            if refusal.reason is not Refusal.BACKEND_UNREACHABLE:
                raise
            # The reply may be all that was lost: the booking may be there.
            made = await self._find_booking(name, start)
            if made is None:
                raise
            return made

    async def _find_booking(self, name: str, start: datetime) -> AmenityBooking | None:
        try:
            bookings = await self._backend(self.desk.amenity_bookings(self.residence))
        except Refused:
            return None
        return next(
            (b for b in bookings if b.amenity_name == name and b.starts == start and b.active),
            None,
        )

    # -- my bookings ------------------------------------------------------------------------

    async def _my_bookings(self) -> None:
        await self.dialog.busy("busy.looking_up")
        bookings = [
            b for b in await self._backend(self.desk.amenity_bookings(self.residence)) if b.active
        ]
        bookings.sort(key=lambda b: b.starts)
        picked = await self._pick(
            "amenity.bookings",
            [
                Choice(
                    b.booking_id,
                    "amenity.booking_option",
                    params={"amenity": b.amenity_name, "starts": b.starts},
                )
                for b in bookings
            ],
            message="amenity.bookings.message" if bookings else "amenity.bookings.none",
        )
        if picked is None:
            return
        booking = next(b for b in bookings if b.booking_id == picked)
        if await self._show_booking(booking, kept=False) == "cancel_booking":
            await self.dialog.busy("busy.looking_up")
            await self._backend(
                self.desk.cancel_amenity_booking(
                    self.residence, booking.booking_id, new_reference("amenity")
                )
            )
            self.notice = "amenity.menu.cancelled"

    # -- a booking code ---------------------------------------------------------------------

    async def _claim_code(self) -> None:
        action = await self.dialog.ask(
            View(
                Step.SCAN,
                "amenity.scan_code.title",
                "amenity.scan_code.message",
                choices=(Choice("back", "common.back"),),
                timeout_s=self.settings.view_timeout_s,
            ),
            ActionKind.QR,
            ActionKind.CHOOSE,
        )
        if action.kind is ActionKind.CHOOSE:
            return
        try:
            payload = parse_payload(
                action.value,
                signing_key=self.checkin.signing_key,
                max_length=self.checkin.qr_max_length,
                now=self.checkin.now(),
            )
        except QrPayloadError as exc:
            log.info("scanned code refused: %s", exc.reason)  # never the scanned text
            payload = None
        ref = payload.ref if payload else None
        # Only a code for this guest's own residence: another room's code books for them.
        if not isinstance(ref, BookingCodeRef) or ref.residence_id != self.residence:
            self.notice = "amenity.menu.code_refused"
            return
        await self.dialog.busy("busy.booking")
        try:
            booking = await self._backend(self.desk.claim_amenity_code(ref))
        except Refused as refusal:
            if refusal.reason in (Refusal.BACKEND_UNREACHABLE, Refusal.BACKEND_FAULT):
                raise
            self.notice = "amenity.menu.code_refused"
            return
        await self._show_booking(booking, kept=True)

    # -- shared screens ---------------------------------------------------------------------

    async def _pick(
        self, key: str, choices: list[Choice], *, message: str | None = None
    ) -> str | None:
        """One of ``choices``, or None when the guest goes back."""
        action = await self.dialog.ask(
            View(
                Step.AMENITY_PICK,
                f"{key}.title",
                message or f"{key}.message",
                choices=(*choices, Choice("back", "common.back")),
                timeout_s=self.settings.view_timeout_s,
            ),
            ActionKind.CHOOSE,
        )
        return None if action.value == "back" else action.value

    async def _show_booking(self, booking: AmenityBooking, *, kept: bool) -> str:
        """A booking's details; a new one is printed. Returns the guest's choice."""
        message = "amenity.booked.message"
        if kept:
            message = (
                "amenity.booked.printed" if await self._print(booking) else "amenity.booked.kept"
            )
        choices = [Choice("continue", "common.continue", primary=True)]
        if not kept:
            choices.insert(0, Choice("cancel_booking", "amenity.booked.cancel"))
        action = await self.dialog.ask(
            View(
                Step.AMENITY_BOOKED,
                "amenity_booked.title",
                message,
                params={
                    "amenity": booking.amenity_name,
                    "starts": booking.starts,
                    "ends": self._clock_time(booking.ends),
                    "pin_code": booking.pin_code,
                    "state": self._state_text(booking.state),
                },
                choices=tuple(choices),
                timeout_s=self.settings.view_timeout_s,
            ),
            ActionKind.CHOOSE,
        )
        cancel_on(action)
        return action.value

    async def _print(self, booking: AmenityBooking) -> bool:
        """The booking slip with its PIN code; False when there is no printer or no paper."""
        printer = self.checkin.devices.printer
        if printer is None:
            return False
        catalogue, lang = self.checkin.catalogue, self.dialog.language

        def label(key: str) -> str:
            return catalogue.translate(f"amenity.slip.{key}", lang)

        slip = Receipt(
            (
                Text(label("title"), Align.CENTER, bold=True),
                Separator(),
                Pair(label("amenity"), booking.amenity_name),
                Pair(label("starts"), catalogue.format_value(booking.starts, lang)),
                Pair(label("ends"), self._clock_time(booking.ends)),
                Pair(label("pin_code"), booking.pin_code, bold=True),
            )
        )
        try:
            await asyncio.to_thread(printer.print_receipt, slip)
        except PrinterError as exc:
            log.warning("booking slip not printed: %s", type(exc).__name__)
            return False
        return True

    def _clock_time(self, at: datetime) -> str:
        return at.astimezone(self.checkin.catalogue.tz).strftime("%H:%M")

    def _state_text(self, state: BookingState) -> str:
        return self.checkin.catalogue.translate(_STATE_KEYS[state], self.dialog.language)

    async def _backend(self, call: Awaitable[T]) -> T:
        return await backend_call(call, self.settings.backend_timeout_s)
