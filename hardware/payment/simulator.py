"""A simulated payment terminal for demos, training and tests.

It keeps the protocol's contract like a real terminal: idempotent by reference,
transactions that survive a restart (``SimJournal``), answers that come late, a link
that drops mid-payment while the terminal finishes on its own. What happens to the
next transaction is chosen by a queue of scenarios (``queue``), else by the amount's
minor units (``amount_rules``, for demo scripts), else it is approved.

Delays model the guest and the acquirer (seconds at ``delay_factor`` 1; tests use 0).
The times a scenario sets on the terminal's side (how late the answer is, how long
the link stays down) run on the injected ``now`` clock, so tests move time by hand.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hardware.health import DeviceHealth, HealthLevel
from hardware.payment.config import ScenarioName
from hardware.payment.protocol import (
    NOT_REFUNDABLE,
    Kind,
    Outcome,
    PaymentResult,
    ReferenceConflict,
    TerminalBusy,
    TerminalOffline,
    check_reference,
    check_request,
    refundable,
    to_void,
)
from hardware.payment.sim_journal import JournalEntry, SimJournal

log = logging.getLogger(__name__)

PRESENT_CARD_S = 4.0  # the guest takes out a card and taps it (the kiosk may cancel meanwhile)
AUTHORISE_S = 2.0  # PIN and the acquirer's round trip (too late to cancel)
GUEST_CANCEL_S = 3.0  # the guest looks at the amount and presses the red key
TEST_CARDS_LAST4 = ("4242", "0005", "1117", "8431")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Scenario:
    """What the simulated terminal does with one transaction."""

    name: ScenarioName
    decline_reason: str = "insufficient funds"  # decline
    late_by_s: float = 2.0  # timeout_then_approve: approval this long after the sale began
    offline_s: float = 5.0  # link_drop: the link is back after this long

    @classmethod
    def approve(cls) -> Scenario:
        return cls("approve")

    @classmethod
    def decline(cls, reason: str = "insufficient funds") -> Scenario:
        return cls("decline", decline_reason=reason)

    @classmethod
    def guest_cancel(cls) -> Scenario:
        return cls("guest_cancel")

    @classmethod
    def timeout_then_approve(cls, late_by_s: float = 2.0) -> Scenario:
        return cls("timeout_then_approve", late_by_s=late_by_s)

    @classmethod
    def link_drop(cls, offline_s: float = 5.0) -> Scenario:
        return cls("link_drop", offline_s=offline_s)


class SimulatedTerminal:
    """A ``PaymentTerminal`` that keeps its transactions in ``journal_path``."""

    def __init__(
        self,
        journal_path: Path,
        *,
        delay_factor: float = 1.0,
        response_timeout_s: float = 90.0,
        amount_rules: Mapping[int, ScenarioName] | None = None,
        now: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self.name = "sim"
        self._journal = SimJournal(journal_path)
        self._delay_factor = delay_factor
        self._response_timeout_s = response_timeout_s
        self._amount_rules = dict(amount_rules or {})
        self._now = now
        self._rng = rng or random.Random()
        self._scenarios: deque[Scenario] = deque()
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._in_flight: str | None = None
        self._cancellable = False
        self._offline_until: datetime | None = None
        self._closed = False
        self._interrupted_on_start()

    # -- test and demo controls -----------------------------------------------------------

    def queue(self, *scenarios: Scenario) -> None:
        """The next transactions follow ``scenarios``, in order."""
        with self._lock:
            self._scenarios.extend(scenarios)

    def drop_link(self, for_s: float) -> None:
        """The cable is pulled: every call raises ``TerminalOffline`` for ``for_s``."""
        with self._lock:
            self._offline_until = self._now() + timedelta(seconds=for_s)

    def journal(self) -> list[JournalEntry]:
        """Every request and outcome the terminal recorded, oldest first."""
        with self._lock:
            self._settle_due()
            return self._journal.entries()

    # -- PaymentTerminal ------------------------------------------------------------------

    def open(self) -> None:
        """Nothing to reach: the simulator's journal opened with it."""
        self._check_link()

    def sale(self, reference: str, amount: Decimal, currency: str) -> PaymentResult:
        return self._transact(Kind.SALE, reference, amount, currency)

    def preauthorize(self, reference: str, amount: Decimal, currency: str) -> PaymentResult:
        return self._transact(Kind.PREAUTH, reference, amount, currency)

    def refund(
        self, reference: str, amount: Decimal, currency: str, original_reference: str | None
    ) -> PaymentResult:
        """A refund to the sale's card, declined when it is more than that sale (in its
        currency) or the sale is unknown here; None refunds to the card presented."""
        forced = None
        if original_reference is not None:
            check_reference(original_reference)
            with self._lock:
                self._settle_due()
                sale = self._current(original_reference)
            if not refundable(sale, amount, currency):
                forced = Scenario.decline(NOT_REFUNDABLE)
        return self._transact(Kind.REFUND, reference, amount, currency, forced)

    def status(self, reference: str) -> PaymentResult:
        check_reference(reference)
        with self._lock:
            self._check_link()
            self._settle_due()
            return self._current(reference)

    def void(self, reference: str) -> PaymentResult:
        check_reference(reference)
        with self._lock:
            self._check_link()
            self._settle_due()
            current = self._current(reference)
            if not to_void(current):
                return current
            voided = replace(current, outcome=Outcome.VOIDED, at=self._now())
            self._journal.settle(voided)
            log.info("payment %s voided (%s)", reference, current.kind)
            return voided

    def cancel(self) -> bool:
        with self._lock:
            if self._in_flight is None or not self._cancellable:
                return False
            self._cancel.set()
            return True

    def health(self) -> DeviceHealth:
        with self._lock:
            if self._closed:
                return DeviceHealth("payment (sim)", HealthLevel.FAULT, "closed")
            self._settle_due()
            entries = self._journal.entries()
            metrics = {
                "transactions": sum(e.event == "requested" for e in entries),
                "approved": sum(e.event == Outcome.APPROVED for e in entries),
                "delay_factor": self._delay_factor,
            }
            if self._link_down():
                return DeviceHealth("payment (sim)", HealthLevel.FAULT, "link down", metrics)
            detail = "transaction in progress" if self._in_flight else "simulated terminal ready"
            return DeviceHealth("payment (sim)", HealthLevel.OK, detail, metrics)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._journal.close()

    # -- the transaction ------------------------------------------------------------------

    def _transact(
        self,
        kind: Kind,
        reference: str,
        amount: Decimal,
        currency: str,
        forced: Scenario | None = None,
    ) -> PaymentResult:
        check_request(reference, amount, currency)
        with self._lock:
            self._check_link()
            self._settle_due()
            known = self._current(reference)
            if known.outcome is not Outcome.UNKNOWN_REFERENCE:
                return self._replay(known, kind, amount, currency)
            if self._in_flight is not None or self._journal.unsettled():
                raise TerminalBusy("the terminal is working on another transaction")
            scenario = forced or self._next_scenario(amount)
            started = PaymentResult(
                reference, Outcome.IN_PROGRESS, kind, amount, currency, at=self._now()
            )
            self._journal.begin(started)
            self._in_flight = reference
            self._cancellable = True
            self._cancel.clear()
        log.info("payment %s: %s of %s %s (%s)", reference, kind, amount, currency, scenario.name)
        try:
            return self._run(scenario, started)
        finally:
            with self._lock:
                self._in_flight = None
                self._cancellable = False

    def _run(self, scenario: Scenario, started: PaymentResult) -> PaymentResult:
        if scenario.name == "guest_cancel":
            self._delay(GUEST_CANCEL_S)
            return self._settle(started, Outcome.CANCELLED, reason="cancelled at the terminal")
        if self._delay(PRESENT_CARD_S):
            return self._settle(started, Outcome.CANCELLED, reason="cancelled by the kiosk")
        with self._lock:
            self._cancellable = False
        if scenario.name == "timeout_then_approve":
            approved = self._approved(started)
            completes_at = started.at + timedelta(seconds=scenario.late_by_s)  # type: ignore[operator]
            with self._lock:
                self._journal.plan(replace(approved, at=completes_at), completes_at)
            self._delay(self._response_timeout_s, cancellable=False)
            log.warning("payment %s: no answer within the timeout", started.reference)
            return replace(started, outcome=Outcome.TIMEOUT, at=self._now())
        self._delay(AUTHORISE_S, cancellable=False)
        if scenario.name == "decline":
            return self._settle(started, Outcome.DECLINED, reason=scenario.decline_reason)
        result = self._settle(started, Outcome.APPROVED)
        if scenario.name == "link_drop":
            self.drop_link(scenario.offline_s)
            log.warning("payment %s: link lost before the answer", started.reference)
            raise TerminalOffline("link to the terminal lost during the payment: ask its status")
        return result

    def _settle(
        self, started: PaymentResult, outcome: Outcome, *, reason: str | None = None
    ) -> PaymentResult:
        if outcome is Outcome.APPROVED:
            result = self._approved(started)
        else:
            result = replace(started, outcome=outcome, decline_reason=reason, at=self._now())
        with self._lock:
            self._journal.settle(result)
        log.info("payment %s: %s", started.reference, outcome)
        return result

    def _approved(self, started: PaymentResult) -> PaymentResult:
        return replace(
            started,
            outcome=Outcome.APPROVED,
            approval_code=f"{self._rng.randrange(10**6):06d}",
            card_last4=self._rng.choice(TEST_CARDS_LAST4),
            at=self._now(),
        )

    def _delay(self, seconds: float, *, cancellable: bool = True) -> bool:
        """Wait ``seconds`` scaled by the delay factor; True if the kiosk cancelled."""
        scaled = seconds * self._delay_factor
        if cancellable:
            return self._cancel.wait(scaled)
        time.sleep(scaled)
        return False

    # -- state, under the lock ------------------------------------------------------------

    def _replay(
        self, known: PaymentResult, kind: Kind, amount: Decimal, currency: str
    ) -> PaymentResult:
        if (known.kind, known.amount, known.currency) != (kind, amount, currency):
            raise ReferenceConflict(
                f"reference {known.reference} is a {known.kind} of another amount or currency"
            )
        log.info("payment %s: known reference, no new charge (%s)", known.reference, known.outcome)
        return known

    def _current(self, reference: str) -> PaymentResult:
        known = self._journal.get(reference)
        if known is None:
            return PaymentResult(reference, Outcome.UNKNOWN_REFERENCE)
        if known.completes_at is not None:  # the late answer has not come yet
            return replace(
                known.result,
                outcome=Outcome.IN_PROGRESS,
                approval_code=None,
                card_last4=None,
                at=None,
            )
        return known.result

    def _settle_due(self) -> None:
        now = self._now()
        for txn in self._journal.unsettled():
            if txn.completes_at is not None and txn.completes_at <= now:
                self._journal.settle(txn.result)
                log.info("payment %s: late answer %s", txn.result.reference, txn.result.outcome)

    def _next_scenario(self, amount: Decimal) -> Scenario:
        if self._scenarios:
            return self._scenarios.popleft()
        rule = self._amount_rules.get(int(amount.scaleb(2)) % 100)
        return Scenario(rule) if rule else Scenario.approve()

    def _link_down(self) -> bool:
        return self._offline_until is not None and self._now() < self._offline_until

    def _check_link(self) -> None:
        if self._closed:
            raise TerminalOffline("the terminal connection is closed")
        if self._link_down():
            raise TerminalOffline("no link to the terminal")

    def _interrupted_on_start(self) -> None:
        """A transaction in progress when the simulator stopped (no late answer planned)
        ended with it, as a real terminal's would after a power cut: cancelled."""
        for txn in self._journal.unsettled():
            if txn.completes_at is None:
                self._journal.settle(
                    replace(
                        txn.result,
                        outcome=Outcome.CANCELLED,
                        decline_reason="interrupted: the terminal restarted",
                        at=self._now(),
                    )
                )
