"""``kiosk doctor``: can this kiosk serve a guest? Every configured device, the back-end, the
outbox of queued back-end writes ("N queued, M dead": a warning, never a fault), and the
bookings locked here after wrong second factors (a warning: send the guest to the desk).

The back-end check is one read-only call with the configured token, bounded in time:
``getAllRoomList`` for a PMS, ``get_order_list`` (page 1, size 1) for open-ability.
Its reply carries guest data (open-ability orders list guests), so only its status
and envelope flag are read; the token and the reply are never printed or logged.
Exit code 1 when anything is FAULT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from hardware.health import DeviceHealth, HealthLevel
from kiosk.cli.hw_devices import add_common_options, format_table

if TYPE_CHECKING:
    from kiosk.config import BackendConfig

PMS_PROBE_PATH = "/api/v1/pmsRoom/getAllRoomList"
OA_PROBE_PATH = "/api/v1.0/invoke/open-ability/method/hotel-commands"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "doctor",
        help="health report of every device and the back-end",
        description="Check every configured device and the back-end; exit 1 if any is FAULT.",
    )
    add_common_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kiosk.cli._devices import DeviceReport, missing, probe_all
    from kiosk.cli.outbox import outbox_health
    from kiosk.config import load_config
    from kiosk.lockout import locks_health
    from kiosk.runtime import devices_in_state_dir

    config = load_config(args.config)
    backend = DeviceReport("backend", config.backend.kind, check_backend(config.backend))
    outbox = DeviceReport("outbox", "state", outbox_health(config))  # the state db, no network
    locks = DeviceReport("locks", "state", locks_health(config.state.db))
    reports = [backend, outbox, locks, *probe_all(devices_in_state_dir(config), args.timeout)]
    faults = [r.name for r in reports if r.health.level is HealthLevel.FAULT]
    overall = _worst(r.health.level for r in reports)
    if args.json:
        body = {
            "overall": overall.value,
            "checks": [r.as_dict() for r in reports],
            "not_in_build": missing(config.devices),
        }
        print(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        print(format_table(reports))
        print(f"overall: {overall.value.upper()}" + (f" ({', '.join(faults)})" if faults else ""))
    return 1 if faults else 0


def check_backend(backend: BackendConfig) -> DeviceHealth:
    """One bounded read-only call to the configured back-end (or the embedded simulator)."""
    import httpx

    name = f"backend ({backend.kind})"
    if not backend.base_url:
        return DeviceHealth(name, HealthLevel.OK, "embedded simulator")
    path, body, operation = _probe_request(backend)
    operation = f"{operation} at {_where(backend.base_url)}"
    started = time.monotonic()
    try:
        status, reply = asyncio.run(_post(backend, path, body))
    except (TimeoutError, httpx.TimeoutException):
        return _fault(name, f"{operation}: no answer within {backend.timeout_s:g} s")
    except Exception as exc:  # httpx transport errors: connection refused, DNS, TLS ...
        return _fault(name, f"{operation}: unreachable ({type(exc).__name__})")
    elapsed_ms = round((time.monotonic() - started) * 1000)
    metrics = {"elapsed_ms": elapsed_ms, "status": status}
    if status in (401, 403):
        detail = f"{operation}: HTTP {status}, the token was refused (check backend.token)"
        return DeviceHealth(name, HealthLevel.FAULT, detail, metrics)
    if status != 200:
        return DeviceHealth(name, HealthLevel.FAULT, f"{operation}: HTTP {status}", metrics)
    refusal = _envelope_refusal(backend.kind, reply)
    if refusal:
        return DeviceHealth(name, HealthLevel.FAULT, f"{operation}: {refusal}", metrics)
    return DeviceHealth(name, HealthLevel.OK, f"{operation} answered in {elapsed_ms} ms", metrics)


def _probe_request(backend: BackendConfig) -> tuple[str, dict[str, Any], str]:
    if backend.kind == "pms":
        return PMS_PROBE_PATH, {"pms_id": backend.pms_id}, "getAllRoomList"
    command = {
        "command": "get_order_list",
        "id": f"doctor-{secrets.token_hex(8)}",  # a command id, as the seed asks for one
        "param": {"page_size": 1, "page_index": 1},
    }
    return OA_PROBE_PATH, command, "get_order_list"


async def _post(backend: BackendConfig, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    """The HTTP status and decoded JSON (None if not JSON), all within the timeout."""
    import httpx

    headers = {
        "Accept": "application/json",
        "Authorization": f"Bearer {backend.token.get_secret_value()}",
    }
    async with httpx.AsyncClient(base_url=backend.base_url, timeout=backend.timeout_s) as client:
        # httpx bounds each phase; wait_for bounds the whole call (a server trickling bytes).
        response = await asyncio.wait_for(
            client.post(path, json=body, headers=headers), backend.timeout_s
        )
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, None


def _envelope_refusal(kind: str, reply: Any) -> str | None:
    """Why the reply's envelope is not a success, or None. Only the code is quoted: the
    message may echo the request."""
    if not isinstance(reply, dict):
        return "the reply is not a JSON object"
    if kind == "pms":
        code = reply.get("error_code")
        return None if code in (0, "0") else f"error_code {code}"
    if reply.get("success") is True:
        return None
    return f"success is not true (code {reply.get('code')})"


def _where(base_url: str) -> str:
    """Host and port only: a URL may carry credentials (user:password@) or a query."""
    import httpx

    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL:
        return "an invalid base_url"
    return f"{url.host}:{url.port}" if url.port else url.host


def _fault(name: str, detail: str) -> DeviceHealth:
    return DeviceHealth(name, HealthLevel.FAULT, detail)


def _worst(levels: Iterable[HealthLevel]) -> HealthLevel:
    order = [HealthLevel.OK, HealthLevel.WARNING, HealthLevel.FAULT]
    return max(levels, key=order.index, default=HealthLevel.OK)
