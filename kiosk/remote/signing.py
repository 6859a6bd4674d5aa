"""End-to-end authentication of commands and replies: HMAC-SHA256 with a per-kiosk secret.

Broker ACLs decide who may publish where; they do not stop a broker operator, a stolen
operator password or a mis-set ACL from commanding a kiosk. So every command is signed
over its canonical text (every field but ``sig``: JSON, keys sorted, no spaces, UTF-8)
with the kiosk's own secret, and carries a timestamp and a nonce: the kiosk refuses a
command signed for another kiosk, one outside ``[remote] command_max_age_s`` of its clock
(stale), one whose nonce it has seen (replayed) and one whose signature does not match
(forged).

Each kiosk's secret is derived from the operators' fleet key, ``HMAC(fleet_key, kiosk
id)``: the operator side keeps one key, a kiosk keeps only its own secret, and one kiosk's
secret opens no other.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any

from kiosk.remote.schemas import Command, Reply


def kiosk_secret(fleet_key: str, kiosk: str) -> bytes:
    """The command secret of ``kiosk`` under ``fleet_key`` (hex text, so a credential file
    can hold it)."""
    derived = hmac.new(fleet_key.encode(), b"kiosk-command:" + kiosk.encode(), hashlib.sha256)
    return derived.hexdigest().encode()


def canonical(payload: dict[str, Any]) -> bytes:
    """The exact bytes signed: the payload without ``sig``, keys sorted, compact."""
    body = {k: v for k, v in payload.items() if k != "sig"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: bytes, payload: dict[str, Any]) -> str:
    return hmac.new(secret, canonical(payload), hashlib.sha256).hexdigest()


def sign_command(
    secret: bytes,
    kiosk: str,
    command: str,
    args: dict[str, Any] | None = None,
    *,
    now_ms: int | None = None,
) -> Command:
    """A fresh command for ``kiosk``: new request id and nonce, signed."""
    unsigned = Command(
        kiosk=kiosk,
        request_id=uuid.uuid4().hex,
        command=command,
        args=args or {},
        ts=int(time.time() * 1000) if now_ms is None else now_ms,
        nonce=secrets.token_hex(16),
    )
    return unsigned.model_copy(update={"sig": signature(secret, unsigned.model_dump(mode="json"))})


def sign_reply(secret: bytes | None, reply: Reply) -> Reply:
    if secret is None:
        return reply
    return reply.model_copy(update={"sig": signature(secret, reply.model_dump(mode="json"))})


def reply_is_authentic(secret: bytes, reply: Reply) -> bool:
    expected = signature(secret, reply.model_dump(mode="json"))
    return bool(reply.sig) and hmac.compare_digest(expected, reply.sig)


class Refused(Exception):
    """A command that is not authentic; ``str`` is the reason (no secret, no payload)."""


class Verifier:
    """The kiosk's check of each command. Nonces are remembered for twice the allowed age,
    past which the timestamp alone refuses a replay; a restart forgets them, so a command
    captured in the last ``max_age_s`` could be replayed once across a restart (docs/fleet.md)."""

    def __init__(
        self,
        kiosk: str,
        secret: bytes | None,
        max_age_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.kiosk = kiosk
        self._secret = secret
        self._max_age_s = max_age_s
        self._clock = clock
        self._seen: dict[str, float] = {}

    def verify(self, command: Command) -> None:
        """Raise ``Refused`` unless ``command`` is for this kiosk, fresh, new and signed."""
        if self._secret is None:
            raise Refused("no command secret configured")
        if command.kiosk != self.kiosk:
            raise Refused("signed for another kiosk")
        expected = signature(self._secret, command.model_dump(mode="json"))
        if not hmac.compare_digest(expected, command.sig):
            raise Refused("bad signature")
        now = self._clock()
        if abs(now - command.ts / 1000) > self._max_age_s:
            raise Refused("stale")
        self._forget_before(now - 2 * self._max_age_s)
        if command.nonce in self._seen:
            raise Refused("replayed")
        self._seen[command.nonce] = now

    def _forget_before(self, cutoff: float) -> None:
        for nonce in [n for n, seen in self._seen.items() if seen < cutoff]:
            del self._seen[nonce]
