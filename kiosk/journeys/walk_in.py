"""The walk-in journey: a guest without a booking buys tonight's room at the kiosk.

attract "Book a room" -> how many nights -> room types with a free, clean room, one at a
time with its photo and price -> the kiosk books the room (nothing paid) -> the check-in
journey of that booking: summary, registration, payment, keys, receipt.

The money rule holds as at check-in (payment voided if no key comes out), and a booking
is never left holding a room without money: when the check-in does not end with the
guest checked in, the walk-in booking is cancelled (through the outbox). Two kiosks
racing for the last room cannot both sell it: the PMS refuses the second booking, and
that guest is offered the next free room, or sees "just taken" and the types still free.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from itertools import groupby
from pathlib import Path
from typing import TypeVar

from kiosk.backends.walk_in import SellableRoom, WalkInDesk
from kiosk.journeys.checkin import CARD_NOT_TAKEN, CHECKED_IN, CheckinJourney
from kiosk.journeys.dialog import Dialog, GuestLeft, cancel_on
from kiosk.journeys.messages import ActionKind, Choice, Step, View
from kiosk.journeys.payment import new_reference
from kiosk.journeys.refusals import Refusal, Refused, backend_call, refusal_view
from kiosk.journeys.result import JourneyResult
from kiosk.qr_payload import PmsOrderRef
from kiosk.state import JourneyMark, current_journey

log = logging.getLogger(__name__)
T = TypeVar("T")

_KEPT = frozenset({CHECKED_IN, CARD_NOT_TAKEN})  # outcomes in which the booking stays
ROOM_DETAILS = ("room_type", "nights", "nightly", "amount_due")

# Every i18n key the journey puts on a view; the catalogues must hold each of them.
WALK_IN_KEYS: tuple[str, ...] = (
    "menu.walk_in",
    "walk_in_nights.title", "walk_in_nights.message", "walk_in.nights_option",
    "walk_in_room.title", "walk_in_room.message", "walk_in_room.taken", "walk_in_room.book",
    "walk_in_room.other", "walk_in_room.amount_due_label",
    *(f"walk_in_room.{key}" for key in ROOM_DETAILS),
    "busy.finding_rooms", "busy.booking",
    *(f"{Refusal.NO_ROOMS.key}.{part}" for part in ("title", "message")),
)  # fmt: skip


@dataclass
class WalkInJourney:
    """What stays between guests: check-in's shared parts, the PMS's rooms, the rates."""

    checkin: CheckinJourney
    desk: WalkInDesk
    rates: Mapping[str, Decimal]  # room type id -> nightly rate: only these are sold
    currency: str  # the property's (``[backend] currency``)
    photos: Mapping[str, Path] = field(default_factory=dict)
    max_nights: int = 3
    check_out_time: time = time(12, 0)

    name = "walk_in"
    menu_choice = Choice("walk_in", "menu.walk_in")

    async def run_guest(self, dialog: Dialog, qr: str | None = None) -> JourneyResult:
        """One guest, from "Book a room" to a room card (or back to the start)."""
        token = current_journey.set(JourneyMark(new_reference("journey")))
        try:
            result = await _WalkInRun(self, dialog).run()
        finally:
            current_journey.reset(token)
        log.info("walk-in ended: %s", result.outcome)
        return dataclasses.replace(result, journey=self.name)


@dataclass
class _WalkInRun:
    journey: WalkInJourney
    dialog: Dialog
    taken_notice: bool = False  # the last room was just sold elsewhere: say so
    # Rooms the PMS refused to this guest: a room can look free (its own calendar) while
    # its type is full, so it is not offered to them again.
    refused: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.checkin = self.journey.checkin
        self.settings = self.checkin.settings

    async def run(self) -> JourneyResult:
        try:
            order_id = await self._book()
        except GuestLeft as left:
            return self._ended(left.outcome)
        except Refused as refusal:
            await self.dialog.ask_final(refusal_view(refusal, self.settings.done_timeout_s))
            return self._ended(f"refused:{refusal.reason.value}")
        current_journey.set(JourneyMark(current_journey.get().id, str(order_id)))  # type: ignore[union-attr]
        result = await self.checkin.run_booking(self.dialog, PmsOrderRef(order_id=order_id))
        if result.outcome not in _KEPT:
            await self._release(order_id)
        return result

    # -- the steps --------------------------------------------------------------------------

    async def _book(self) -> int:
        """Nights, then a room type, until a room is booked: its order id."""
        starts = self.checkin.now()
        nights = await self._nights(starts)
        ends = self._departure(starts, nights)
        while True:
            await self.dialog.busy("busy.finding_rooms")
            rooms = await self._backend(self.journey.desk.sellable_rooms(starts, ends))
            by_type = self._for_sale([r for r in rooms if r.room.room_id not in self.refused])
            if not by_type:
                raise Refused(Refusal.NO_ROOMS)
            offered = await self._room_type(by_type, nights)
            await self.dialog.busy("busy.booking")
            amount = self.journey.rates[offered[0].room.room_type_id] * nights
            for sellable in offered:  # another kiosk may sell the one we offer: the next
                try:
                    return await self._backend(
                        self.journey.desk.book_walk_in(
                            sellable.room, starts, ends, amount, new_reference("walkin")
                        )
                    )
                except Refused as refusal:
                    if refusal.reason is not Refusal.ROOM_TAKEN:
                        raise
                    self.refused.add(sellable.room.room_id)
                    log.info("walk-in room sold meanwhile: trying the next")
            self.taken_notice = True

    async def _nights(self, starts: datetime) -> int:
        """How many nights the guest stays."""
        nights = range(1, self.journey.max_nights + 1)
        options = [
            Choice(f"n{n}", "walk_in.nights_option", n == 1,
                   params={"nights": n, "departure": self._departure(starts, n)})
            for n in nights
        ]  # fmt: skip
        action = await self.dialog.ask(
            View(
                Step.WALK_IN_NIGHTS,
                "walk_in_nights.title",
                "walk_in_nights.message",
                choices=(*options, Choice("cancel", "common.cancel")),
                timeout_s=self.settings.view_timeout_s,
            ),
            ActionKind.CHOOSE,
        )
        cancel_on(action)
        return int(action.value[1:])

    async def _room_type(
        self, by_type: list[list[SellableRoom]], nights: int
    ) -> list[SellableRoom]:
        """The free rooms of the type the guest takes, shown one type at a time."""
        index = 0
        while True:
            rooms = by_type[index % len(by_type)]
            type_id = rooms[0].room.room_type_id
            nightly = self.journey.rates[type_id]
            photo = self.journey.photos.get(type_id)
            choices = [Choice("book", "walk_in_room.book", primary=True)]
            if len(by_type) > 1:
                choices.append(Choice("other", "walk_in_room.other"))
            choices.append(Choice("cancel", "common.cancel"))
            action = await self.dialog.ask(
                View(
                    Step.WALK_IN_ROOM,
                    "walk_in_room.title",
                    "walk_in_room.taken" if self.taken_notice else "walk_in_room.message",
                    params={
                        "room_type": rooms[0].type_name,
                        "nights": nights,
                        "nightly": nightly,
                        "amount_due": nightly * nights,
                        "currency": self.journey.currency,
                        "photo": str(photo) if photo else "",
                    },
                    choices=tuple(choices),
                    timeout_s=self.settings.view_timeout_s,
                ),
                ActionKind.CHOOSE,
            )
            cancel_on(action)
            if action.value == "book":
                self.taken_notice = False
                return rooms
            index += 1

    async def _release(self, order_id: int) -> None:
        """No guest checked in: the room goes back on sale (through the outbox)."""
        try:
            await self._backend(
                self.journey.desk.release_walk_in(order_id, new_reference("release"))
            )
        except Refused as refusal:  # the outbox keeps it, or staff see it: never the guest
            log.error("walk-in booking %s not released: %s", order_id, refusal.reason.value)

    # -- helpers ----------------------------------------------------------------------------

    def _for_sale(self, rooms: list[SellableRoom]) -> list[list[SellableRoom]]:
        """Free rooms of the types the property sells here, grouped by type (PMS order)."""
        sold = [r for r in rooms if r.room.room_type_id in self.journey.rates]
        types = list(dict.fromkeys(r.room.room_type_id for r in sold))
        ranked = sorted(sold, key=lambda r: types.index(r.room.room_type_id))
        return [list(group) for _type, group in groupby(ranked, key=lambda r: r.room.room_type_id)]

    def _departure(self, starts: datetime, nights: int) -> datetime:
        """``nights`` nights from ``starts``: at the check-out time, local. A guest arriving
        before the check-out time (after midnight) has last night as the first."""
        zone = self.checkin.catalogue.tz
        local = starts.astimezone(zone)
        first_night = local.date() - timedelta(days=local.time() < self.journey.check_out_time)
        day = first_night + timedelta(days=nights)
        return datetime.combine(day, self.journey.check_out_time, zone).astimezone(starts.tzinfo)

    def _ended(self, outcome: str) -> JourneyResult:
        return JourneyResult(outcome, tuple(self.dialog.steps), self.dialog.language)

    async def _backend(self, call: Awaitable[T]) -> T:
        return await backend_call(call, self.settings.backend_timeout_s)
