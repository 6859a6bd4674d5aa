"""A ``PaymentTerminal`` that speaks ZVT over TCP/IP (German/Austrian terminals' ECR
interface; the specification is public).

Functions used: Registration (06 00) on every connection, Authorisation (06 01) for a
sale, Pre-Authorisation (06 22) for a deposit, Refund (06 31) for money back at
check-out, Reversal (06 30) and Pre-Authorisation Reversal (06 25) for a void, Repeat
Receipt (06 20) to learn the terminal's last transaction, and the kiosk's Abort (06 B0)
for ``cancel``.

A refund goes to the card the guest presents at the terminal: ZVT cannot aim it at the
sale's card. The driver refunds only against an approved sale in its own journal, in its
currency and at most its amount (else DECLINED, nothing sent), and logs a warning when
the card presented is not the sale's (its last four digits differ).

The reference contract (``hardware.payment.protocol``) over a protocol that knows no
references: the driver's journal (``ZvtJournal``) saves each reference, with the
terminal's last receipt number, before the request leaves. A sale runs in a worker
thread that reads the terminal's answer; when ``response_timeout_s`` passes first, the
sale returns TIMEOUT and the worker keeps reading (up to ``abandon_after_s``), so
``status`` answers from the journal once the terminal is done. After a link drop or a
crash, ``status`` asks the terminal to repeat its last receipt: a receipt newer than the
one saved before the request, for the same amount and currency, is this payment's;
none is "the terminal never booked it". A reference that is in the journal is never
sent again, so a repeated ``sale`` never charges twice.

Assumed where the public summaries of the specification are thin (and emulated so in
the tests): 06 25 carries the receipt number (87) and the amount (04); the Repeat
Receipt's result (04 0F) carries the last booking's receipt number, amount and
currency; a busy terminal refuses a command with 84 A0; a Refund carries the password
and then the amount (04) and currency (49), and is answered like an Authorisation. The
registration's config byte (3E) makes the kiosk the receipt printer (so a repeated
receipt never reaches paper), asks for intermediate status and locks amount entry and
admin functions at the terminal.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from hardware.health import DeviceHealth, HealthLevel
from hardware.payment.protocol import (
    NOT_REFUNDABLE,
    Kind,
    Outcome,
    PaymentError,
    PaymentResult,
    ReferenceConflict,
    TerminalBusy,
    TerminalOffline,
    TerminalProtocolError,
    check_reference,
    check_request,
    refundable,
    to_void,
)
from hardware.payment.zvt.apdu import (
    ABORTED,
    ALREADY_REVERSED,
    AMOUNT,
    APPROVAL,
    AUTHORISATION,
    CURRENCY,
    ECR_ABORT,
    PAN,
    PRE_AUTH_REVERSAL,
    PRE_AUTHORISATION,
    RECEIPT,
    REFUND,
    REGISTRATION,
    REPEAT_RECEIPT,
    RESULT,
    REVERSAL,
    TRACE,
    Apdu,
    ZvtFormatError,
    amount_fields,
    bcd,
    currency_of,
    from_bcd,
    from_minor_units,
    last4,
    password,
    result_text,
)
from hardware.payment.zvt.journal import Entry, ZvtJournal
from hardware.payment.zvt.link import Answer, Link, TerminalRefused, command

log = logging.getLogger(__name__)

CONFIG_BYTE = 0x3E  # see the module docstring
_INSTRUCTIONS = {Kind.SALE: AUTHORISATION, Kind.PREAUTH: PRE_AUTHORISATION, Kind.REFUND: REFUND}
HEALTH_CACHE_S = 15.0  # health is asked often (telemetry, offline check-in): probe less


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Flight:
    """The sale or pre-authorisation whose answer a worker thread is reading."""

    started: PaymentResult
    link: Link
    done: threading.Event = field(default_factory=threading.Event)
    result: PaymentResult | None = None
    error: PaymentError | None = None
    answered: bool = False  # the result is in: too late to abort
    aborted_by_kiosk: bool = False


class ZvtTerminal:
    """A ZVT terminal at ``host:port``; see the module docstring."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        password_digits: str,
        journal_path: Path,
        connect_timeout_s: float = 3.0,
        ack_timeout_s: float = 5.0,
        response_timeout_s: float = 90.0,
        abandon_after_s: float = 600.0,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.name = "zvt"
        self._host, self._port = host, port
        self._password = password(password_digits)
        self._connect_timeout_s = connect_timeout_s
        self._ack_timeout_s = ack_timeout_s
        self._response_timeout_s = response_timeout_s
        self._abandon_after_s = max(abandon_after_s, response_timeout_s)
        self._now = now
        self._journal = ZvtJournal(journal_path)
        self._lock = threading.Lock()  # the journal and the fields below; held briefly
        self._session = threading.Lock()  # one conversation with the terminal at a time
        self._flight: _Flight | None = None
        self._closed = False
        self._health: tuple[float, DeviceHealth] | None = None
        self._probing = False  # a health probe is under way (one at a time)

    # -- PaymentTerminal ------------------------------------------------------------------

    def open(self) -> None:
        """Connect and register once: ``TerminalOffline`` (or another ``PaymentError``)
        while the terminal is missing, so start-up shows it and retries."""
        with self._session:
            self._check_open()
            try:
                self._connect().close()
            except PaymentError as exc:
                self._note_health(HealthLevel.FAULT, str(exc))
                raise
            self._note_health(HealthLevel.OK, "terminal ready")

    def _note_health(self, level: HealthLevel, detail: str) -> None:
        """What a connection just showed, for ``health`` to answer without probing."""
        with self._lock:
            metrics = {
                "approved": self._journal.count(Outcome.APPROVED),
                "unsettled": len(self._journal.unsettled()),
            }
            health = DeviceHealth("payment (zvt)", level, detail, metrics)
            self._health = (time.monotonic(), health)

    def sale(self, reference: str, amount: Decimal, currency: str) -> PaymentResult:
        return self._transact(Kind.SALE, reference, amount, currency)

    def preauthorize(self, reference: str, amount: Decimal, currency: str) -> PaymentResult:
        return self._transact(Kind.PREAUTH, reference, amount, currency)

    def refund(
        self, reference: str, amount: Decimal, currency: str, original_reference: str | None
    ) -> PaymentResult:
        check_request(reference, amount, currency)
        sale: PaymentResult | None = None
        if original_reference is not None:
            check_reference(original_reference)
            with self._lock:
                known = self._journal.get(original_reference)
            sale = known.result if known is not None else None
            if not refundable(sale, amount, currency):
                log.warning("refund %s declined: %s", reference, NOT_REFUNDABLE)
                return PaymentResult(
                    reference, Outcome.DECLINED, Kind.REFUND, amount, currency,
                    decline_reason=NOT_REFUNDABLE, at=self._now(),
                )  # fmt: skip
        result = self._transact(Kind.REFUND, reference, amount, currency)
        if sale is not None and result.approved and result.card_last4 != sale.card_last4:
            log.warning("refund %s went to another card than its sale's", reference)
        return result

    def status(self, reference: str) -> PaymentResult:
        check_reference(reference)
        with self._session:
            self._check_open()
            return self._status(reference)

    def void(self, reference: str) -> PaymentResult:
        check_reference(reference)
        with self._session:
            self._check_open()
            current = self._status(reference)
            if not to_void(current):
                return current
            # A reversal is a new receipt: not while another payment is matched by receipts.
            self._resolve_earlier()
            with self._lock:
                entry = self._journal.get(reference)
            assert entry is not None
            return self._reverse(entry)

    def cancel(self) -> bool:
        with self._lock:
            flight = self._flight
            if flight is None or flight.answered:
                return False
            flight.aborted_by_kiosk = True
        try:
            flight.link.send(Apdu(ECR_ABORT))
        except PaymentError:
            return False
        log.info("payment %s: abort sent to the terminal", flight.started.reference)
        return True

    def health(self) -> DeviceHealth:
        """The terminal's last known health, never waiting on the network: callers sit on
        the UI's event loop. A stale answer starts one probe in the background."""
        with self._lock:
            if self._closed:
                return DeviceHealth("payment (zvt)", HealthLevel.FAULT, "closed")
            metrics = {
                "approved": self._journal.count(Outcome.APPROVED),
                "unsettled": len(self._journal.unsettled()),
            }
            if self._flight is not None:
                return DeviceHealth(
                    "payment (zvt)", HealthLevel.OK, "transaction in progress", metrics
                )
            cached = self._health
            if (cached is None or time.monotonic() - cached[0] >= HEALTH_CACHE_S) and (
                not self._probing
            ):
                self._probing = True
                threading.Thread(target=self._probe, args=(metrics,), daemon=True).start()
        if cached is None:
            return DeviceHealth("payment (zvt)", HealthLevel.OK, "checking the terminal", metrics)
        return cached[1]

    def _probe(self, metrics: dict[str, int]) -> None:
        """Connect and register once (a worker thread): the health ``health`` answers next."""
        name = "payment (zvt)"
        try:
            if not self._session.acquire(timeout=self._connect_timeout_s):
                health = DeviceHealth(name, HealthLevel.OK, "terminal in use", metrics)
            else:
                try:
                    self._connect().close()
                    health = DeviceHealth(name, HealthLevel.OK, "terminal ready", metrics)
                finally:
                    self._session.release()
        except Exception as exc:  # PaymentError, or anything else: the terminal cannot serve
            health = DeviceHealth(name, HealthLevel.FAULT, str(exc), metrics)
        with self._lock:
            self._health = (time.monotonic(), health)
            self._probing = False

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            flight = self._flight
        if flight is not None:
            flight.link.close()  # the worker wakes, finds the driver closed and ends
            flight.done.wait(self._connect_timeout_s)
        with self._session, self._lock:
            self._journal.close()

    # -- a sale or pre-authorisation -------------------------------------------------------

    def _transact(
        self, kind: Kind, reference: str, amount: Decimal, currency: str
    ) -> PaymentResult:
        check_request(reference, amount, currency)
        data = amount_fields(amount, currency)  # refuses what ZVT cannot
        if kind is Kind.REFUND:  # like a reversal, a refund needs the terminal's password
            data = self._password + data
        request = Apdu(_INSTRUCTIONS[kind], data)
        with self._session:
            self._check_open()
            with self._lock:
                known = self._journal.get(reference)
            if known is not None:
                return self._replay(known, kind, amount, currency)
            self._resolve_earlier()
            flight = self._start(kind, reference, amount, currency, request)
        if flight.done.wait(self._response_timeout_s):
            if flight.error is not None:
                raise flight.error
            if flight.result is not None:
                return flight.result
        log.warning("payment %s: no answer within the timeout", reference)
        return replace(flight.started, outcome=Outcome.TIMEOUT, at=self._now())

    def _start(
        self, kind: Kind, reference: str, amount: Decimal, currency: str, request: Apdu
    ) -> _Flight:
        """Connect, learn the last receipt, journal the reference, send: under the session."""
        link = self._connect()
        try:
            before = self._last_receipt(link)
            started = PaymentResult(
                reference, Outcome.IN_PROGRESS, kind, amount, currency, at=self._now()
            )
            with self._lock:
                self._journal.begin(started, before.receipt if before else None)
                flight = _Flight(started, link)
                self._flight = flight
        except BaseException:
            link.close()
            raise
        log.info("payment %s: %s of %s %s sent to the terminal", reference, kind, amount, currency)
        threading.Thread(
            target=self._fly, args=(flight, request), name=f"zvt-{reference}", daemon=True
        ).start()
        return flight

    def _fly(self, flight: _Flight, request: Apdu) -> None:
        """The worker: read the terminal's answer to ``request`` until it ends, or until
        ``abandon_after_s`` (then the outcome is left to ``status``)."""
        reference = flight.started.reference
        deadline = time.monotonic() + self._abandon_after_s
        try:
            answer = command(
                flight.link,
                request,
                ack_timeout_s=self._ack_timeout_s,
                deadline=deadline,
                on_result=lambda: _answered(flight),
            )
            result, receipt, trace = self._outcome(
                flight.started, answer, by_kiosk=flight.aborted_by_kiosk
            )
            self._settle(result, receipt, trace)
            flight.result = result
            log.info("payment %s: %s", reference, result.outcome)
        except TerminalBusy as exc:  # nothing started: the reference stays unknown
            with self._lock:
                if not self._closed:
                    self._journal.forget(reference)
            flight.error = exc
        except TerminalRefused as exc:
            declined = replace(
                flight.started,
                outcome=Outcome.DECLINED,
                decline_reason=result_text(exc.code),
                at=self._now(),
            )
            self._settle(declined, None, None)
            flight.result = declined
        except TimeoutError:
            log.warning(
                "payment %s: abandoned after %g s; status asks the terminal",
                reference,
                self._abandon_after_s,
            )
        except PaymentError as exc:  # link lost, unreadable answer: outcome unknown
            log.warning("payment %s: %s", reference, exc)
            flight.error = exc
        finally:
            flight.link.close()
            with self._lock:
                self._flight = None
            flight.done.set()

    def _outcome(
        self, started: PaymentResult, answer: Answer, *, by_kiosk: bool = False
    ) -> tuple[PaymentResult, int | None, int | None]:
        """The final result of a transaction from the terminal's answer."""
        approved = answer.status is not None and _result_code(answer.status) == 0
        if approved and answer.aborted is not None:
            # Booked, then aborted: which one stands is not for the driver to guess.
            raise ZvtFormatError("the terminal reported an approval, then aborted")
        code = answer.aborted
        if code is None:
            if answer.status is None:
                raise ZvtFormatError("the terminal completed without a result")
            code = _result_code(answer.status)
        if code == 0:
            assert answer.status is not None
            return self._booked(started, answer.status)
        if code == ABORTED:
            who = "the kiosk" if by_kiosk else "the guest or the terminal"
            reason = f"cancelled by {who}"
            return (
                replace(started, outcome=Outcome.CANCELLED, decline_reason=reason, at=self._now()),
                None,
                None,
            )
        return (
            replace(
                started, outcome=Outcome.DECLINED, decline_reason=result_text(code), at=self._now()
            ),
            None,
            None,
        )

    def _booked(
        self, started: PaymentResult, status: dict[int, bytes]
    ) -> tuple[PaymentResult, int | None, int | None]:
        """An approval, checked against what was asked (a terminal that booked another
        amount or currency is not trusted)."""
        assert started.amount is not None and started.currency is not None
        if CURRENCY in status and currency_of(status[CURRENCY]) != started.currency:
            raise ZvtFormatError("the terminal booked another currency")
        if AMOUNT in status and (
            from_minor_units(from_bcd(status[AMOUNT]), started.currency) != started.amount
        ):
            raise ZvtFormatError("the terminal booked another amount")
        receipt = from_bcd(status[RECEIPT]) if RECEIPT in status else None
        if receipt is None:
            raise ZvtFormatError("an approval without a receipt number cannot be voided")
        result = replace(
            started,
            outcome=Outcome.APPROVED,
            approval_code=_approval_code(status.get(APPROVAL)),
            card_last4=last4(status[PAN]) if PAN in status else None,
            at=self._now(),
        )
        return result, receipt, from_bcd(status[TRACE]) if TRACE in status else None

    # -- status, void ---------------------------------------------------------------------

    def _status(self, reference: str) -> PaymentResult:
        """Under the session: the journal's answer, else the terminal's last receipt."""
        with self._lock:
            entry = self._journal.get(reference)
            flight = self._flight
        if entry is None:
            return PaymentResult(reference, Outcome.UNKNOWN_REFERENCE)
        if entry.result.outcome.final:
            return entry.result
        if flight is not None:  # the worker reads the terminal's answer (ours or another's)
            return _in_progress(entry.result)
        return self._resolve(entry)

    def _resolve(self, entry: Entry) -> PaymentResult:
        """A reference left in progress with no one reading its answer: match it against
        the terminal's last receipt."""
        started = entry.result
        try:
            link = self._connect()
            try:
                last = self._last_receipt(link)
            finally:
                link.close()
        except TerminalBusy:  # still working on it, on the connection that was lost
            return _in_progress(started)
        if last is None or last.receipt == entry.receipt_before:
            result = replace(
                started,
                outcome=Outcome.CANCELLED,
                decline_reason="the terminal did not book it",
                at=self._now(),
            )
            receipt, trace = None, None
        else:
            if AMOUNT not in last.status or CURRENCY not in last.status:
                raise ZvtFormatError("the last receipt has no amount to match the payment by")
            result, receipt, trace = self._outcome(started, Answer(last.status, None))
        self._settle(result, receipt, trace)
        log.warning(
            "payment %s: resolved from the terminal's last receipt: %s",
            started.reference,
            result.outcome,
        )
        return result

    def _reverse(self, entry: Entry) -> PaymentResult:
        approved = entry.result
        assert approved.amount is not None and approved.currency is not None
        if entry.receipt is None:
            raise TerminalProtocolError("no receipt number to reverse")
        receipt = bytes([RECEIPT]) + bcd(entry.receipt, 2)
        if approved.kind is Kind.PREAUTH:
            request = Apdu(
                PRE_AUTH_REVERSAL, receipt + amount_fields(approved.amount, approved.currency)
            )
        else:
            request = Apdu(REVERSAL, self._password + receipt)
        link = self._connect()
        try:
            answer = command(
                link,
                request,
                ack_timeout_s=self._ack_timeout_s,
                deadline=time.monotonic() + self._response_timeout_s,
            )
        except TimeoutError:
            raise TerminalOffline("no answer to the void in time") from None
        finally:
            link.close()
        code = answer.aborted if answer.aborted is not None else _result_code(answer.status)
        if code not in (0, ALREADY_REVERSED):
            raise PaymentError(f"the terminal did not void it: {result_text(code)}")
        voided = replace(approved, outcome=Outcome.VOIDED, at=self._now())
        self._settle(voided, None, None)
        log.info("payment %s voided (%s)", approved.reference, approved.kind)
        return voided

    # -- helpers --------------------------------------------------------------------------

    def _replay(self, known: Entry, kind: Kind, amount: Decimal, currency: str) -> PaymentResult:
        result = known.result
        if (result.kind, result.amount, result.currency) != (kind, amount, currency):
            raise ReferenceConflict(
                f"reference {result.reference} is a {result.kind} of another amount or currency"
            )
        log.info(
            "payment %s: known reference, no new charge (%s)", result.reference, result.outcome
        )
        return self._status(result.reference)

    def _resolve_earlier(self) -> None:
        """No new transaction while an earlier one's fate is unknown (one in flight, or
        one a crash left open that the terminal cannot resolve yet)."""
        with self._lock:
            if self._flight is not None:
                raise TerminalBusy("the terminal is working on another transaction")
            open_entries = self._journal.unsettled()
        for entry in open_entries:
            if not self._resolve(entry).outcome.final:
                raise TerminalBusy(f"payment {entry.result.reference} is still in progress")

    def _connect(self) -> Link:
        """A connection with the kiosk registered: Registration answered by Completion."""
        link = Link.connect(self._host, self._port, self._connect_timeout_s)
        try:
            answer = command(
                link,
                Apdu(REGISTRATION, self._password + bytes([CONFIG_BYTE])),
                ack_timeout_s=self._ack_timeout_s,
                deadline=time.monotonic() + 2 * self._ack_timeout_s,
            )
        except TimeoutError:
            link.close()
            raise TerminalOffline("the terminal did not complete the registration") from None
        except BaseException:
            link.close()
            raise
        if answer.aborted is not None:
            link.close()
            raise TerminalRefused(answer.aborted)
        return link

    def _last_receipt(self, link: Link) -> _LastReceipt | None:
        """The terminal's last booking (Repeat Receipt); None when it has none."""
        try:
            answer = command(
                link,
                Apdu(REPEAT_RECEIPT, self._password),
                ack_timeout_s=self._ack_timeout_s,
                deadline=time.monotonic() + self._response_timeout_s,
            )
        except TimeoutError:
            raise TerminalOffline("no answer to Repeat Receipt in time") from None
        if answer.status is None:
            return None  # aborted: the terminal has no booking to repeat
        if RECEIPT not in answer.status:
            # Without receipt numbers no payment can be matched: never guess "not booked".
            raise ZvtFormatError("the terminal's receipts carry no receipt number (BMP 87)")
        return _LastReceipt(from_bcd(answer.status[RECEIPT]), answer.status)

    def _settle(self, result: PaymentResult, receipt: int | None, trace: int | None) -> None:
        with self._lock:
            if not self._closed:
                self._journal.settle(result, receipt, trace)

    def _check_open(self) -> None:
        if self._closed:
            raise TerminalOffline("the terminal connection is closed")


@dataclass(frozen=True)
class _LastReceipt:
    receipt: int
    status: dict[int, bytes]


def _answered(flight: _Flight) -> None:
    flight.answered = True


def _in_progress(started: PaymentResult) -> PaymentResult:
    return replace(started, outcome=Outcome.IN_PROGRESS)


def _result_code(status: dict[int, bytes] | None) -> int:
    if status is None or RESULT not in status:
        raise ZvtFormatError("a result without a result code (BMP 27)")
    return status[RESULT][0]


def _approval_code(value: bytes | None) -> str | None:
    """BMP 3B (8 bytes, the authorisation attribute) as text, without its padding."""
    if value is None:
        return None
    text = value.rstrip(b"\x00 ").decode("ascii", errors="replace")
    return text if text.isprintable() and text else value.hex().upper()
