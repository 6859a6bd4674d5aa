"""Connecting to the fleet's broker: MQTT 5 over TCP or TLS, user name and password,
several broker URLs tried in turn (fail-over) with jittered exponential backoff.

Built on aiomqtt (paho-mqtt 2 underneath), whose socket I/O runs on the asyncio loop
without blocking it; the blocking parts of a connect (DNS, TCP, TLS handshake) run in a
worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiomqtt

from kiosk.config import RemoteConfig

log = logging.getLogger("kiosk.remote")

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool

    @classmethod
    def parse(cls, url: str) -> Broker:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"not a broker URL: {url!r} (mqtt://host:port or mqtts://host:port)")
        port = parts.port or DEFAULT_PORTS[parts.scheme]
        return cls(parts.hostname, port, parts.scheme == "mqtts")

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def tls_context(config: RemoteConfig) -> ssl.SSLContext:
    """Server certificates verified (the configured CA or the system's), host names checked,
    a client certificate when one is configured. Loading files may block: call it once,
    before the loop is busy."""
    context = ssl.create_default_context(
        cafile=str(config.tls_ca_file) if config.tls_ca_file else None
    )
    if config.tls_cert_file is not None:
        key = str(config.tls_key_file) if config.tls_key_file else None
        context.load_cert_chain(str(config.tls_cert_file), key)
    return context


def make_client(
    broker: Broker,
    config: RemoteConfig,
    identifier: str,
    *,
    username: str | None,
    will: aiomqtt.Will | None = None,
    tls: ssl.SSLContext | None = None,
) -> aiomqtt.Client:
    password = config.password.get_secret_value() if config.password else None
    return aiomqtt.Client(
        broker.host,
        broker.port,
        identifier=identifier,
        username=username or None,
        password=password if username else None,
        protocol=aiomqtt.ProtocolVersion.V5,
        keepalive=config.keepalive_s,
        will=will,
        tls_context=tls if broker.tls else None,
        timeout=10,
        logger=logging.getLogger("kiosk.remote.mqtt"),
        # Bounded: a kiosk cut off from its broker must not grow without limit.
        max_queued_outgoing_messages=1000,
    )


@dataclass
class Backoff:
    """Jittered exponential backoff between connection attempts."""

    min_s: float
    max_s: float
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self._next = self.min_s

    def reset(self) -> None:
        self._next = self.min_s

    def delay(self) -> float:
        delay = self._next * self.rng.uniform(0.5, 1.0)
        self._next = min(self._next * 2, self.max_s)
        return delay


async def stay_connected(
    brokers: list[Broker],
    session: Callable[[aiomqtt.Client, Broker], Awaitable[None]],
    connect: Callable[[Broker], aiomqtt.Client],
    backoff: Backoff,
    name: str = "fleet agent",
) -> None:
    """Run ``session`` on a connection, forever: on a failure the next broker, after the
    backoff's delay (reset once a connection is made). Cancel to stop."""
    attempt = 0
    while True:
        broker = brokers[attempt % len(brokers)]
        attempt += 1
        try:
            async with connect(broker) as client:
                backoff.reset()
                log.info("%s connected to %s", name, broker)
                await session(client, broker)
        except* aiomqtt.MqttError as group:  # a session's tasks may lose the link together
            log.warning("%s: broker %s: %s", name, broker, group.exceptions[0])
        except* Exception:  # a bug must not end remote management for good: log, go on
            log.exception("%s: session with %s failed", name, broker)
        await asyncio.sleep(backoff.delay())
