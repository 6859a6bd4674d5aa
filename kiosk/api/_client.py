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
import json
import logging
import math
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from kiosk.api._errors import HttpStatusError, ResponseFormatError, TransportError

log = logging.getLogger("kiosk.api")

Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp")

DEFAULT_TIMEOUT = 10.0
DEFAULT_READ_RETRIES = 2
DEFAULT_MAX_REPLY_BYTES = 4 * 1024 * 1024  # the largest documented reply is a few kB a row
MAX_DEPTH = 32  # no documented reply nests more than a handful of levels


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
    """An ``httpx.AsyncClient`` with a base URL, Bearer token, deadlines, a reply cap and
    read retries.

    Each attempt has one deadline (``timeout``) over the whole exchange: connecting,
    sending, and reading the reply however slowly its bytes trickle in. The reply is read
    as it arrives and refused past ``max_reply_bytes``, so a huge one is never held whole.
    Whatever goes wrong ends in an :class:`ApiError`.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        read_retries: int = DEFAULT_READ_RETRIES,
        retry_backoff: float = 0.2,
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        # identity: a compressed reply could not be capped before it is inflated
        headers = {
            "Accept": "application/json",
            "Accept-Encoding": "identity",
            "Content-Type": "application/json",
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            transport=transport,
        )
        self._timeout = timeout
        self._max_reply_bytes = max_reply_bytes
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
            try:
                return await self._exchange(operation, path, body)
            except (TransportError, HttpStatusError) as exc:
                if isinstance(exc, HttpStatusError) and exc.status_code < 500:
                    raise
                if attempt == attempts:
                    raise
                log.info("%s: %s; retry %d/%d", operation, exc, attempt, attempts - 1)
            await asyncio.sleep(self._retry_backoff * attempt * (0.5 + random.random()))
        raise AssertionError("unreachable")

    async def _exchange(self, operation: str, path: str, body: dict[str, Any]) -> Any:
        """One attempt within its deadline: the decoded JSON of a 200, else an ApiError."""
        started = time.monotonic()
        sent = _SendTrace()
        try:
            async with asyncio.timeout(self._timeout):
                request = self._http.build_request(
                    "POST", path, json=body, extensions={"trace": sent}
                )
                response = await self._http.send(request, stream=True)
                try:
                    log.debug(
                        "%s -> HTTP %s in %.0f ms",
                        operation,
                        response.status_code,
                        (time.monotonic() - started) * 1000,
                    )
                    if response.status_code != 200:
                        raise HttpStatusError(
                            operation,
                            response.status_code,
                            retry_after=retry_after_s(response.headers.get("Retry-After")),
                        )
                    raw = await self._read_capped(operation, response)
                finally:
                    await response.aclose()
        except TimeoutError:  # the overall deadline (asyncio.timeout)
            raise TransportError(
                operation, f"no whole reply within {self._timeout:g} s", ambiguous=sent.maybe
            ) from None
        except httpx.ConnectError as exc:
            raise TransportError(
                operation, f"unreachable ({exc.__class__.__name__})", ambiguous=False
            ) from None
        except httpx.ConnectTimeout:
            raise TransportError(operation, "connect timeout", ambiguous=False) from None
        except httpx.TimeoutException:
            raise TransportError(
                operation, "timed out waiting for the reply", ambiguous=sent.maybe
            ) from None
        except httpx.HTTPError as exc:  # transport, protocol and decoding failures alike
            raise TransportError(
                operation, f"connection failed ({exc.__class__.__name__})", ambiguous=sent.maybe
            ) from None
        return decode_json(operation, raw)

    async def _read_capped(self, operation: str, response: httpx.Response) -> bytes:
        """The reply's body as it arrives; refused as soon as it passes the cap."""
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise ResponseFormatError(operation, "reply is compressed, which was not asked for")
        declared = response.headers.get("Content-Length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > self._max_reply_bytes:
            raise ResponseFormatError(operation, f"reply of {declared} bytes is over the cap")
        chunks, size = [], 0
        # identity only (checked above), so aiter_bytes inflates nothing; unlike aiter_raw
        # it also takes a reply a transport has already read (a recording test transport)
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self._max_reply_bytes:
                raise ResponseFormatError(
                    operation, f"reply is over the cap of {self._max_reply_bytes} bytes"
                )
            chunks.append(chunk)
        return b"".join(chunks)


class _SendTrace:
    """An httpx trace hook: whether the request may have reached the server. Until a
    connection was being made and no byte of the request was sent, it surely has not;
    without any trace (a transport that does not report), it may have."""

    def __init__(self) -> None:
        self.connecting = False
        self.sending = False

    async def __call__(self, event: str, info: dict[str, Any]) -> None:
        if event.startswith("connection."):
            self.connecting = True
        elif "send_request" in event:
            self.sending = True

    @property
    def maybe(self) -> bool:
        return self.sending or not self.connecting


def decode_json(operation: str, raw: bytes) -> Any:
    """The JSON of a reply, checked: nesting at most :data:`MAX_DEPTH` deep, integers
    within 64 bits, numbers finite. Anything else is a :class:`ResponseFormatError`."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise ResponseFormatError(operation, "reply is nested too deep") from None
    except ValueError as exc:  # bad JSON or UTF-8, an integer of too many digits
        raise ResponseFormatError(operation, f"reply is not JSON ({type(exc).__name__})") from None
    problem = _out_of_bounds(value)
    if problem:
        raise ResponseFormatError(operation, f"reply {problem}")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _out_of_bounds(value: Any) -> str:
    """Why a decoded reply is out of bounds ("" if it is not), walked without recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                return "is nested too deep"
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int) and not -(2**63) <= item < 2**63:
            return "has an integer past 64 bits"
        elif isinstance(item, float) and not math.isfinite(item):
            return "has a number out of range"
    return ""


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
    except (ValueError, TypeError, ArithmeticError, RecursionError) as exc:
        # a validator that let a conversion error through: still the reply's fault
        raise ResponseFormatError(
            operation, f"reply has a value out of range ({type(exc).__name__})"
        ) from None


def dump_request(request: BaseModel) -> dict[str, Any]:
    """The request model as the JSON body the seed documents (aliases, wire formats, no unset)."""
    return request.model_dump(mode="json", by_alias=True, exclude_none=True)
