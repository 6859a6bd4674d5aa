"""What the kiosk asks of a payment terminal: the semi-integrated pattern.

The terminal owns the card: it reads it, takes the PIN and speaks to the acquirer.
The kiosk only sends an amount and a reference and gets an outcome back, so nothing
here has a field for a PAN, track data or a CVV; the most a result carries is the
last four digits of the card, as printed on a receipt.

The reference contract (every driver and every caller keeps it):

1. The caller creates the reference and SAVES it durably (with amount and currency)
   BEFORE it calls ``sale`` or ``preauthorize``. After a crash or a restart the kiosk
   can then ask ``status(reference)`` about every payment it may have started.
2. A reference names one payment attempt. ``sale``/``preauthorize`` with a reference
   the terminal already knows does not charge again: it returns that transaction's
   result (approved, declined, still in progress ...). A new attempt after a decline
   or a cancel needs a new reference.
3. When the answer does not come (a ``TIMEOUT`` result, ``TerminalOffline``), the
   outcome is unknown: the caller asks ``status(reference)`` (once the link is back)
   and never charges again with a new reference until status says the first one
   did not go through.
4. If the kiosk cannot deliver what was paid for (no card could be issued), it calls
   ``void(reference)``: that cancels a sale or releases a pre-authorisation.
5. A refund (money back at check-out) is a transaction of its own with a new reference,
   saved first like a sale and idempotent by reference; it names the sale whose card gets
   the money where the kiosk knows it. A terminal that never refunds raises
   ``RefundNotSupported`` (nothing started): the guest is sent to the desk.

Calls block (a serial or network round trip, a guest at the terminal): the asyncio
core runs them with ``asyncio.to_thread``. ``cancel`` may be called from another
thread while ``sale`` or ``preauthorize`` waits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from hardware.health import DeviceHealth

REFERENCE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,32}")  # what terminals commonly accept
CURRENCY_PATTERN = re.compile(r"[A-Z]{3}")  # ISO 4217 alphabetic code
# Minor units of the currencies that do not use two (ISO 4217); everything else uses two.
MINOR_UNITS = {"JPY": 0, "KRW": 0, "VND": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3}


class Kind(StrEnum):
    SALE = "sale"
    PREAUTH = "preauth"
    REFUND = "refund"  # money back to a card (check-out of an overpaid stay)


class Outcome(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"  # the issuer or the terminal refused; ``decline_reason`` says why
    CANCELLED = "cancelled"  # the guest cancelled at the terminal, or the kiosk did
    TIMEOUT = "timeout"  # no final answer in time: unknown outcome, ask ``status``
    IN_PROGRESS = "in_progress"  # status only: the terminal is still working on it
    VOIDED = "voided"  # approved, then voided (sale cancelled / pre-authorisation released)
    UNKNOWN_REFERENCE = "unknown_reference"  # the terminal has never seen this reference

    @property
    def final(self) -> bool:
        """Whether the payment's fate is known (TIMEOUT and IN_PROGRESS are not)."""
        return self not in (Outcome.TIMEOUT, Outcome.IN_PROGRESS)


@dataclass(frozen=True)
class PaymentResult:
    """What the terminal answered about one reference. No card data beyond ``card_last4``."""

    reference: str
    outcome: Outcome
    kind: Kind | None = None  # None only for UNKNOWN_REFERENCE
    amount: Decimal | None = None
    currency: str | None = None
    approval_code: str | None = None
    card_last4: str | None = None
    decline_reason: str | None = None
    at: datetime | None = None  # aware UTC: when the terminal settled the outcome

    def __post_init__(self) -> None:
        if self.card_last4 is not None and not re.fullmatch(r"\d{4}", self.card_last4):
            raise ValueError("card_last4 holds exactly the last four digits of the card")
        if self.at is not None and self.at.utcoffset() is None:
            raise ValueError("at must be an aware datetime")

    @property
    def approved(self) -> bool:
        return self.outcome is Outcome.APPROVED


class PaymentError(Exception):
    """A terminal call that did not produce a result."""


class TerminalOffline(PaymentError):
    """The link to the terminal is down. A request may have reached it before the link
    dropped: ask ``status(reference)`` once the link is back."""


class TerminalBusy(PaymentError):
    """The terminal is working on another transaction; nothing was started."""


class ReferenceConflict(PaymentError):
    """The reference is known with another kind, amount or currency: nothing was charged,
    and the caller has a bug (a reference names exactly one payment)."""


class TerminalProtocolError(PaymentError):
    """The terminal answered something the driver cannot read; the outcome is unknown."""


class RefundNotSupported(PaymentError):
    """This terminal (or its acquirer contract) makes no refunds; nothing was started."""


class InvalidPaymentRequest(PaymentError, ValueError):
    """The request was refused before anything was sent: bad amount, currency or reference."""


class PaymentTerminal(Protocol):
    """A semi-integrated payment terminal; see the module docstring for the contract."""

    name: str

    def open(self) -> None:
        """Reach the terminal; a ``PaymentError`` while it is missing (start-up retries)."""
        ...

    def sale(self, reference: str, amount: Decimal, currency: str) -> PaymentResult:
        """Charge ``amount``; idempotent by ``reference``."""
        ...

    def preauthorize(self, reference: str, amount: Decimal, currency: str) -> PaymentResult:
        """Hold ``amount`` on the card (a deposit); idempotent by ``reference``."""
        ...

    def refund(
        self, reference: str, amount: Decimal, currency: str, original_reference: str | None
    ) -> PaymentResult:
        """Give ``amount`` back to the card of the sale ``original_reference`` (None: to the
        card the guest presents); idempotent by ``reference``. DECLINED when the terminal
        will not make this refund (more than the sale, another currency);
        ``RefundNotSupported`` when it makes none at all."""
        ...

    def status(self, reference: str) -> PaymentResult:
        """The current result of ``reference`` (UNKNOWN_REFERENCE if never seen)."""
        ...

    def void(self, reference: str) -> PaymentResult:
        """Cancel an approved sale or release a pre-authorisation; idempotent. A declined
        or cancelled transaction is returned as it is (nothing was charged)."""
        ...

    def cancel(self) -> bool:
        """Abort the transaction in progress; False when there is none or it is too late
        (the terminal is already authorising)."""
        ...

    def health(self) -> DeviceHealth: ...

    def close(self) -> None: ...


def to_void(current: PaymentResult) -> bool:
    """Whether a void of ``current`` has money to give back: only an approved payment does
    (an unknown, declined, cancelled or voided one is answered as it is); one still in
    progress raises ``TerminalBusy``, to be voided once it settles."""
    if current.outcome is Outcome.IN_PROGRESS:
        raise TerminalBusy("the transaction is still in progress: void it once settled")
    return current.outcome is Outcome.APPROVED


NOT_REFUNDABLE = "no approved sale of that amount to refund to"


def refundable(sale: PaymentResult | None, amount: Decimal, currency: str) -> bool:
    """Whether ``sale`` can take a refund of ``amount``: an approved sale, in ``currency``,
    of at least that much (a terminal refunds a kiosk's sale, never more than it)."""
    return (
        sale is not None
        and sale.approved
        and sale.kind is Kind.SALE
        and sale.currency == currency
        and sale.amount is not None
        and sale.amount >= amount
    )


def check_request(reference: str, amount: Decimal, currency: str) -> None:
    """Refuse what no terminal should be sent: raise ``InvalidPaymentRequest``.

    Money is a ``Decimal`` (never a float), finite, above zero and with no more decimal
    places than the currency has.
    """
    check_reference(reference)
    if not isinstance(currency, str) or not CURRENCY_PATTERN.fullmatch(currency):
        raise InvalidPaymentRequest("currency must be an ISO 4217 code such as CNY")
    if not isinstance(amount, Decimal) or isinstance(amount, bool):
        raise InvalidPaymentRequest(f"amount must be a Decimal, not {type(amount).__name__}")
    if not amount.is_finite() or amount <= 0:
        raise InvalidPaymentRequest("amount must be a finite number above zero")
    places = MINOR_UNITS.get(currency, 2)
    if amount.as_tuple().exponent < -places:  # type: ignore[operator]  # finite: an int
        raise InvalidPaymentRequest(f"{currency} amounts have at most {places} decimal places")


def check_reference(reference: str) -> None:
    if not isinstance(reference, str) or not REFERENCE_PATTERN.fullmatch(reference):
        raise InvalidPaymentRequest("reference must be 1 to 32 of A-Z a-z 0-9 _ -")
