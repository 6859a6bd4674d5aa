"""The key journey: an extra room card, or a new one for a lost key (issue 11, items 3 and 6).

attract ("key") -> extra or lost -> scan (or type) the booking + the second factor, always
-> which room (a booking with several in the house) -> the stay's card limit and the card
stock -> lost: what it changes, then its e-keys and door PINs revoked and staff told -> one
new card (dispense, encode, verify, record, present) -> lost: a new door PIN and e-key ->
done (room, PIN; an e-key to the guest's phone on request).

An RF card cannot be revoked through the PMS's API: the new card carries the same key as
the lost one (``generateRoomCard``), which opens the door until the stay ends. The guest
is told so on screen, and the operator through the audit table (``key lost``) and the
kiosk's health (``lost_keys``, in telemetry), neither holding guest data beyond the
booking and room. A run holds the guest's booking only while it runs (``_Run``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from hardware.card_encoder.protocol import CardEncoderError
from hardware.health import DeviceHealth, HealthLevel
from kiosk.backends.base import (
    DoorCredentials,
    Reservation,
    Revoked,
    Stay,
    StayExtensions,
    StayState,
    door_credentials,
)
from kiosk.journeys import ekeys
from kiosk.journeys.card_slot import card_or_answer, give_back
from kiosk.journeys.checkin import CheckinJourney
from kiosk.journeys.dialog import Dialog, GuestLeft, cancel_on
from kiosk.journeys.door_pins import door_pin
from kiosk.journeys.keys import (
    CardIssueFailed,
    CardIssuer,
    CardStockEmpty,
    IssuedCard,
    Stage,
    require_cards,
)
from kiosk.journeys.messages import ActionKind, Choice, Step, View
from kiosk.journeys.payment import new_reference
from kiosk.journeys.refusals import Refusal, Refused, backend_call, refusal_view
from kiosk.journeys.result import JourneyResult
from kiosk.state import JourneyMark, current_journey, now_text

log = logging.getLogger(__name__)
T = TypeVar("T")

EXTRA, LOST = "extra", "lost"
KEY_ISSUED = "key_issued"  # an extra card
KEY_REPLACED = "key_replaced"  # a lost key: credentials revoked, a new card
CARD_NOT_TAKEN = "card_not_taken"
FAILED = "failed"  # a bug: the guest was sent to the front desk
LOST_KEY_AUDIT = "key lost"
UNERASED_CARD = "card unerased"  # as the check-in's: a live card in the reject bin

KEY_DESK_KEYS: tuple[str, ...] = (
    "menu.key",
    "key_menu.title", "key_menu.message", "key_menu.extra", "key_menu.lost",
    "key_card.title", "key_card.message", "busy.looking_up",
    "key_stay.title", "key_stay.message",
    "key_lost.title", "key_lost.message", "key_lost.confirm",
    "key_done.title", "key_done.extra", "key_done.lost", "key_done.room", "key_done.floor",
    "key_done.door_pin", "key_done.ekey_phone", "key_done.finish",
    "busy.revoking",
    *ekeys.EKEY_KEYS,
)  # fmt: skip


@dataclass
class KeyDeskJourney:
    """What stays between guests: check-in's shared parts, the back-end's credential verbs,
    and the lost cards that still open a door (for the operator; no guest data)."""

    checkin: CheckinJourney  # the back-end, devices, settings, payment log and clock it shares
    credentials: DoorCredentials
    # (booking, valid until) of each card reported lost: it opens its door until then.
    lost_keys: list[tuple[str, datetime]] = field(default_factory=list)

    name = "key"
    menu_choice = Choice("key", "menu.key")

    @classmethod
    def beside(cls, checkin: CheckinJourney) -> KeyDeskJourney | None:
        """The key journey beside ``checkin``; None where the property does not offer it or
        its back-end keeps no card records."""
        credentials = door_credentials(checkin.backend)
        if not checkin.settings.key_journey or credentials is None:
            return None
        return cls(checkin, credentials)

    async def run_guest(self, dialog: Dialog, qr: str | None = None) -> JourneyResult:
        """One guest from the attract screen's "key" button (``qr``: a code scanned there)."""
        return await _Run(self, dialog).run(qr)

    def operator_health(self) -> DeviceHealth:
        """The operator's notice of lost room cards whose key still opens a door."""
        now = self.checkin.now()
        self.lost_keys[:] = [(b, until) for b, until in self.lost_keys if until > now]
        if not self.lost_keys:
            return DeviceHealth("lost_keys", HealthLevel.OK)
        count = len(self.lost_keys)
        return DeviceHealth(
            "lost_keys",
            HealthLevel.WARNING,
            f"{count} room card(s) reported lost still open a door until their stay ends: "
            "the PMS cannot revoke them (audit: key lost)",
            {"lost_cards": count},
        )


@dataclass
class _Run:
    """One guest's run: the only holder of their booking, dropped when the run ends."""

    journey: KeyDeskJourney
    dialog: Dialog
    booking: str = ""
    stay: Stay | None = None
    card: IssuedCard | None = None
    mark: JourneyMark = field(default_factory=lambda: JourneyMark(new_reference("journey")))

    def __post_init__(self) -> None:
        self.checkin = self.journey.checkin
        self.settings = self.checkin.settings
        self.backend = self.checkin.backend
        self.issuer = CardIssuer(
            self.checkin.devices.dispenser,
            self.checkin.devices.encoder,
            attempts=self.settings.card_attempts,
            take_timeout_s=self.settings.card_take_timeout_s,
            unerased=self._card_unerased,
        )

    async def run(self, qr: str | None) -> JourneyResult:
        token = current_journey.set(self.mark)
        try:
            outcome = await self._ended(self._journey(qr))
        finally:
            current_journey.reset(token)
        log.info("key journey ended: %s", outcome)
        return JourneyResult(
            outcome=outcome,
            steps=tuple(self.dialog.steps),
            language=self.dialog.language,
            cards=(self.card.uid,) if self.card and self.card.taken else (),
            cards_not_taken=(self.card.uid,) if self.card and not self.card.taken else (),
            rejected_cards=self.issuer.rejected,
            unerased_cards=tuple(self.issuer.unerased),
            journey=self.journey.name,
        )

    async def _ended(self, journey: Awaitable[str]) -> str:
        """The run's outcome; every way it stops has its screen."""
        try:
            return await journey
        except GuestLeft as left:
            return left.outcome
        except Refused as refusal:
            if not refusal.shown:
                await self._show_refusal(refusal)
            return f"refused:{refusal.reason.value}"
        except Exception as exc:  # a bug must not strand a guest
            log.error("key journey failed: %s", type(exc).__name__)  # its text may hold guest data
            await self._show_refusal(Refused(Refusal.BACKEND_FAULT))
            return f"{FAILED}:{type(exc).__name__}"

    # -- the journey ------------------------------------------------------------------------

    async def _journey(self, qr: str | None) -> str:
        kind = await self._extra_or_lost()
        # An extra key may be proven by the card the guest holds; a lost one by the booking.
        by_card = await self._card_or_code() if kind == EXTRA and qr is None else None
        if isinstance(by_card, tuple):
            reservation, stay = by_card
            self._mark(reservation.reservation_id)
            self.stay = stay
        else:
            reservation = await self._identify(by_card or qr)
            stay = self.stay = await self._which_stay(reservation)
        await self._within_card_limit(stay)
        await require_cards(self.issuer)
        revoked = Revoked()
        if kind == LOST:
            await self._confirm_lost()
            revoked = await self._revoke(stay)
        self.card = await self._issue_card(stay)
        if not self.card.taken:
            return CARD_NOT_TAKEN  # nobody is there to read the done screen
        pin, ekey_sent = "", False
        if kind == LOST and not revoked.pending:  # a revocation still queued: old ones stand
            pin = await door_pin(self.backend, stay, self.settings)
            if revoked.ekeys:  # the guest used a phone key: a new one replaces it
                sent = await ekeys.send_ekey(self.journey.credentials, stay, self.settings)
                ekey_sent = sent is ekeys.EkeyOutcome.SENT
        await self._done(stay, kind, pin, ekey_sent)
        return KEY_REPLACED if kind == LOST else KEY_ISSUED

    async def _extra_or_lost(self) -> str:
        action = await self.dialog.ask(
            View(
                Step.KEY_MENU,
                "key_menu.title",
                "key_menu.message",
                choices=(
                    Choice(EXTRA, "key_menu.extra", primary=True),
                    Choice(LOST, "key_menu.lost"),
                    Choice("cancel", "common.cancel"),
                ),
                timeout_s=self.settings.view_timeout_s,
            ),
            ActionKind.CHOOSE,
        )
        cancel_on(action)
        return action.value

    async def _identify(self, qr: str | None) -> Reservation:
        """The booking, proven by its code and the second factor (always: a room key)."""
        identify = self.checkin.identification(self.dialog, always_second_factor=True)
        reservation = await identify.reservation(qr)
        self._mark(reservation.reservation_id)
        return reservation

    def _mark(self, booking: str) -> None:
        """From here on this run's writes name the booking."""
        self.booking = booking
        self.mark = JourneyMark(self.mark.id, booking)
        current_journey.set(self.mark)

    async def _card_or_code(self) -> tuple[Reservation, Stay] | str | None:
        """The guest's room card in the slot (its stay, the card given back), or a booking
        code scanned instead (its text); None where the back-end cannot look a card up."""
        finder = self.journey.credentials
        if not isinstance(finder, StayExtensions):
            return None
        devices = self.checkin.devices
        slot = await card_or_answer(
            self.dialog,
            devices.dispenser,
            View(
                Step.SCAN,
                "key_card.title",
                "key_card.message",
                choices=(Choice("cancel", "common.cancel"),),
                timeout_s=self.settings.view_timeout_s,
            ),
            ActionKind.QR,
            ActionKind.CHOOSE,
        )
        if slot.action is not None:
            if slot.took:  # a card beside the cancel: theirs again
                await give_back(devices.dispenser, self.settings.card_take_timeout_s)
            cancel_on(slot.action)
            return slot.action.value
        await self.dialog.busy("busy.looking_up")
        try:
            info = await asyncio.to_thread(devices.encoder.wait_for_card, 1.0)
            found = await self._backend(finder.find_by_card(info.uid_hex, self.checkin.now()))
        except CardEncoderError:
            found = None
        finally:  # the guest's own key goes back to them whatever it opens
            await give_back(devices.dispenser, self.settings.card_take_timeout_s)
        if found is None:
            raise Refused(Refusal.CARD_UNKNOWN)
        return found

    async def _which_stay(self, reservation: Reservation) -> Stay:
        now = self.checkin.now()
        in_house = [
            s
            for s in reservation.stays
            if s.state is StayState.CHECKED_IN and s.room is not None and s.ends > now
        ]
        if not in_house:
            raise Refused(Refusal.NOT_IN_HOUSE)
        if len(in_house) == 1:
            return in_house[0]
        action = await self.dialog.ask(
            View(
                Step.ROOM,
                "key_stay.title",
                "key_stay.message",
                choices=(
                    *(Choice(s.stay_id, "room.option", params=_room_params(s)) for s in in_house),
                    Choice("cancel", "common.cancel"),
                ),
                timeout_s=self.settings.view_timeout_s,
            ),
            ActionKind.CHOOSE,
        )
        cancel_on(action)
        return next(s for s in in_house if s.stay_id == action.value)

    async def _within_card_limit(self, stay: Stay) -> None:
        await self.dialog.busy("busy.looking_up")
        cards = await self._backend(self.journey.credentials.recorded_cards(stay))
        if len(cards) >= self.settings.card_limit:
            log.info("card limit reached: %d of %d", len(cards), self.settings.card_limit)
            raise Refused(Refusal.CARD_LIMIT, limit=self.settings.card_limit)

    async def _confirm_lost(self) -> None:
        """What a lost key changes, before anything is revoked: said honestly."""
        action = await self.dialog.ask(
            View(
                Step.KEY_LOST,
                "key_lost.title",
                "key_lost.message",
                params=_room_params(self.stay),
                choices=(
                    Choice("continue", "key_lost.confirm", primary=True),
                    Choice("cancel", "common.cancel"),
                ),
                timeout_s=self.settings.view_timeout_s,
            ),
            ActionKind.CHOOSE,
        )
        cancel_on(action)

    async def _revoke(self, stay: Stay) -> Revoked:
        """The stay's e-keys and door PINs revoked; the lost RF card reported for staff."""
        await self.dialog.busy("busy.revoking")
        revoked = await self._backend(
            self.journey.credentials.revoke_credentials(stay, new_reference("lost"))
        )
        self.journey.lost_keys.append((self.booking, stay.ends))
        room = stay.room.name if stay.room else "?"
        self._audit(
            LOST_KEY_AUDIT,
            f"booking {self.booking} room {room}: a room card was reported lost; the PMS "
            f"cannot revoke it, it opens the door until {stay.ends.isoformat()} (re-key the "
            f"lock or watch the room); revoked {revoked.ekeys} e-key(s) and {revoked.pins} "
            f"door PIN(s){' (queued)' if revoked.pending else ''}",
        )
        log.warning("a room card reported lost cannot be revoked: staff told (audit: key lost)")
        return revoked

    async def _issue_card(self, stay: Stay) -> IssuedCard:
        async def grant() -> bytes:
            return (await self._backend(self.backend.key_grant(stay))).payload

        # Asked for while the card is fed; the issuer awaits it at the RF position.
        payload = asyncio.ensure_future(grant())

        async def progress(stage: Stage) -> None:
            await self.dialog.show(
                View(
                    Step.KEY_PROGRESS,
                    "key_progress.title",
                    f"key_progress.{stage.value}",
                    params={**_room_params(stay), "card": 1, "cards": 1},
                    progress=(1, 1),
                    timeout_s=None,
                )
            )

        async def record(uid: str) -> None:
            await self._backend(self.backend.record_key(stay, uid, new_reference("key")))

        try:
            return await self.issuer.issue(payload, record, progress)
        except CardStockEmpty:
            raise Refused(Refusal.CARD_STOCK_EMPTY) from None
        except CardIssueFailed:
            raise Refused(Refusal.CARD_FAILED) from None
        finally:
            payload.cancel()
            await asyncio.gather(payload, return_exceptions=True)  # retrieve its error

    async def _done(self, stay: Stay, kind: str, pin: str, ekey_sent: bool) -> None:
        view = View(
            Step.KEY_DONE,
            "key_done.title",
            f"key_done.{kind}",
            params={
                **_room_params(stay),
                "door_pin": pin,
                "ekey_phone": stay.contact_phone[-4:] if ekey_sent else "",
            },
            timeout_s=self.settings.done_timeout_s,
        )
        finish = Choice("finish", "key_done.finish", primary=True)
        offered = [] if ekey_sent else [stay]  # a new phone key went out already: none offered
        credentials = self.journey.credentials
        await ekeys.ask_done(self.dialog, view, finish, credentials, offered, self.settings)

    # -- staff's notices and endings --------------------------------------------------------

    def _card_unerased(self, uid: str) -> None:
        if self.stay is not None:
            self.checkin.unerased_keys.append((uid, self.stay.ends))  # one reject-bin notice
        self._audit(
            UNERASED_CARD,
            f"card {uid or '(UID unknown)'} of booking {self.booking} went to the reject bin "
            "holding a key: take it out and destroy it",
        )

    def _audit(self, action: str, detail: str) -> None:
        with self.checkin.payment_log.db.transaction() as conn:
            conn.execute(
                "INSERT INTO audit (at, actor, action, detail) VALUES (?, 'kiosk', ?, ?)",
                (now_text(), action, detail),
            )

    async def _show_refusal(self, refusal: Refused) -> None:
        await self.dialog.ask_final(refusal_view(refusal, self.settings.done_timeout_s))

    async def _backend(self, call: Awaitable[T]) -> T:
        return await backend_call(call, self.settings.backend_timeout_s)


def _room_params(stay: Stay | None) -> dict[str, Any]:
    room = stay.room if stay else None
    if room is None:
        return {"room": "", "floor": ""}
    return {"room": room.name, "floor": "" if room.floor is None else room.floor}
