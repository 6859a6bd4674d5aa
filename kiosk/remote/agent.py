"""The fleet agent inside a kiosk: retained status with a last will, periodic telemetry,
events, and signed commands answered from an allow-list (docs/fleet.md).

The agent reads the kiosk through a ``KioskPort`` (the real kiosk's is
``kiosk.remote.kiosk``, the simulated fleet's is ``kiosk.remote.simulate``) and never
holds the guest loop up: events are queued without waiting (``emit``), the kiosk's state
is read in a worker thread (device health may do serial I/O), and messages go out from a
task of their own. With the broker gone the kiosk serves guests as before; the agent keeps
the newest telemetry, the status and a bounded queue of events, and sends them once a
broker answers again.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiomqtt
from pydantic import BaseModel, ValidationError

from hardware.health import DeviceHealth, HealthLevel
from kiosk.config import RemoteConfig
from kiosk.remote.connection import Backoff, Broker, make_client, stay_connected, tls_context
from kiosk.remote.schemas import (
    COMMAND_ARGS,
    COMMANDS,
    Command,
    DeviceReport,
    Event,
    JourneyCounts,
    OutboxDepth,
    Reply,
    ReplyStatus,
    Status,
    Telemetry,
    topic,
    utc_now,
)
from kiosk.remote.signing import Refused, Verifier, sign_reply

log = logging.getLogger("kiosk.remote")

HEALTH_POLL_S = 10.0  # device faults are noticed within this, whatever the telemetry interval
MAX_QUEUED_EVENTS = 500  # while the broker is away; the oldest go first
OUTBOX_BACKLOG = 10  # queued writes from which the outbox is an alert


class NotAvailable(Exception):
    """This kiosk has no hook for the command (yet); the reply says so."""


class CommandFailed(Exception):
    """The command ran and did not succeed; ``str`` is the operator-facing reason."""


@dataclass
class Outcome:
    """A handler's answer; ``then`` runs once the reply is out (restart after replying)."""

    result: dict[str, Any] = field(default_factory=dict)
    then: Callable[[], Any] | None = None


Handler = Callable[[Any], Awaitable[Outcome]]


@dataclass
class Snapshot:
    """The kiosk's state as telemetry reports it."""

    screen: str = ""
    in_service: bool | None = None
    devices: list[DeviceHealth] = field(default_factory=list)
    outbox: OutboxDepth = field(default_factory=OutboxDepth)
    backend_reachable: bool | None = None
    journeys_today: JourneyCounts = field(default_factory=JourneyCounts)

    def alerts(self) -> list[str]:
        """What needs a person: every device not OK, dead or piling outbox entries, an
        unreachable back-end."""
        alerts = [
            f"{d.device}: {d.detail or d.level.value}"
            for d in self.devices
            if d.level is not HealthLevel.OK and d.device != "backend"
        ]
        if self.outbox.dead:
            alerts.append(f"outbox: {self.outbox.dead} dead")
        if self.outbox.queued >= OUTBOX_BACKLOG:
            alerts.append(f"outbox: {self.outbox.queued} queued")
        if self.backend_reachable is False:
            alerts.append("backend: unreachable")
        return alerts


class KioskPort(Protocol):
    """What the agent reads from a kiosk and the commands it can carry out there."""

    def snapshot(self) -> Snapshot:
        """The kiosk's state now; may block (runs in a worker thread)."""
        ...

    @property
    def handlers(self) -> Mapping[str, Handler]:
        """Command name -> handler, for the commands this kiosk has a hook for."""
        ...


def kiosk_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lobby-kiosk")
    except PackageNotFoundError:
        return "unknown"


def default_kiosk_id(config: RemoteConfig) -> str:
    """``[remote] kiosk_id``, or the host name made topic-safe."""
    return config.kiosk_id or re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname())[:64]


class FleetAgent:
    """One kiosk's link to the fleet. ``run`` until ``stop``."""

    def __init__(
        self,
        config: RemoteConfig,
        port: KioskPort,
        *,
        kiosk_id: str,
        secret: bytes | None,
        version: str | None = None,
        health_poll_s: float = HEALTH_POLL_S,
        tls: Any = None,
    ) -> None:
        self.config = config
        self.port = port
        self.kiosk = kiosk_id
        self._secret = secret
        self.version = version or kiosk_version()
        self._poll_s = min(health_poll_s, config.telemetry_interval_s)
        self._brokers = [Broker.parse(url) for url in config.brokers]
        self._tls = tls if tls is not None else (
            tls_context(config) if any(b.tls for b in self._brokers) else None
        )  # fmt: skip
        self.verifier = Verifier(kiosk_id, secret, config.command_max_age_s)
        self._since = utc_now()
        self._started = time.monotonic()
        self._latest = Snapshot()
        self._events: deque[Event] = deque(maxlen=MAX_QUEUED_EVENTS)
        self._replies: deque[tuple[Reply, Callable[[], Any] | None]] = deque(maxlen=100)
        self._telemetry: Telemetry | None = None
        self._status_sent: Status | None = None
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()
        self.connected = False
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()  # commands being carried out

    # --- the kiosk's side ---------------------------------------------------------------

    def emit(self, event: str, **detail: Any) -> None:
        """Queue an event (never waits; the oldest is dropped past the bound)."""
        self._events.append(
            Event(kiosk=self.kiosk, site=self.config.site, event=event, detail=detail)  # type: ignore[arg-type]
        )
        self._wake.set()

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.run(), name=f"fleet-agent {self.kiosk}")
        return self._task

    async def run(self) -> None:
        backoff = Backoff(self.config.reconnect_min_s, self.config.reconnect_max_s)
        watching = asyncio.create_task(self._watch(), name="fleet-agent-watch")
        try:
            await stay_connected(self._brokers, self._session, self._client, backoff)
        finally:
            watching.cancel()

    async def stop(self, timeout_s: float = 3.0) -> None:
        """Say "offline" (retained) when connected, then disconnect; a clean stop leaves
        no stale "online" behind, and the last will covers every other end."""
        if self._task is None or self._task.done():
            return
        self._stopping.set()
        if self.connected:
            try:
                async with asyncio.timeout(timeout_s):
                    await self._stopped.wait()
            except TimeoutError:
                log.warning("fleet agent: no clean offline status within %.0f s", timeout_s)
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    # --- messages -----------------------------------------------------------------------

    def _topic(self, kind: Any) -> str:
        return topic(self.config.topic_prefix, self.kiosk, kind)

    def status(self, state: str = "online") -> Status:
        online = state == "online"
        return Status(
            kiosk=self.kiosk,
            site=self.config.site,
            state=state,  # type: ignore[arg-type]
            in_service=self._latest.in_service if online else None,
            alerts=self._latest.alerts() if online else [],
            version=self.version,
            since=self._since,
        )

    def telemetry(self) -> Telemetry:
        snap = self._latest
        return Telemetry(
            kiosk=self.kiosk,
            site=self.config.site,
            screen=snap.screen,
            in_service=snap.in_service,
            journeys_today=snap.journeys_today,
            devices=[DeviceReport.model_validate(d.as_dict()) for d in snap.devices],
            outbox=snap.outbox,
            backend_reachable=snap.backend_reachable,
            version=self.version,
            uptime_s=round(time.monotonic() - self._started, 1),
            alerts=snap.alerts(),
        )

    def _client(self, broker: Broker) -> aiomqtt.Client:
        username = self.config.username or self.kiosk
        will = aiomqtt.Will(self._topic("status"), self.status("offline").encode(), 1, True)
        return make_client(
            broker, self.config, self.kiosk, username=username, will=will, tls=self._tls
        )

    async def _session(self, client: aiomqtt.Client, broker: Broker) -> None:
        await client.subscribe(self._topic("cmd"), qos=1)
        self._status_sent = None  # a broker restarted without persistence lost it
        self.connected = True
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(self._commands(client)),
                    group.create_task(self._outgoing(client)),
                    group.create_task(self._telemetry_loop()),
                ]
                self._wake.set()
                await self._stopping.wait()
                for task in tasks:
                    task.cancel()
            await client.publish(self._topic("status"), self.status("offline").encode(), 1, True)
            self._stopped.set()
        finally:
            self.connected = False

    async def _outgoing(self, client: aiomqtt.Client) -> None:
        """Status when it changed, then replies, events and the newest telemetry. An item
        leaves its queue only once the broker has it."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            status = self.status()
            if status.model_dump(exclude={"ts"}) != _without_ts(self._status_sent):
                await client.publish(self._topic("status"), status.encode(), 1, True)
                self._status_sent = status
            while self._replies:
                reply, then = self._replies[0]
                await client.publish(self._topic("reply"), reply.encode(), 1)
                self._replies.popleft()
                if then is not None:
                    then()
            while self._events:
                await client.publish(self._topic("event"), self._events[0].encode(), 1)
                self._events.popleft()
            if self._telemetry is not None:
                await client.publish(self._topic("telemetry"), self._telemetry.encode(), 0)
                self._telemetry = None

    async def _telemetry_loop(self) -> None:
        while True:
            self._telemetry = self.telemetry()
            self._wake.set()
            await asyncio.sleep(self.config.telemetry_interval_s)

    async def _watch(self) -> None:
        """Read the kiosk every poll: device faults and recoveries, service changes."""
        while True:
            try:
                snap = await asyncio.to_thread(self.port.snapshot)
            except Exception:  # a port that cannot report stops no guest, and no agent
                log.exception("fleet agent: reading the kiosk failed")
            else:
                self._changes(self._latest, snap)
                self._latest = snap
                self._wake.set()  # the status follows the alerts and the service state
            await asyncio.sleep(self._poll_s)

    def _changes(self, before: Snapshot, now: Snapshot) -> None:
        faulty = {d.device for d in before.devices if d.level is HealthLevel.FAULT}
        for device in now.devices:
            if device.level is HealthLevel.FAULT and device.device not in faulty:
                self.emit("device_fault", device=device.device, detail=device.detail)
            elif device.level is not HealthLevel.FAULT and device.device in faulty:
                self.emit("device_recovered", device=device.device)
        # Out of service is news even as the first word (a kiosk that starts out of order).
        if now.in_service is False and before.in_service is not False:
            self.emit("out_of_service", screen=now.screen)
        elif now.in_service is True and before.in_service is False:
            self.emit("in_service")

    # --- commands -----------------------------------------------------------------------

    async def _commands(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            task = asyncio.create_task(self._command(bytes(message.payload)))  # type: ignore[arg-type]
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _command(self, payload: bytes) -> None:
        try:
            command = Command.model_validate_json(payload)
        except ValidationError:
            log.warning("fleet command refused: malformed (%d bytes)", len(payload))
            self.emit("command_refused", reason="malformed")
            return
        try:
            self.verifier.verify(command)
        except Refused as exc:
            log.warning(
                "fleet command %s (%s) refused: %s", command.command, command.request_id, exc
            )
            self.emit("command_refused", reason=str(exc), command=command.command)
            self._reply(command, "refused", error=str(exc))
            return
        log.info("fleet command %s (%s)", command.command, command.request_id)
        status, result, error, then = await self._execute(command)
        self._reply(command, status, result, error, then)

    async def _execute(
        self, command: Command
    ) -> tuple[ReplyStatus, dict[str, Any], str, Callable[[], Any] | None]:
        if command.command not in COMMANDS:
            return "error", {}, f"unknown command {command.command!r} (not in the allow-list)", None
        try:
            args: BaseModel = COMMAND_ARGS[command.command].model_validate(command.args)
        except ValidationError as exc:
            return "error", {}, f"bad arguments: {_first_error(exc)}", None
        handler = self.port.handlers.get(command.command)
        if handler is None:
            return "not_available", {}, "this kiosk has no hook for it yet", None
        try:
            outcome = await handler(args)
        except NotAvailable as exc:
            return "not_available", {}, str(exc), None
        except CommandFailed as exc:
            return "error", {}, str(exc), None
        except Exception as exc:
            log.exception("fleet command %s failed", command.command)
            return "error", {}, type(exc).__name__, None
        return "ok", outcome.result, "", outcome.then

    def _reply(
        self,
        command: Command,
        status: ReplyStatus,
        result: dict[str, Any] | None = None,
        error: str = "",
        then: Callable[[], Any] | None = None,
    ) -> None:
        reply = Reply(
            kiosk=self.kiosk,
            request_id=command.request_id,
            command=command.command,
            status=status,
            result=result or {},
            error=error,
        )
        # A refused command's reply is not signed: an unknown sender learns nothing by it.
        secret = self._secret if status != "refused" else None
        self._replies.append((sign_reply(secret, reply), then))
        self._wake.set()


def _without_ts(status: Status | None) -> dict[str, Any] | None:
    return None if status is None else status.model_dump(exclude={"ts"})


def _first_error(exc: ValidationError) -> str:
    error = exc.errors(include_input=False, include_url=False)[0]
    return f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
