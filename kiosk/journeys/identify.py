"""Finding the guest's booking: scan (or type) a code, look it up, and for an unsigned code
ask the second factor before anything of the booking is shown.

Wrong second factors are counted per booking in the state database, over every run and
restart: a run gives up after ``second_factor_attempts``, and the booking is locked at
this kiosk after ``second_factor_lock_after`` in all (otherwise guessing a few digits a
run would open any booking, given time). A locked booking is sent to the front desk."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kiosk.backends.base import PropertyBackend, Reservation
from kiosk.journeys.dialog import Dialog, cancel_on
from kiosk.journeys.messages import ActionKind, Choice, Step, TextInput, View
from kiosk.journeys.refusals import Refusal, Refused, backend_call, refusal_view
from kiosk.journeys.settings import JourneySettings
from kiosk.lockout import Lockout
from kiosk.qr_payload import BookingPayload, PmsOrderRef, QrPayloadError, parse_payload
from kiosk.state import StateDb

log = logging.getLogger(__name__)


@dataclass
class Identification:
    """One run's search for its booking; unreadable or unknown codes may be tried again."""

    dialog: Dialog
    backend: PropertyBackend
    settings: JourneySettings
    signing_key: bytes | None
    qr_max_length: int
    now: Callable[[], datetime]
    db: StateDb
    # The second factor even for a signed code (a key: a photo of the QR must not do).
    always_second_factor: bool = False
    locks: Lockout = field(init=False)

    def __post_init__(self) -> None:
        self.locks = Lockout(
            self.db,
            "second_factor",
            max_failures=self.settings.second_factor_lock_after,
            duration=timedelta(seconds=self.settings.second_factor_lock_s),
            clock=self.now,
        )

    async def reservation(self, pending_qr: str | None) -> Reservation:
        """Scan or type until a booking is found and the guest proved it is theirs."""
        for attempt in range(1, self.settings.scan_attempts + 1):
            try:
                payload = await self._payload(pending_qr)
                pending_qr = None
                await self.dialog.busy("busy.looking_up")
                reservation = await backend_call(
                    self.backend.find_reservation(payload.ref), self.settings.backend_timeout_s
                )
                if payload.needs_second_factor or self.always_second_factor:
                    await self._second_factor(reservation)
                return reservation
            except Refused as refusal:
                if not refusal.reason.retryable or attempt == self.settings.scan_attempts:
                    raise
                pending_qr = await self._offer_retry(refusal)
        raise AssertionError("unreachable: the last attempt re-raises")

    async def _payload(self, pending_qr: str | None) -> BookingPayload:
        if pending_qr is None:
            action = await self.dialog.ask(
                View(
                    Step.SCAN,
                    "scan.title",
                    "scan.message",
                    choices=(
                        Choice("type_reference", "scan.type_reference"),
                        Choice("cancel", "common.cancel"),
                    ),
                    timeout_s=self.settings.view_timeout_s,
                ),
                ActionKind.QR,
                ActionKind.CHOOSE,
            )
            if action.kind is ActionKind.CHOOSE:
                cancel_on(action)
                return await self._typed_reference()
            pending_qr = action.value
        try:
            return parse_payload(
                pending_qr,
                signing_key=self.signing_key,
                max_length=self.qr_max_length,
                now=self.now(),
            )
        except QrPayloadError as exc:
            log.info("scanned code refused: %s", exc.reason)  # never the scanned text
            raise Refused(Refusal.MALFORMED_CODE) from None

    async def _typed_reference(self) -> BookingPayload:
        """A typed reference names a booking like an unsigned QR: a second factor follows."""
        action = await self.dialog.ask(
            View(
                Step.TYPE_REFERENCE,
                "type_reference.title",
                "type_reference.message",
                choices=(Choice("cancel", "common.cancel"),),
                input=TextInput(max_length=32, placeholder="type_reference.placeholder"),
                timeout_s=self.settings.view_timeout_s,
            ),
            ActionKind.TEXT,
            ActionKind.CHOOSE,
        )
        cancel_on(action)
        text = action.value.strip()
        # Only an order id can be looked up today; an order number needs a back-end search verb.
        # ASCII and bounded: isdigit() alone passes "²" (int() raises on it) and "４２".
        if not (text.isascii() and text.isdigit() and len(text) <= 10) or not 0 < int(text) < 2**31:
            raise Refused(Refusal.UNKNOWN_CODE)
        return BookingPayload(PmsOrderRef(order_id=int(text)), signed=False)

    async def _second_factor(self, reservation: Reservation) -> None:
        booking = reservation.reservation_id
        if self.locks.locked_until(booking) is not None:
            log.warning("second factor: booking %s is locked at this kiosk", booking)
            raise Refused(Refusal.SECOND_FACTOR_LOCKED)
        by_phone = self.settings.second_factor == "phone_digits"
        attempts = self.settings.second_factor_attempts
        prompt = "identity.phone_digits" if by_phone else "identity.surname"
        for attempt in range(attempts):
            left = min(attempts - attempt, self.locks.failures_left(booking))
            action = await self.dialog.ask(
                View(
                    Step.IDENTITY,
                    "identity.title",
                    "identity.wrong" if attempt else prompt,
                    params={"prompt": prompt, "attempts_left": left},
                    choices=(Choice("cancel", "common.cancel"),),
                    input=TextInput(
                        kind="digits" if by_phone else "text",
                        max_length=4 if by_phone else 40,
                        placeholder="identity.placeholder",
                    ),
                    timeout_s=self.settings.view_timeout_s,
                ),
                ActionKind.TEXT,
                ActionKind.CHOOSE,
            )
            cancel_on(action)
            if second_factor_matches(action.value, reservation, by_phone=by_phone):
                self.locks.succeeded(booking)
                return
            lock = self.locks.failed(booking)
            if lock is not None:
                # The operator's notice (also in the audit table); the booking id is no guest data.
                log.warning(
                    "second factor wrong %d times for booking %s: locked at this kiosk until %s",
                    lock.failures,
                    booking,
                    lock.until.isoformat(),
                )
                raise Refused(Refusal.SECOND_FACTOR_LOCKED)
            log.info("second factor did not match (attempt %d of %d)", attempt + 1, attempts)
        raise Refused(Refusal.SECOND_FACTOR_FAILED)

    async def _offer_retry(self, refusal: Refused) -> str | None:
        """Try again (or scan another code right away: returned), or give up."""
        action = await self.dialog.ask(
            refusal_view(
                refusal,
                self.settings.done_timeout_s,
                Choice("try_again", "common.try_again", primary=True),
            ),
            ActionKind.CHOOSE,
            ActionKind.QR,
        )
        if action.kind is ActionKind.QR:
            return action.value
        if action.value != "try_again":
            refusal.shown = True
            raise refusal
        return None


def second_factor_matches(typed: str, reservation: Reservation, *, by_phone: bool) -> bool:
    """Constant-time comparison with the last four phone digits, or the surname (the name's
    last word, or the whole name for names written without spaces)."""
    if by_phone:
        expected = [reservation.holder_phone[-4:]] if len(reservation.holder_phone) >= 4 else []
        given = typed.strip()
    else:
        words = reservation.holder_name.split()
        expected = [_folded(words[-1]), _folded(reservation.holder_name)] if words else []
        given = _folded(typed)
    return bool(given) and any(
        # A touch keyboard can't type a lone surrogate, a scripted or hostile input can:
        # it must compare unequal, not raise.
        hmac.compare_digest(given.encode(errors="surrogatepass"), candidate.encode())
        for candidate in expected
    )


def _folded(text: str) -> str:
    return "".join(text.split()).casefold()
