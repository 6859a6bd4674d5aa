"""The one seam every mutating back-end call goes through (DESIGN.md, "Offline and failure policy").

An adapter describes a write as a :class:`Mutation` (which API, the seed's operation name,
the request as its JSON body, the kiosk's idempotency reference) and hands it to an
:class:`Outbox`. :class:`DirectOutbox` sends it at once and keeps an in-memory journal;
the durable SQLite outbox of a later issue implements the same Protocol (commit the
mutation, then send; replay after reconciling), so adapters do not change.

Idempotency: ``(api, operation, reference)`` names one mutation. Sending it again after
it was applied returns the first reply without sending anything; sending the same key
with a different request is a bug and is refused. Failed attempts may be sent again.

Logs and the journal's error texts carry the operation, the reference and the error
class only: never the request, which holds guest personal data.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from kiosk.api import ApiError, HttpStatusError, PmsError, ResponseFormatError, TransportError
from kiosk.api._client import dump_request
from kiosk.api.openability import OPERATIONS as OA_OPERATIONS
from kiosk.api.openability import OpenAbilityClient
from kiosk.api.pms import OPERATIONS as PMS_OPERATIONS
from kiosk.api.pms import PmsClient

log = logging.getLogger("kiosk.outbox")

Api = Literal["pms", "openability"]


@dataclass(frozen=True)
class Mutation:
    """One mutating call: what a durable outbox stores before the first attempt."""

    api: Api
    operation: str  # the seed's name: "cashier", "update_order_info"
    request: Mapping[str, Any] = field(repr=False)  # the JSON body (PMS) or ``param`` (OA)
    reference: str  # the kiosk's idempotency reference (OA: the command ``id``)
    created_at: datetime

    def __post_init__(self) -> None:
        if self.created_at.utcoffset() != timedelta(0):
            raise ValueError("created_at must be an aware UTC datetime")
        if not self.reference:
            raise ValueError("a mutation needs a reference")
        try:  # it must survive a round trip through the durable outbox's JSON column
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
    ) -> Mutation:
        """A mutation from a request model (dumped as the seed's JSON) or a JSON dict."""
        body = dump_request(request) if isinstance(request, BaseModel) else dict(request)
        return cls(api, operation, body, reference, now or datetime.now(UTC))

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.api, self.operation, self.reference)


class Outcome(StrEnum):
    APPLIED = "applied"
    REFUSED = "refused"  # the back-end answered with an error: not applied
    UNREACHABLE = "unreachable"  # never reached the back-end: not applied
    AMBIGUOUS = "ambiguous"  # may have been applied: reconcile before a replay


@dataclass(frozen=True)
class JournalEntry:
    """One attempt at a mutation and how it ended."""

    mutation: Mutation
    outcome: Outcome
    at: datetime
    error: str = ""  # the error class (and PMS code): never a body


class Outbox(Protocol):
    """Where adapters send every mutation; the reply is the client's typed reply."""

    async def send(self, mutation: Mutation) -> Any:
        """Send (or, durable, commit then send) ``mutation``; raises the client's ApiError."""
        ...


Sender = Callable[[Mutation], Awaitable[Any]]


def pms_sender(client: PmsClient) -> Sender:
    """Sends PMS mutations through ``client``; refuses read operations and unknown names."""

    async def send(mutation: Mutation) -> Any:
        op = PMS_OPERATIONS.get(mutation.operation)
        if op is None or op.read:
            raise ValueError(f"{mutation.operation} is not a PMS mutation")
        return await client.invoke(mutation.operation, dict(mutation.request))

    return send


def openability_sender(client: OpenAbilityClient) -> Sender:
    """Sends open-ability commands with the mutation's reference as the command ``id``."""

    async def send(mutation: Mutation) -> Any:
        op = OA_OPERATIONS.get(mutation.operation)
        if op is None or op.read:
            raise ValueError(f"{mutation.operation} is not an open-ability mutation")
        request = op.request.model_validate(dict(mutation.request))
        return await client.invoke(op, request, command_id=mutation.reference)

    return send


class DirectOutbox:
    """Sends each mutation at once (no durability yet) and journals every attempt in memory."""

    def __init__(
        self, senders: Mapping[str, Sender], *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._senders = dict(senders)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._journal: list[JournalEntry] = []
        self._applied: dict[tuple[str, str, str], tuple[Mutation, Any]] = {}

    @classmethod
    def for_clients(
        cls, *, pms: PmsClient | None = None, openability: OpenAbilityClient | None = None
    ) -> DirectOutbox:
        senders: dict[str, Sender] = {}
        if pms is not None:
            senders["pms"] = pms_sender(pms)
        if openability is not None:
            senders["openability"] = openability_sender(openability)
        return cls(senders)

    @property
    def journal(self) -> tuple[JournalEntry, ...]:
        return tuple(self._journal)

    async def send(self, mutation: Mutation) -> Any:
        done = self._applied.get(mutation.key)
        if done is not None:
            first, reply = done
            if first.request != mutation.request:
                raise ValueError(f"{mutation.operation}: reference reused for another request")
            log.info(
                "%s %s: already applied, not sent again", mutation.operation, mutation.reference
            )
            return reply
        sender = self._senders.get(mutation.api)
        if sender is None:
            raise ValueError(f"no {mutation.api} client configured")
        try:
            reply = await sender(mutation)
        except ApiError as exc:
            outcome = outcome_of(exc)
            self._record(mutation, outcome, _describe(exc))
            log.warning("%s %s: %s", mutation.operation, mutation.reference, outcome.value)
            raise
        self._record(mutation, Outcome.APPLIED)
        self._applied[mutation.key] = (mutation, reply)
        log.info("%s %s: applied", mutation.operation, mutation.reference)
        return reply

    def _record(self, mutation: Mutation, outcome: Outcome, error: str = "") -> None:
        self._journal.append(JournalEntry(mutation, outcome, self._clock(), error))


def outcome_of(exc: ApiError) -> Outcome:
    """Whether a failed write was surely not applied, or may have been."""
    if isinstance(exc, TransportError):
        return Outcome.AMBIGUOUS if exc.ambiguous else Outcome.UNREACHABLE
    if isinstance(exc, ResponseFormatError):
        return Outcome.AMBIGUOUS  # the server answered 200: the write may well be applied
    if isinstance(exc, HttpStatusError) and exc.status_code >= 500 and exc.status_code != 503:
        return Outcome.AMBIGUOUS  # 503 refuses before any work; other 5xx may fail midway
    return Outcome.REFUSED


def _describe(exc: ApiError) -> str:
    if isinstance(exc, PmsError):
        return f"{type(exc).__name__} {exc.error_code}"
    return type(exc).__name__
