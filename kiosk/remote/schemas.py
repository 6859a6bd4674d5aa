"""The fleet's messages: topics and versioned payload schemas (docs/fleet.md).

Every payload is UTF-8 JSON with ``v`` (the schema version, 1) first. Readers ignore
fields they do not know (a newer kiosk may add some within a version) and skip a payload
whose ``v`` they do not speak. Commands are the exception: they are signed, so they are
read strictly (``extra="forbid"``) and a field the kiosk does not know is refused.

Nothing here carries guest personal data: journeys are counted by outcome, events name
an outcome or a device, never a guest.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1
KINDS = ("status", "telemetry", "event", "cmd", "reply")
Kind = Literal["status", "telemetry", "event", "cmd", "reply"]

# JSON scalars (and lists of them): what a command argument or a metric may be.
Scalar = str | int | float | bool | None


def topic(prefix: str, kiosk: str, kind: Kind) -> str:
    """``<prefix>/<kiosk>/<kind>``: one kiosk's topic of one kind."""
    return f"{prefix}/{kiosk}/{kind}"


def fleet_topic(prefix: str, kind: Kind) -> str:
    """The wildcard subscription to one kind of every kiosk (operators)."""
    return f"{prefix}/+/{kind}"


def kiosk_of(prefix: str, name: str) -> tuple[str, str] | None:
    """(kiosk, kind) of a topic under ``prefix``, or None."""
    head = prefix + "/"
    if not name.startswith(head):
        return None
    parts = name[len(head) :].split("/")
    if len(parts) != 2 or parts[1] not in KINDS:
        return None
    return parts[0], parts[1]


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    v: Literal[1] = SCHEMA_VERSION
    kiosk: str
    ts: datetime = Field(default_factory=utc_now)  # when the kiosk wrote it (aware UTC)

    def encode(self) -> bytes:
        return self.model_dump_json().encode()


class Status(_Payload):
    """``<prefix>/<kiosk>/status``, retained: online with its service state and alerts, or
    "offline" (the last will, or a clean stop). Small and rarely changing, so that a
    fleet list is one retained message per kiosk."""

    state: Literal["online", "offline"]
    site: str = ""
    in_service: bool | None = None  # None: not known (offline, or no guest service)
    alerts: list[str] = []  # e.g. "dispenser: card stock low" (see Telemetry.alerts)
    version: str = ""
    since: datetime | None = None  # the agent's start


class DeviceReport(BaseModel):
    """One device's health (``hardware.health.DeviceHealth``) as sent."""

    model_config = ConfigDict(extra="ignore")

    device: str
    level: Literal["ok", "warning", "fault"]
    detail: str = ""
    metrics: dict[str, Scalar] = {}


class JourneyCounts(BaseModel):
    """Today's check-ins at this kiosk (the property's local day), by outcome."""

    model_config = ConfigDict(extra="ignore")

    completed: int = 0
    refused: dict[str, int] = {}  # by refusal reason: "payment_declined": 2
    failed: int = 0
    abandoned: int = 0  # cancelled by the guest or timed out


class OutboxDepth(BaseModel):
    model_config = ConfigDict(extra="ignore")

    queued: int = 0  # pending and in flight
    dead: int = 0  # parked for staff (kiosk outbox list)


class Telemetry(_Payload):
    """``<prefix>/<kiosk>/telemetry``, every ``[remote] telemetry_interval_s``."""

    site: str = ""
    screen: str = ""  # the journey step on screen (kiosk.journeys.messages.Step)
    in_service: bool | None = None
    journeys_today: JourneyCounts = JourneyCounts()
    devices: list[DeviceReport] = []
    outbox: OutboxDepth = OutboxDepth()
    backend_reachable: bool | None = None
    version: str = ""
    uptime_s: float = 0.0
    alerts: list[str] = []


EventKind = Literal[
    "checkin_completed",
    "checkin_failed",  # refused (with the reason) or failed
    "device_fault",
    "device_recovered",
    "out_of_service",
    "in_service",
    "staff_requested",  # a guest pressed "ask staff"
    "command_refused",  # a forged, stale or replayed command (reason only)
]


class Event(_Payload):
    """``<prefix>/<kiosk>/event``: something happened. ``detail`` holds plain values
    (an outcome, a reason, a device), never guest data."""

    site: str = ""
    event: EventKind
    detail: dict[str, Scalar] = {}


CommandName = Literal[
    "maintenance",
    "restart",
    "reload_config",
    "set_config",
    "self_test",
    "print_test",
    "outbox_list",
    "outbox_retry",
    "screenshot",
    "log_tail",
]
COMMANDS: tuple[str, ...] = CommandName.__args__  # type: ignore[attr-defined]


class Command(BaseModel):
    """``<prefix>/<kiosk>/cmd``: signed by the operator with the kiosk's command secret
    (``kiosk.remote.signing``). ``ts`` is Unix milliseconds (an integer: the signature is
    over exact text)."""

    model_config = ConfigDict(extra="forbid")

    v: Literal[1] = SCHEMA_VERSION
    kiosk: str
    request_id: str = Field(min_length=8, max_length=64)
    command: str
    args: dict[str, Any] = {}
    ts: int
    nonce: str = Field(min_length=16, max_length=64)
    sig: str = ""  # hex HMAC-SHA256 of the canonical command without ``sig``


ReplyStatus = Literal["ok", "error", "not_available", "refused"]


class Reply(_Payload):
    """``<prefix>/<kiosk>/reply``: the answer to one command, signed by the kiosk with
    the same secret when it has one. ``refused``: not authentic (``error`` says why)."""

    request_id: str
    command: str
    status: ReplyStatus
    result: dict[str, Any] = {}
    error: str = ""
    sig: str = ""


# --- each command's arguments (validated by the kiosk; a console can render forms) -------


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoArgs(_Args):
    pass


class MaintenanceArgs(_Args):
    on: bool  # true: out of service (the out-of-service screen), false: back in service


class SetConfigArgs(_Args):
    key: str = Field(pattern=r"^[a-z_]+(\.[a-z0-9_]+)+$")  # dotted, "journey.view_timeout_s"
    value: Scalar | list[Scalar]


class OutboxRetryArgs(_Args):
    id: int | None = None  # None: every dead or waiting entry


class LogTailArgs(_Args):
    lines: int = Field(100, ge=1, le=10_000)


COMMAND_ARGS: dict[str, type[_Args]] = {
    "maintenance": MaintenanceArgs,
    "restart": NoArgs,
    "reload_config": NoArgs,
    "set_config": SetConfigArgs,
    "self_test": NoArgs,
    "print_test": NoArgs,
    "outbox_list": NoArgs,
    "outbox_retry": OutboxRetryArgs,
    "screenshot": NoArgs,
    "log_tail": LogTailArgs,
}
assert set(COMMAND_ARGS) == set(COMMANDS)
