"""The operator's side of the fleet, for ``kiosk fleet`` (and a console): the kiosks'
retained statuses, live messages, and signed commands with their replies.

An operator connects with its own MQTT credentials (``[remote] username``/``password``)
and signs each command with the kiosk's secret, derived from ``[remote] fleet_key``
(``kiosk.remote.signing``).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiomqtt
from pydantic import BaseModel, ValidationError

from kiosk.config import RemoteConfig
from kiosk.remote.connection import Broker, make_client, tls_context
from kiosk.remote.schemas import (
    Command,
    Event,
    Kind,
    Reply,
    Status,
    Telemetry,
    fleet_topic,
    kiosk_of,
    topic,
)
from kiosk.remote.signing import kiosk_secret, reply_is_authentic, sign_command

PAYLOADS: dict[str, type[BaseModel]] = {
    "status": Status,
    "telemetry": Telemetry,
    "event": Event,
    "reply": Reply,
}


class FleetError(Exception):
    """No broker answered, or no secret to sign with; ``str`` says which."""


def secret_for(config: RemoteConfig, kiosk: str) -> bytes:
    """The command secret of ``kiosk``: derived from the fleet key, or the configured
    ``command_secret`` (an operator of one kiosk)."""
    if config.fleet_key is not None:
        return kiosk_secret(config.fleet_key.get_secret_value(), kiosk)
    if config.command_secret is not None:
        return config.command_secret.get_secret_value().encode()
    raise FleetError("no [remote] fleet_key (or command_secret) to sign commands with")


@dataclass(frozen=True)
class Message:
    kiosk: str
    kind: str
    payload: BaseModel
    retained: bool = False  # the broker's stored copy, sent on subscribing (not news)


@dataclass(frozen=True)
class Answer:
    """One kiosk's reply to a command (None: no reply in time)."""

    kiosk: str
    request_id: str
    reply: Reply | None
    authentic: bool = False


class FleetOperator:
    """A connected operator client; make one with ``connect``."""

    def __init__(self, client: aiomqtt.Client, config: RemoteConfig) -> None:
        self.client = client
        self.config = config
        self.prefix = config.topic_prefix

    async def subscribe(self, kinds: tuple[Kind, ...]) -> None:
        """Every kiosk's messages of ``kinds`` from now on (``messages`` subscribes when
        first read; subscribe first to miss nothing sent in between)."""
        for kind in kinds:
            await self.client.subscribe(fleet_topic(self.prefix, kind), qos=1)

    async def messages(self, kinds: tuple[Kind, ...]) -> AsyncIterator[Message]:
        """Every kiosk's messages of ``kinds`` (retained ones first), decoded; payloads of
        another schema version or malformed are skipped, and so are other kinds (one
        reader of the connection at a time)."""
        await self.subscribe(kinds)
        async for message in self.client.messages:
            raw = bytes(message.payload)  # type: ignore[arg-type]
            decoded = self.decode(str(message.topic), raw, retained=bool(message.retain))
            if decoded is not None and decoded.kind in kinds:
                yield decoded

    def decode(self, name: str, payload: bytes, *, retained: bool = False) -> Message | None:
        where = kiosk_of(self.prefix, name)
        if where is None or where[1] not in PAYLOADS:
            return None
        try:
            body = PAYLOADS[where[1]].model_validate_json(payload)
        except ValidationError:
            return None
        return Message(where[0], where[1], body, retained)

    async def statuses(self, quiet_s: float = 0.5, timeout_s: float = 30.0) -> dict[str, Status]:
        """The retained status of every kiosk: read until ``quiet_s`` passes without a
        new one (the broker sends retained messages at once), at most ``timeout_s``."""
        found: dict[str, Status] = {}
        stream = self.messages(("status",))
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                wait = min(quiet_s, deadline - time.monotonic())
                try:
                    message = await asyncio.wait_for(anext(stream), wait)
                except TimeoutError:
                    break
                assert isinstance(message.payload, Status)
                found[message.kiosk] = message.payload
        finally:
            await stream.aclose()
        return found

    async def send(
        self,
        kiosks: list[str],
        command: str,
        args: dict[str, Any] | None = None,
        timeout_s: float = 15.0,
    ) -> list[Answer]:
        """Send ``command`` to each kiosk, signed with its secret; their replies (or None
        for no reply within ``timeout_s``), in the order of ``kiosks``."""
        keys = {kiosk: secret_for(self.config, kiosk) for kiosk in kiosks}
        await self.client.subscribe(fleet_topic(self.prefix, "reply"), qos=1)
        sent: dict[str, str] = {}  # request id -> kiosk
        for kiosk in kiosks:
            signed = await self.publish_command(kiosk, command, args)
            sent[signed.request_id] = kiosk
        answers: dict[str, Answer] = {}
        try:
            async with asyncio.timeout(timeout_s):
                async for message in self.client.messages:
                    decoded = self.decode(str(message.topic), bytes(message.payload))  # type: ignore[arg-type]
                    if decoded is None or not isinstance(decoded.payload, Reply):
                        continue
                    reply = decoded.payload
                    kiosk = sent.get(reply.request_id)
                    if kiosk is None or kiosk != decoded.kiosk:
                        continue
                    authentic = reply_is_authentic(keys[kiosk], reply)
                    answers[reply.request_id] = Answer(kiosk, reply.request_id, reply, authentic)
                    if len(answers) == len(sent):
                        break
        except TimeoutError:
            pass
        return [answers.get(rid) or Answer(kiosk, rid, None) for rid, kiosk in sent.items()]

    async def publish_command(
        self, kiosk: str, command: str, args: dict[str, Any] | None = None
    ) -> Command:
        """Sign ``command`` with the kiosk's secret and publish it, without waiting: its
        reply comes on the kiosk's reply topic (subscribe to replies first)."""
        signed = sign_command(secret_for(self.config, kiosk), kiosk, command, args)
        await self.client.publish(
            topic(self.prefix, kiosk, "cmd"), signed.model_dump_json().encode(), qos=1
        )
        return signed

    def authentic(self, kiosk: str, reply: Reply) -> bool:
        """Whether ``reply`` is signed by ``kiosk`` (its secret, as commands are signed)."""
        return reply_is_authentic(secret_for(self.config, kiosk), reply)


@asynccontextmanager
async def connect(
    config: RemoteConfig, brokers: list[str] | None = None
) -> AsyncIterator[FleetOperator]:
    """An operator connection to the first broker that answers (``brokers`` overrides
    ``[remote] brokers``)."""
    urls = brokers or config.brokers
    if not urls:
        raise FleetError("no broker: give --broker URL or [remote] brokers")
    parsed = [Broker.parse(url) for url in urls]
    tls = tls_context(config) if any(b.tls for b in parsed) else None
    failures = []
    for broker in parsed:
        identifier = f"operator-{secrets.token_hex(6)}"
        client = make_client(broker, config, identifier, username=config.username, tls=tls)
        try:
            await client.__aenter__()
        except aiomqtt.MqttError as exc:
            failures.append(f"{broker}: {exc}")
            continue
        try:
            yield FleetOperator(client, config)
        finally:
            with contextlib.suppress(aiomqtt.MqttError):  # the broker went first
                await client.__aexit__(None, None, None)
        return
    raise FleetError("no broker answered: " + "; ".join(failures))
