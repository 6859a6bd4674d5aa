"""The durable outbox: every mutating back-end call, committed before its first attempt.

An adapter describes a write as a :class:`Mutation` (which API, the seed's operation
name, the request as its JSON body, the kiosk's idempotency reference) and hands it to
:meth:`DurableOutbox.send`. In one transaction of the state database (``kiosk.state``)
the entry is stored, its request sealed (it holds guest data), together with the
journey's record of the step; only then is it attempted.

- Applied: the entry is ``delivered`` and its request purged; ``send`` returns the reply.
- Refused by the back-end during a journey: ``refused``; ``send`` raises the API error so
  the journey can tell the guest. Refused on a later replay: ``dead``, with the reason.
- Not reached, or the reply was lost: the entry stays ``pending`` and ``send`` raises
  :class:`Queued`; the relay (:meth:`DurableOutbox.run_relay`) delivers it later. A write
  whose journey already has a queued entry is queued behind it at once.

The relay sends due entries with jittered exponential backoff (a ``Retry-After`` from
the back-end is honoured), keeps order within a journey (an entry waits while an earlier
entry of its journey is pending or in flight), and before each replay asks the API's
reconciler whether the write already landed, or can no longer be applied as it stands
(the booking cancelled at the desk meanwhile): such an entry is parked ``dead`` with the
reason for staff, never dropped. At start-up, entries left in flight by a crash become
pending and ambiguous (:meth:`DurableOutbox.recover`).

Some writes are not deferrable: a journey needs their answer now or not at all (claiming
an open-ability booking code). They are journaled the same way but never replayed by
the relay; a failure is the caller's to handle, and a new ``send`` tries again.

Logs and error texts carry the operation, the reference and the error class only:
never the request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import InitVar, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, Protocol

from pydantic import BaseModel, TypeAdapter

from kiosk.api import ApiError, HttpStatusError, PmsError, ResponseFormatError, TransportError
from kiosk.api._client import dump_request
from kiosk.api.openability import OPERATIONS as OA_OPERATIONS
from kiosk.api.openability import OpenAbilityClient
from kiosk.api.pms import OPERATIONS as PMS_OPERATIONS
from kiosk.api.pms import PmsClient
from kiosk.sealing import Sealer
from kiosk.state import KIOSK_JOURNEY, JourneyMark, StateDb, current_journey, now_text

log = logging.getLogger("kiosk.outbox")

Api = Literal["pms", "openability"]

# Entry states; "withdrawn" is written in SQL by ``withdraw`` only.
PENDING, IN_FLIGHT, DELIVERED, REFUSED, DEAD = (
    "pending", "in_flight", "delivered", "refused", "dead"
)  # fmt: skip


@dataclass(frozen=True)
class Mutation:
    """One mutating call: what the outbox stores before the first attempt."""

    api: Api
    operation: str  # the seed's name: "cashier", "update_order_info"
    request: Mapping[str, Any] = field(repr=False)  # the JSON body (PMS) or ``param`` (OA)
    reference: str  # the kiosk's idempotency reference (OA: the command ``id``)
    created_at: datetime
    deferrable: bool = True  # False: the caller needs the answer now; never replayed
    # True: ``request`` is JSON by construction (a model dumped in JSON mode, or read back
    # from the outbox), so the check below would only encode it once more.
    is_json: InitVar[bool] = False

    def __post_init__(self, is_json: bool) -> None:
        if self.created_at.utcoffset() != timedelta(0):
            raise ValueError("created_at must be an aware UTC datetime")
        if not self.reference:
            raise ValueError("a mutation needs a reference")
        operations: Mapping[str, Any] = PMS_OPERATIONS if self.api == "pms" else OA_OPERATIONS
        op = operations.get(self.operation)
        if op is None or op.read:  # reads never go through the outbox
            raise ValueError(f"{self.operation} is not a {self.api} mutation")
        if is_json:
            return
        try:  # it must survive a round trip through the outbox's sealed JSON column
            json.dumps(self.request)
        except (TypeError, ValueError):
            raise ValueError(f"{self.operation}: request is not JSON-able") from None

    @classmethod
    def of(
        cls,
        api: Api,
        operation: str,
        request: BaseModel | Mapping[str, Any],
        reference: str,
        *,
        now: datetime | None = None,
        deferrable: bool = True,
    ) -> Mutation:
        """A mutation from a request model (dumped as the seed's JSON) or a JSON dict."""
        at = now or datetime.now(UTC)
        if isinstance(request, BaseModel):
            body = dump_request(request)
            return cls(api, operation, body, reference, at, deferrable, is_json=True)
        return cls(api, operation, dict(request), reference, at, deferrable)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.api, self.operation, self.reference)


class Outcome(StrEnum):
    APPLIED = "applied"
    REFUSED = "refused"  # the back-end answered with an error: not applied
    UNREACHABLE = "unreachable"  # never reached the back-end: not applied
    AMBIGUOUS = "ambiguous"  # may have been applied: reconcile before a replay


class Queued(Exception):
    """The write is committed to the outbox but not delivered yet: the relay will."""

    def __init__(self, mutation: Mutation, entry_id: int, why: str) -> None:
        super().__init__(f"{mutation.operation} {mutation.reference}: queued ({why})")
        self.entry_id = entry_id


class Verdict(StrEnum):
    LANDED = "landed"  # the back-end shows the write applied: do not send it again
    NOT_LANDED = "not_landed"  # safe to send


class Conflict(Exception):
    """The back-end changed meanwhile so the write must not be applied as it stands;
    the message says why, for staff (no guest data)."""


# Whether a write landed (asked when it may have) or conflicts, from the back-end's own
# state: (mutation, the journey's booking, maybe_landed).
Reconciler = Callable[[Mutation, str, bool], Awaitable[Verdict]]
Sender = Callable[[Mutation], Awaitable[Any]]


class Outbox(Protocol):
    """Where adapters send every mutation; the reply is the client's typed reply."""

    async def send(self, mutation: Mutation) -> Any:
        """Commit ``mutation`` then send it; raises the client's ApiError or ``Queued``."""
        ...

    async def withdraw(self, operations: tuple[str, ...]) -> bool:
        """Take back the current journey's queued writes of ``operations`` that surely never
        reached the back-end; False (nothing changed) when there are none or one may have."""
        ...

    def undelivered(self, operation: str) -> list[dict[str, Any]]:
        """The requests of ``operation`` still to deliver (pending or in flight)."""
        ...


def pms_sender(client: PmsClient) -> Sender:
    """Sends PMS mutations through ``client`` (a ``Mutation`` is never a read)."""

    async def send(mutation: Mutation) -> Any:
        return await client.invoke(mutation.operation, dict(mutation.request))

    return send


def openability_sender(client: OpenAbilityClient) -> Sender:
    """Sends open-ability commands with the mutation's reference as the command ``id``."""

    async def send(mutation: Mutation) -> Any:
        op = OA_OPERATIONS[mutation.operation]
        request = op.request.model_validate(dict(mutation.request))
        return await client.invoke(op, request, command_id=mutation.reference)

    return send


@dataclass(frozen=True)
class OutboxEntry:
    """One entry as the operator sees it: no request, no reply."""

    id: int
    journey: str
    api: str
    operation: str
    reference: str
    state: str
    ambiguous: bool
    attempts: int
    next_at: float
    error: str
    created_at: str
    updated_at: str

    @classmethod
    def of_row(cls, row: sqlite3.Row) -> OutboxEntry:
        values = {name: row[name] for name in cls.__dataclass_fields__}
        return cls(**{**values, "ambiguous": bool(values["ambiguous"])})


@dataclass(frozen=True)
class _Claimed:
    id: int
    mutation: Mutation
    booking: str
    ambiguous: bool
    attempts: int


_Delivered = tuple[int, bytes | None]  # an entry's id and its sealed reply


@dataclass(frozen=True)
class _Enqueued:
    id: int
    claimed: _Claimed | None  # None: it waits (its journey's turn, or in flight elsewhere)
    delivered: bool = False
    reply: Any = None


@dataclass
class Backoff:
    """Jittered exponential backoff: ``base * 2**(n-1)`` capped, times 0.5 to 1."""

    base_s: float = 1.0
    cap_s: float = 300.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        if retry_after is not None:  # the back-end's own word wins (the client bounds it)
            return max(retry_after, 0.0)
        ceiling = min(self.cap_s, self.base_s * 2 ** max(attempts - 1, 0))
        return ceiling * (0.5 + self.rng.random() / 2)


WIDTH_PASSES = 4  # full passes the relay runs at one width before it judges it
PROBE_PASSES = 8  # judged windows at a bound of the width before it tries a step away
WIDER_GAIN = 1.25  # how much faster a wider width must be to be kept


@dataclass
class _Width:
    """How many entries a relay pass sends at once (1 to ``most``), found by trying.

    A back-end that serves requests side by side drains faster with a few in flight (the
    round trips overlap); one that serialises its writes only gets slower (the simulator:
    its SQLite lock's waiters sleep, and in-flight requests queue). The width moves a step
    every ``WIDTH_PASSES`` full passes (one pass is too short to judge on a busy machine)
    and turns back when that step did not pay: a wider width must be clearly faster
    (``WIDER_GAIN``), a narrower one only not clearly slower, so that noise settles it
    narrow (gentler on the back-end); a step wider whose first pass is already clearly
    slower is left at once. At a bound it stays, and tries a step away every
    ``PROBE_PASSES`` windows. It starts at 1, held there as at a bound: a short backlog is
    sent one at a time, and the first passes of a drain, which also read each booking
    once for the conflict checks, are not compared with the faster ones after them."""

    most: int
    now: int = 1
    step: int = -1  # at the lower bound: the first step up comes after PROBE_PASSES windows
    rate: float = 0.0  # entries per second at the width before
    moved: bool = False  # the width before was one step from this one
    held: int = 0  # windows at a bound since the last step
    window: list[float] = field(default_factory=lambda: [0.0, 0.0])  # entries, seconds

    def after(self, entries: int, seconds: float) -> None:
        self.window[0] += entries
        self.window[1] += seconds
        # The first pass of a step wider that is already clearly slower than the width
        # before ends the window at once: against a back-end that serialises its writes
        # a probe then costs one pass, not WIDTH_PASSES (one that serves side by side is
        # faster from the first pass).
        first_wider = self.moved and self.step > 0 and self.window[0] == entries
        slower = first_wider and entries / max(seconds, 1e-6) * WIDER_GAIN < self.rate
        if self.window[0] < entries * WIDTH_PASSES and not slower:
            return
        rate = self.window[0] / max(self.window[1], 1e-6)
        self.window = [0.0, 0.0]
        if self.moved:
            wider = self.step > 0
            paid = rate >= self.rate * WIDER_GAIN if wider else rate * WIDER_GAIN >= self.rate
            if not paid:
                self.step = -self.step  # back
        self.rate, self.moved = rate, False
        if not 1 <= self.now + self.step <= self.most:
            self.held += 1
            if self.held < PROBE_PASSES:
                return
            self.step = -self.step
            if not 1 <= self.now + self.step <= self.most:  # most == 1
                return
        self.now, self.moved, self.held = self.now + self.step, True, 0


class DurableOutbox:
    """The outbox in the state database, with its relay."""

    def __init__(
        self,
        db: StateDb,
        sealer: Sealer,
        senders: Mapping[str, Sender],
        reconcilers: Mapping[str, Reconciler] | None = None,
        *,
        backoff: Backoff | None = None,
        batch: int = 16,
        parallel: int = 4,
        quiet_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self._sealer = sealer
        self._senders = dict(senders)
        self._reconcilers = dict(reconcilers or {})
        self._backoff = backoff or Backoff()
        self._batch = batch
        # Entries of different journeys sent at once, at most ``parallel``: found by trying.
        self._width = _Width(parallel)
        self._clock = clock
        self._quiet_s = quiet_s
        self._quiet_until = 0.0  # after a write found the back-end away: queue, do not try
        self._relaying: set[int] = set()  # entries the relay has in flight right now
        self._marks: list[_Delivered] = []  # a full pass's delivered marks, for the next claim
        self._wake = asyncio.Event()

    @classmethod
    def for_clients(
        cls,
        db: StateDb,
        sealer: Sealer,
        *,
        pms: PmsClient | None = None,
        openability: OpenAbilityClient | None = None,
        **kwargs: Any,
    ) -> DurableOutbox:
        """The outbox over the configured client, with that API's reconciler."""
        from kiosk.backends.reconcile import openability_reconciler, pms_reconciler

        senders: dict[str, Sender] = {}
        reconcilers: dict[str, Reconciler] = {}
        if pms is not None:
            senders["pms"] = pms_sender(pms)
            reconcilers["pms"] = pms_reconciler(pms)
        if openability is not None:
            senders["openability"] = openability_sender(openability)
            reconcilers["openability"] = openability_reconciler(openability)
        return cls(db, sealer, senders, reconcilers, **kwargs)

    # --- the journey's path -------------------------------------------------------------

    async def send(self, mutation: Mutation) -> Any:
        if mutation.api not in self._senders:
            raise ValueError(f"no {mutation.api} client configured")
        journey = current_journey.get() or KIOSK_JOURNEY
        # While the back-end is away, a new write is only stored: the relay finds out when
        # it is back, and the guest does not wait for a connection attempt per write.
        quiet = self._clock() < self._quiet_until and mutation.deferrable
        entry = await self.db.run(self._enqueue, mutation, journey, quiet)
        if entry.delivered:
            log.info("%s %s: already applied, not sent again", *mutation.key[1:])
            return entry.reply
        if entry.claimed is None:
            raise Queued(mutation, entry.id, "stored until the back-end answers")
        claimed = entry.claimed
        return await self._attempt(claimed, replay=claimed.attempts > 0 or claimed.ambiguous)

    def _enqueue(self, mutation: Mutation, journey: JourneyMark, quiet: bool) -> _Enqueued:
        """Store the entry (and the journey's step) in one transaction; claim it for a first
        attempt unless the back-end is away (``quiet``: due when the relay tries next) or
        an earlier entry of its journey is queued; or say it was delivered before (with
        its stored reply)."""
        now = now_text()
        with self.db.transaction() as conn:
            # The usual case is a new reference: insert first, look the row up only when
            # the reference is taken (a retried write).
            cursor = conn.execute(
                "INSERT INTO outbox (journey, booking, api, operation, reference, request,"
                " may_defer, state, next_at, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)"
                " ON CONFLICT (api, operation, reference) DO NOTHING",
                (
                    journey.id,
                    journey.booking,
                    *mutation.key,
                    self._sealer.seal(dict(mutation.request)),
                    mutation.deferrable,
                    max(self._clock(), self._quiet_until) if quiet else self._clock(),
                    now,
                    now,
                ),
            )
            self.db.record_step(conn, journey, mutation.operation, now)
            new = cursor.rowcount == 1
            if new:
                if quiet:  # the back-end is away: stored, the relay sends it
                    return _Enqueued(int(cursor.lastrowid or 0), None)
                entry_id, ambiguous, attempts = int(cursor.lastrowid or 0), 0, 0
                owner, booking = journey.id, journey.booking
            else:
                entry_id, state, request, reply, ambiguous, attempts, owner, booking = conn.execute(
                    "SELECT id, state, request, reply, ambiguous, attempts, journey, booking"
                    " FROM outbox WHERE api = ? AND operation = ? AND reference = ?",
                    mutation.key,
                ).fetchone()
                if state == DELIVERED:
                    revived = None if reply is None else _revive(mutation, self._sealer.open(reply))
                    return _Enqueued(entry_id, None, True, revived)
                if request is not None and self._sealer.open(request) != dict(mutation.request):
                    raise ValueError(f"{mutation.operation}: reference reused for another request")
                if state == IN_FLIGHT:
                    return _Enqueued(entry_id, None)
                conn.execute(  # refused or dead before: the caller tries again
                    "UPDATE outbox SET state = 'pending', updated_at = ? WHERE id = ?",
                    (now, entry_id),
                )
            # Queued writes of the journey go first, and so do those the relay is sending;
            # writes the journey itself has in flight at this moment do not hold it up (it
            # awaits the ones a later step depends on).
            earlier = conn.execute(
                "SELECT 1 FROM outbox WHERE journey = ? AND id < ? AND state = 'pending'"
                " AND may_defer = 1 LIMIT 1",
                (owner, entry_id),
            ).fetchone()
            relaying = tuple(self._relaying)
            if earlier is None and relaying:
                earlier = conn.execute(
                    "SELECT 1 FROM outbox WHERE journey = ? AND id < ? AND state = 'in_flight'"
                    f" AND id IN ({', '.join('?' * len(relaying))}) LIMIT 1",
                    (owner, entry_id, *relaying),
                ).fetchone()
            if earlier is not None and mutation.deferrable:
                return _Enqueued(entry_id, None)
            conn.execute(
                "UPDATE outbox SET state = 'in_flight', updated_at = ? WHERE id = ?",
                (now, entry_id),
            )
        claimed = _Claimed(entry_id, mutation, booking, bool(ambiguous), attempts)
        return _Enqueued(entry_id, claimed)

    # --- attempts -----------------------------------------------------------------------

    async def _attempt(
        self, claimed: _Claimed, *, replay: bool, relayed: list[_Delivered] | None = None
    ) -> Any:
        """Send one claimed entry (reconciled first when it is a replay); record the end.

        ``relayed``: the relay's pass, which records its entries' delivered marks together
        once its batch is done (one transaction instead of one per entry)."""
        mutation = claimed.mutation
        relay = relayed is not None
        try:
            if replay and mutation.deferrable:
                reconcile = self._reconcilers.get(mutation.api)
                maybe_landed = claimed.ambiguous  # unreachable or refused: surely not applied
                if (
                    reconcile is not None
                    and await reconcile(mutation, claimed.booking, maybe_landed)
                    is Verdict.LANDED
                ):
                    log.info("%s %s: had landed, not sent again", *mutation.key[1:])
                    await self._delivered(claimed.id, None, relayed)
                    return None
            reply = await self._senders[mutation.api](mutation)
        except Conflict as conflict:
            log.warning("%s %s: parked: %s", mutation.operation, mutation.reference, conflict)
            await self.db.run(self._finish, claimed.id, DEAD, f"conflict: {conflict}", None)
            raise Queued(mutation, claimed.id, "parked for staff") from None
        except ApiError as exc:
            outcome = outcome_of(exc)
            error = _describe(exc) + (" (may have landed)" if outcome is Outcome.AMBIGUOUS else "")
            log.warning("%s %s: %s (%s)", mutation.operation, mutation.reference, outcome, error)
            if outcome is Outcome.REFUSED or not mutation.deferrable:
                state = DEAD if relay else REFUSED
                ambiguous = outcome is Outcome.AMBIGUOUS
                await self.db.run(self._finish, claimed.id, state, error, None, ambiguous)
                raise
            retry_after = exc.retry_after if isinstance(exc, HttpStatusError) else None
            if outcome is Outcome.UNREACHABLE or isinstance(exc, HttpStatusError):
                self._quiet_until = self._clock() + (retry_after or self._quiet_s)
            await self.db.run(
                self._reschedule, claimed, outcome is Outcome.AMBIGUOUS, error, retry_after
            )
            self._wake.set()
            raise Queued(mutation, claimed.id, outcome.value) from exc
        except BaseException as exc:  # cancelled mid-call, or a bug: it may have landed
            if isinstance(exc, asyncio.CancelledError) or not isinstance(exc, Exception):
                await asyncio.shield(
                    self.db.run(self._reschedule, claimed, True, "interrupted", None)
                )
            else:  # parked for staff, and reconciled first if they retry it
                error = f"bug: {type(exc).__name__} (may have landed)"
                await self.db.run(self._finish, claimed.id, DEAD, error, None, True)
            raise
        log.info("%s %s: applied", mutation.operation, mutation.reference)
        self._quiet_until = 0.0
        stored = None
        if reply is not None:
            stored = self._sealer.seal(_jsonable(reply))
        await self._delivered(claimed.id, stored, relayed)
        return reply

    async def _delivered(
        self, entry_id: int, reply: bytes | None, relayed: list[_Delivered] | None
    ) -> None:
        if relayed is None:
            await self.db.run(self._finish, entry_id, DELIVERED, "", reply)
        else:
            relayed.append((entry_id, reply))

    def _finish(
        self,
        entry_id: int,
        state: str,
        error: str,
        reply: bytes | None,
        ambiguous: bool = False,
    ) -> None:
        if state == DELIVERED:
            self._finish_delivered([(entry_id, reply)])
            return
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET state = ?, error = ?, reply = ?, attempts = attempts + 1,"
                " ambiguous = ambiguous OR ?, updated_at = ? WHERE id = ?",
                (state, error, reply, ambiguous, now_text(), entry_id),
            )

    def _finish_delivered(self, delivered: list[_Delivered]) -> None:
        """Entries delivered (with their sealed replies); their requests, which hold guest
        data, are purged. A delivered mark lost to a power cut, or to a crash before a
        relay pass records its marks, leaves the entry in flight: at start-up it is
        reconciled (found applied), never sent twice; so no fsync waits for it."""
        with self.db.transaction(fsync=False) as conn:
            _mark_delivered(conn, delivered)

    def _reschedule(
        self, claimed: _Claimed, ambiguous: bool, error: str, retry_after: float | None
    ) -> None:
        delay = self._backoff.delay(claimed.attempts + 1, retry_after)
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'pending', attempts = attempts + 1, error = ?,"
                " ambiguous = ambiguous OR ?, next_at = ?, updated_at = ? WHERE id = ?",
                (error, ambiguous, self._clock() + delay, now_text(), claimed.id),
            )

    # --- the relay ----------------------------------------------------------------------

    def recover(self) -> int:
        """At start-up: entries a crash left in flight may have landed; they become pending
        and ambiguous (reconciled before their replay). Returns how many."""
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE outbox SET state = 'pending', ambiguous = 1, next_at = ?, updated_at = ?"
                " WHERE state = 'in_flight' AND may_defer = 1",
                (self._clock(), now_text()),
            )
            conn.execute(  # its caller is gone; a new send tries again
                "UPDATE outbox SET state = 'refused', error = 'interrupted', updated_at = ?"
                " WHERE state = 'in_flight' AND may_defer = 0",
                (now_text(),),
            )
        if cursor.rowcount:
            log.warning("%d outbox entries were in flight at a crash: reconciling", cursor.rowcount)
        return cursor.rowcount

    def _claim_due(self, limit: int, marks: list[_Delivered]) -> list[_Claimed]:
        """Due entries that head their journey, claimed (in flight) in one transaction;
        the last pass's delivered ``marks`` first, so that its journeys' next entries may
        go in this one."""
        with self.db.transaction() as conn:
            _mark_delivered(conn, marks)
            rows = conn.execute(
                "SELECT id, journey, booking, api, operation, reference, request, ambiguous,"
                " attempts FROM outbox AS o"
                " WHERE state = 'pending' AND may_defer = 1 AND next_at <= ?"
                " AND NOT EXISTS (SELECT 1 FROM outbox AS p WHERE p.journey = o.journey"
                " AND p.id < o.id AND p.state IN ('pending', 'in_flight'))"
                " ORDER BY id LIMIT ?",
                (self._clock(), limit),
            ).fetchall()
            now = now_text()
            conn.executemany(
                "UPDATE outbox SET state = 'in_flight', updated_at = ? WHERE id = ?",
                [(now, row[0]) for row in rows],
            )
            claimed = []
            for row in rows:
                entry_id, _, booking, api, operation, reference, request, ambiguous, attempts = row
                mutation = Mutation(
                    api, operation, self._sealer.open(request), reference, datetime.now(UTC),
                    is_json=True,
                )
                claimed.append(_Claimed(entry_id, mutation, booking, bool(ambiguous), attempts))
            # Known as the relay's before the claim commits: a journey's next write waits.
            self._relaying.update(c.id for c in claimed)
        return claimed

    async def deliver_due(self) -> int:
        """One pass: send every due entry that heads its journey; the number delivered.

        A full pass (a backlog: another one follows) leaves its delivered marks to the
        next pass's claim, one transaction for both instead of two; any other pass, and
        the relay before it idles, writes them at once (``_write_marks``)."""
        marks, self._marks = self._marks, []
        try:
            claimed = await self.db.run(self._claim_due, self._batch, marks)
        except BaseException:
            self._marks = marks + self._marks  # maybe not written: the next pass writes them
            raise
        self._relaying.difference_update(entry_id for entry_id, _ in marks)
        relayed: list[_Delivered] = []
        width = asyncio.Semaphore(self._width.now)
        started = time.monotonic()
        full = False
        try:
            results = await asyncio.gather(
                *(self._relayed(c, width, relayed) for c in claimed), return_exceptions=True
            )
            full = len(claimed) == self._batch
            if full and self._batch > 1:  # a backlog: passes of one size compare
                self._width.after(len(claimed), time.monotonic() - started)
        finally:
            # A journey's next write waits while its entry is the relay's: until its mark.
            self._marks.extend(relayed)
            kept = {entry_id for entry_id, _ in relayed}
            self._relaying.difference_update(c.id for c in claimed if c.id not in kept)
            if not full:
                await self._write_marks()
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, Queued | ApiError):
                log.error("outbox relay: %s", type(result).__name__)
        return sum(not isinstance(r, BaseException) for r in results)

    async def _write_marks(self) -> None:
        """The delivered marks a full pass left for the next claim, written now."""
        marks, self._marks = self._marks, []
        try:
            if marks:
                await asyncio.shield(self.db.run(self._finish_delivered, marks))
        finally:
            self._relaying.difference_update(entry_id for entry_id, _ in marks)

    async def _relayed(
        self, claimed: _Claimed, width: asyncio.Semaphore, relayed: list[_Delivered]
    ) -> Any:
        async with width:
            return await self._attempt(claimed, replay=True, relayed=relayed)

    async def run_relay(self, idle_s: float = 5.0) -> None:
        """Deliver due entries until cancelled; wakes early when a send queued something."""
        try:
            while True:
                delivered = 0
                try:
                    delivered = await self.deliver_due()
                except sqlite3.Error as exc:
                    log.error("outbox relay: state database error %s", type(exc).__name__)
                self._wake.clear()
                next_s = self.seconds_to_next()
                if delivered and next_s <= 0:
                    continue  # a backlog: the next pass at once (each one delivers something)
                await self._write_marks()
                wait = min(idle_s, max(next_s, 0.05))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
        finally:
            await self._write_marks()

    def seconds_to_next(self) -> float:
        rows = self.db.query("SELECT MIN(next_at) AS at FROM outbox WHERE state = 'pending'")
        at = rows[0]["at"]
        return float("inf") if at is None else at - self._clock()

    async def drain(self, deadline_s: float = 300.0) -> bool:
        """Relay until nothing is pending (True), or the deadline passes (False)."""
        end = time.monotonic() + deadline_s
        while self.depth():
            if time.monotonic() >= end:
                await self._write_marks()
                return False
            # A pass that only wrote the last one's marks may have finished the backlog.
            if not await self.deliver_due() and self.depth():
                wait = min(self.seconds_to_next(), end - time.monotonic(), 1.0)
                await asyncio.sleep(max(wait, 0.01))
        return True

    async def withdraw(self, operations: tuple[str, ...]) -> bool:
        journey = current_journey.get() or KIOSK_JOURNEY
        return await self.db.run(self._withdraw, journey.id, operations)

    def _withdraw(self, journey: str, operations: tuple[str, ...]) -> bool:
        marks = ", ".join("?" * len(operations))
        with self.db.transaction() as conn:
            rows = conn.execute(
                f"SELECT id, state, ambiguous FROM outbox WHERE journey = ?"
                f" AND operation IN ({marks}) AND state IN ('pending', 'in_flight')",
                (journey, *operations),
            ).fetchall()
            if not rows or any(state != PENDING or ambiguous for _, state, ambiguous in rows):
                return False
            conn.executemany(
                "UPDATE outbox SET state = 'withdrawn', request = NULL, updated_at = ?,"
                " error = 'withdrawn: the journey took it back before it reached the back-end'"
                " WHERE id = ?",
                [(now_text(), entry_id) for entry_id, _, _ in rows],
            )
        log.info("withdrew %d queued %s write(s)", len(rows), "/".join(operations))
        return True

    def undelivered(self, operation: str) -> list[dict[str, Any]]:
        """The requests of ``operation`` still to deliver (pending or in flight)."""
        rows = self.db.query(
            "SELECT request FROM outbox WHERE operation = ? AND state IN ('pending', 'in_flight')"
            " AND request IS NOT NULL",
            (operation,),
        )
        return [self._sealer.open(row["request"]) for row in rows]

    # --- the operator's view ------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        rows = self.db.query("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
        return {row["state"]: row["n"] for row in rows}

    def depth(self) -> int:
        """Entries still to deliver (pending and in flight): "offline, N queued"."""
        # Counted in the due index's range of those two states, not over every entry kept.
        rows = self.db.query(
            "SELECT COUNT(*) AS n FROM outbox WHERE state IN ('pending', 'in_flight')"
        )
        return int(rows[0]["n"])

    def entries(self, states: tuple[str, ...] = (PENDING, IN_FLIGHT, DEAD)) -> list[OutboxEntry]:
        marks = ", ".join("?" * len(states))
        rows = self.db.query(
            f"SELECT * FROM outbox WHERE state IN ({marks}) ORDER BY id", tuple(states)
        )
        return [OutboxEntry.of_row(row) for row in rows]

    def retry(self, entry_id: int | None = None) -> int:
        """Dead (or waiting) entries due now: one by id, or all with ``None``."""
        where, params = (
            ("state IN ('dead', 'pending')", ())
            if entry_id is None
            else ("id = ? AND state IN ('dead', 'pending')", (entry_id,))
        )
        with self.db.transaction() as conn:
            cursor = conn.execute(
                f"UPDATE outbox SET state = 'pending', next_at = ?, updated_at = ? WHERE {where}",
                (self._clock(), now_text(), *params),
            )
        self._wake.set()
        return cursor.rowcount

    def drop(self, entry_id: int, actor: str) -> bool:
        """Remove an entry for good (staff settled it by hand); audited."""
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT operation, reference, state FROM outbox WHERE id = ?", (entry_id,)
            ).fetchone()
            if row is None:
                return False
            conn.execute("DELETE FROM outbox WHERE id = ?", (entry_id,))
            conn.execute(
                "INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, 'outbox drop', ?)",
                (now_text(), actor, f"entry {entry_id} {row[0]} {row[1]} was {row[2]}"),
            )
        return True

    def purge_delivered(self, older_than_s: float) -> int:
        """Delivered and refused entries (their sealed replies) older than ``older_than_s``
        go, and so do the records of journeys older than that which nothing refers to."""
        cutoff = (datetime.now(UTC) - timedelta(seconds=older_than_s)).isoformat()
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM outbox WHERE state IN ('delivered', 'refused', 'withdrawn')"
                " AND updated_at < ?",
                (cutoff,),
            )
            conn.execute(
                "DELETE FROM journeys WHERE updated_at < ?"
                " AND id NOT IN (SELECT journey FROM outbox)"
                " AND id NOT IN (SELECT journey FROM payments WHERE state NOT IN"
                " ('recorded', 'voided', 'declined', 'cancelled', 'unknown_reference'))",
                (cutoff,),
            )
        return cursor.rowcount


def _mark_delivered(conn: sqlite3.Connection, delivered: list[_Delivered]) -> None:
    """Entries delivered, with their sealed replies; their requests (guest data) purged.
    Only entries still in flight: writing the same marks again changes nothing."""
    now = now_text()
    conn.executemany(
        "UPDATE outbox SET state = 'delivered', error = '', reply = ?, request = NULL,"
        " attempts = attempts + 1, updated_at = ? WHERE id = ? AND state = 'in_flight'",
        [(reply, now, entry_id) for entry_id, reply in delivered],
    )


def outcome_of(exc: ApiError) -> Outcome:
    """Whether a failed write was surely not applied, or may have been."""
    if isinstance(exc, TransportError):
        return Outcome.AMBIGUOUS if exc.ambiguous else Outcome.UNREACHABLE
    if isinstance(exc, ResponseFormatError):
        # the server answered 200 but its reply could not be read (undecodable, over the cap,
        # malformed): the write may well be applied, as when the reply is lost
        return Outcome.AMBIGUOUS
    if isinstance(exc, HttpStatusError) and exc.status_code >= 500:
        # 503 refuses before any work; other 5xx may fail midway
        return Outcome.UNREACHABLE if exc.status_code == 503 else Outcome.AMBIGUOUS
    if isinstance(exc, HttpStatusError) and exc.status_code == 429:
        return Outcome.UNREACHABLE
    return Outcome.REFUSED


def _describe(exc: ApiError) -> str:
    if isinstance(exc, PmsError):
        return f"{type(exc).__name__} {exc.error_code}"
    if isinstance(exc, HttpStatusError):
        return f"HTTP {exc.status_code}"
    return type(exc).__name__


def _jsonable(reply: Any) -> Any:
    if isinstance(reply, BaseModel):
        return reply.model_dump(mode="json", by_alias=True)
    return TypeAdapter(Any).dump_python(reply, mode="json")


def _revive(mutation: Mutation, stored: Any) -> Any:
    """A stored reply as the client's typed reply again."""
    operations: Mapping[str, Any] = PMS_OPERATIONS if mutation.api == "pms" else OA_OPERATIONS
    model = operations[mutation.operation].response
    if model is None:
        return None
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model.model_validate(stored)
    return TypeAdapter(model).validate_python(stored)
