"""The console's view of the fleet, kept from the broker's messages: every kiosk's latest
status and telemetry, its recent events, the replies to the commands sent from here, and
the browsers listening for changes (server-sent events).

One operator connection (``kiosk.remote.operator``, as ``kiosk fleet`` uses) reads every
kiosk's status, telemetry, events and replies; commands go out on the same connection,
signed with the kiosk's secret. When the broker goes, the hub connects again with backoff
and the pages say so meanwhile.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiomqtt

from kiosk.config import ConsoleConfig, RemoteConfig
from kiosk.remote.connection import Backoff
from kiosk.remote.console.alerts import derive
from kiosk.remote.console.audit import AuditLog, summarise
from kiosk.remote.operator import FleetError, FleetOperator, Message, connect
from kiosk.remote.schemas import Event, Reply, Status, Telemetry, utc_now

log = logging.getLogger("kiosk.console")

KINDS = ("status", "telemetry", "event", "reply")
FLUSH_S = 0.5  # fleet pages get the rows changed since the last flush, at most this often
OFFLINE_RECHECK_S = 10.0  # "offline for N min" grows without a message: re-derive it
REPLIES_KEPT = 20
LISTENER_QUEUE = 500


class NotConnected(Exception):
    """No broker connection: a command cannot be sent now."""


@dataclass
class KioskState:
    kiosk: str
    events_kept: int
    status: Status | None = None
    telemetry: Telemetry | None = None
    last_seen: datetime | None = None  # the last message: received, or a retained one's ts
    events: deque[dict[str, Any]] = field(init=False)
    replies: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=REPLIES_KEPT))
    screenshot: bytes | None = None
    log_tail: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.events = deque(maxlen=self.events_kept)


@dataclass(frozen=True)
class Pending:
    kiosk: str
    command: str
    user: str
    deadline: float  # time.monotonic()


class Listener:
    """One browser's stream: its kiosk's changes, or (``kiosk`` None) the fleet's rows.
    Bounded: when a slow browser lets it fill up, its backlog is replaced by "resync"
    (the page reloads its data)."""

    def __init__(self, kiosk: str | None) -> None:
        self.kiosk = kiosk
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=LISTENER_QUEUE)

    def push(self, name: str, data: Any) -> None:
        try:
            self.queue.put_nowait((name, data))
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(("resync", None))


class FleetHub:
    def __init__(
        self,
        remote: RemoteConfig,
        console: ConsoleConfig,
        audit: AuditLog,
        brokers: list[str] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.remote = remote
        self.console = console
        self.audit = audit
        self.brokers = brokers
        self.clock = clock
        self.kiosks: dict[str, KioskState] = {}
        self.operator: FleetOperator | None = None
        self._listeners: set[Listener] = set()
        self._dirty: set[str] = set()
        self._pending: dict[str, Pending] = {}

    @property
    def connected(self) -> bool:
        return self.operator is not None

    # --- the broker ------------------------------------------------------------------------

    async def run(self) -> None:
        """Read the fleet until cancelled, reconnecting with backoff."""
        backoff = Backoff(self.remote.reconnect_min_s, self.remote.reconnect_max_s)
        ticking = asyncio.create_task(self._tick(), name="console-tick")
        try:
            while True:
                try:
                    async with connect(self.remote, self.brokers) as operator:
                        self._set_operator(operator)
                        backoff.reset()
                        log.info("console: connected to the broker")
                        async for message in operator.messages(KINDS):
                            self.apply(message)
                except (FleetError, aiomqtt.MqttError) as exc:
                    log.warning("console: broker: %s", exc)
                finally:
                    self._set_operator(None)
                await asyncio.sleep(backoff.delay())
        finally:
            ticking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticking

    def _set_operator(self, operator: FleetOperator | None) -> None:
        if (operator is None) == (self.operator is None):
            return
        self.operator = operator
        for listener in self._listeners:
            listener.push("broker", {"connected": operator is not None})

    def apply(self, message: Message) -> None:
        """Take one message from the broker into the view and tell the listeners."""
        state = self.kiosks.get(message.kiosk)
        if state is None:
            state = self.kiosks[message.kiosk] = KioskState(message.kiosk, self.console.events_kept)
        payload = message.payload
        seen = payload.ts if message.retained else self.clock()  # type: ignore[attr-defined]
        if state.last_seen is None or seen > state.last_seen:
            state.last_seen = seen
        if isinstance(payload, Status):
            state.status = payload
        elif isinstance(payload, Telemetry):
            state.telemetry = payload
            self._tell(state.kiosk, "telemetry", payload.model_dump(mode="json"))
        elif isinstance(payload, Event):
            entry = payload.model_dump(mode="json", include={"ts", "event", "detail"})
            state.events.appendleft(entry)
            self._tell(state.kiosk, "event", entry)
        elif isinstance(payload, Reply):
            self._reply(state, payload)
        self._dirty.add(state.kiosk)
        self._tell(state.kiosk, "row", self.row(state))

    # --- commands --------------------------------------------------------------------------

    async def send(self, user: str, kiosk: str, command: str, args: dict[str, Any]) -> str:
        """Send a signed command (audited); its request id. The reply arrives on its own."""
        if self.operator is None:
            raise NotConnected
        signed = await self.operator.publish_command(kiosk, command, args)
        rid = signed.request_id
        deadline = time.monotonic() + self.console.command_timeout_s
        self._pending[rid] = Pending(kiosk, command, user, deadline)
        self.audit.write(
            "command", user=user, kiosk=kiosk, command=command, args=args, request_id=rid
        )
        self._answer(kiosk, rid, command, user, "sent")
        return rid

    def _reply(self, state: KioskState, reply: Reply) -> None:
        pending = self._pending.get(reply.request_id)
        if pending is None or pending.kiosk != state.kiosk or self.operator is None:
            return  # another operator's command, or a reply claiming another kiosk's
        del self._pending[reply.request_id]
        authentic = self.operator.authentic(state.kiosk, reply)
        result = dict(reply.result)
        if authentic and reply.status == "ok":
            self._keep_result(state, reply.command, result)
        self.audit.write(
            "reply", user=pending.user, kiosk=state.kiosk, command=reply.command,
            request_id=reply.request_id, status=reply.status, authentic=authentic,
            error=reply.error, result=summarise(result),
        )  # fmt: skip
        result.pop("png_base64", None)
        self._answer(
            state.kiosk, reply.request_id, reply.command, pending.user, reply.status,
            error=reply.error, result=summarise(result), authentic=authentic,
        )  # fmt: skip

    def _keep_result(self, state: KioskState, command: str, result: dict[str, Any]) -> None:
        if command == "screenshot":
            with contextlib.suppress(binascii.Error, TypeError):
                state.screenshot = base64.b64decode(result.get("png_base64", ""), validate=True)
        elif command == "log_tail":
            state.log_tail = [str(line) for line in result.get("lines", [])]
            self._tell(state.kiosk, "log_tail", state.log_tail)

    def _answer(
        self, kiosk: str, rid: str, command: str, user: str, status: str, **more: Any
    ) -> None:
        entry = {
            "request_id": rid, "command": command, "user": user, "status": status,
            "ts": self.clock().isoformat(timespec="seconds"), **more,
        }  # fmt: skip
        state = self.kiosks.get(kiosk)
        if state is not None:
            # One entry per command: its reply replaces the "sent" line.
            for old in [r for r in state.replies if r["request_id"] == rid]:
                state.replies.remove(old)
            state.replies.appendleft(entry)
        self._tell(kiosk, "reply", entry)

    def _expire(self) -> None:
        now = time.monotonic()
        for rid, pending in [(r, p) for r, p in self._pending.items() if p.deadline < now]:
            del self._pending[rid]
            self.audit.write(
                "reply", user=pending.user, kiosk=pending.kiosk, command=pending.command,
                request_id=rid, status="no_reply",
            )  # fmt: skip
            self._answer(pending.kiosk, rid, pending.command, pending.user, "no_reply")

    # --- what the pages show -----------------------------------------------------------------

    def row(self, state: KioskState) -> dict[str, Any]:
        """One kiosk's line on the fleet page."""
        status, telemetry = state.status, state.telemetry
        online = status is not None and status.state == "online"
        texts, kinds = derive(
            status, telemetry, state.last_seen, self.clock(),
            timedelta(minutes=self.console.offline_alert_min),
        )  # fmt: skip
        return {
            "kiosk": state.kiosk,
            "state": status.state if status else "unknown",
            "site": (status.site if status else "") or (telemetry.site if telemetry else ""),
            "in_service": status.in_service if status else None,
            "screen": telemetry.screen if online and telemetry else "",
            "alerts": texts,
            "kinds": kinds,
            "version": status.version if status else "",
            "last_seen": state.last_seen.isoformat(timespec="seconds") if state.last_seen else None,
        }

    def rows(self) -> list[dict[str, Any]]:
        return [self.row(self.kiosks[name]) for name in sorted(self.kiosks)]

    def detail(self, kiosk: str) -> dict[str, Any] | None:
        """Everything the kiosk page shows of ``kiosk`` (None: never heard of)."""
        state = self.kiosks.get(kiosk)
        if state is None:
            return None
        return {
            "row": self.row(state),
            "telemetry": state.telemetry.model_dump(mode="json") if state.telemetry else None,
            "events": list(state.events),
            "replies": list(state.replies),
            "has_screenshot": state.screenshot is not None,
            "log_tail": state.log_tail,
            "broker": {"connected": self.connected},
        }

    # --- listeners ---------------------------------------------------------------------------

    def listen(self, kiosk: str | None) -> Listener:
        listener = Listener(kiosk)
        self._listeners.add(listener)
        return listener

    def forget(self, listener: Listener) -> None:
        self._listeners.discard(listener)

    def _tell(self, kiosk: str, name: str, data: Any) -> None:
        for listener in self._listeners:
            if listener.kiosk == kiosk:
                listener.push(name, data)

    async def _tick(self) -> None:
        last_recheck = time.monotonic()
        while True:
            await asyncio.sleep(FLUSH_S)
            if time.monotonic() - last_recheck >= OFFLINE_RECHECK_S:
                last_recheck = time.monotonic()
                self._dirty.update(
                    name for name, s in self.kiosks.items()
                    if s.status is None or s.status.state == "offline"
                )  # fmt: skip
            self._expire()
            if self._dirty:
                rows = [self.row(self.kiosks[name]) for name in sorted(self._dirty)]
                self._dirty.clear()
                for listener in self._listeners:
                    if listener.kiosk is None:
                        listener.push("rows", rows)
