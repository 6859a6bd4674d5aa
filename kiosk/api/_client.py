"""Shared base of the async API clients: transport, timeouts, retries, envelopes.

Every operation of a seed is one :class:`Operation` (path or command, request
model, response model, read or write). Reads are retried with a short backoff;
writes are sent once — replaying a write is the outbox's job, after it has
reconciled with the back-end (DESIGN.md, "Offline and failure policy").
Logs carry the operation name, status and timing only: never a token, a body,
or guest personal data.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from kiosk.api._errors import ApiError, HttpStatusError, ResponseFormatError, TransportError

log = logging.getLogger("kiosk.api")

Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp")

DEFAULT_TIMEOUT = 10.0
DEFAULT_READ_RETRIES = 2


@dataclass(frozen=True)
class Operation(Generic[Req, Resp]):
    """One documented operation of a seed.

    ``name`` is the seed's own name (``getAccomDetail``, ``get_booking_list``);
    ``response`` is the model (or ``list[Model]``) of the reply's payload, or
    ``None`` for operations that return an empty object.
    """

    name: str
    request: type[Req]
    response: Any
    read: bool


class BaseClient:
    """An ``httpx.AsyncClient`` with a base URL, Bearer token, timeouts and read retries."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        read_retries: int = DEFAULT_READ_RETRIES,
        retry_backoff: float = 0.2,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            transport=transport,
        )
        self._read_retries = read_retries
        self._retry_backoff = retry_backoff

    async def __aenter__(self) -> BaseClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post_json(
        self, operation: str, path: str, body: dict[str, Any], *, read: bool
    ) -> Any:
        """POST ``body``; the decoded JSON reply. Retries reads on transport errors and 5xx."""
        attempts = 1 + (self._read_retries if read else 0)
        for attempt in range(1, attempts + 1):
            started = time.monotonic()
            try:
                response = await self._http.post(path, json=body)
            except httpx.ConnectError as exc:
                error: ApiError = TransportError(
                    operation, f"unreachable ({exc.__class__.__name__})", ambiguous=False
                )
            except httpx.ConnectTimeout:
                error = TransportError(operation, "connect timeout", ambiguous=False)
            except httpx.TimeoutException:
                error = TransportError(operation, "timed out waiting for the reply", ambiguous=True)
            except httpx.TransportError as exc:
                error = TransportError(
                    operation, f"connection failed ({exc.__class__.__name__})", ambiguous=True
                )
            else:
                elapsed_ms = (time.monotonic() - started) * 1000
                log.debug("%s -> HTTP %s in %.0f ms", operation, response.status_code, elapsed_ms)
                if response.status_code == 200:
                    try:
                        return response.json()
                    except ValueError as exc:
                        raise ResponseFormatError(operation, "reply is not JSON") from exc
                error = HttpStatusError(
                    operation,
                    response.status_code,
                    retry_after=retry_after_s(response.headers.get("Retry-After")),
                )
                if response.status_code < 500:
                    raise error
            if attempt < attempts:
                log.info("%s: %s; retry %d/%d", operation, error, attempt, attempts - 1)
                await asyncio.sleep(self._retry_backoff * attempt * (0.5 + random.random()))
                continue
            raise error
        raise AssertionError("unreachable")


def retry_after_s(value: str | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds, or an HTTP date; None if neither."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value), 86_400.0)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, min((when - datetime.now(UTC)).total_seconds(), 86_400.0))


def parse_payload(operation: str, model: Any, payload: Any) -> Any:
    """Validate ``payload`` against ``model`` (a pydantic model, ``list[Model]``, or ``None``)."""
    if model is None:
        return None
    try:
        if isinstance(model, type) and issubclass(model, BaseModel):
            return model.model_validate(payload)
        return TypeAdapter(model).validate_python(payload)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in err["loc"]) for err in exc.errors()})
        raise ResponseFormatError(operation, f"reply does not match the model at {fields}") from exc


def dump_request(request: BaseModel) -> dict[str, Any]:
    """The request model as the JSON body the seed documents (aliases, wire formats, no unset)."""
    return request.model_dump(mode="json", by_alias=True, exclude_none=True)
