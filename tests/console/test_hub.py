"""The console's hub against a real mosquitto and in-process simulated kiosks (no
browser): it builds the fleet from the broker, a command's round trip is audited with its
reply, an unanswered one is marked, and it reconnects after the broker restarts."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from kiosk.config import ConsoleConfig, RemoteConfig
from kiosk.remote.console.audit import AuditLog
from kiosk.remote.console.hub import FleetHub, NotConnected
from kiosk.remote.schemas import Status
from kiosk.remote.simulate import run_fleet
from tests.remote.conftest import (
    FLEET_KEY,
    Mosquitto,
    broker,  # noqa: F401 (the fixture, shared with tests/remote)
)

pytestmark = pytest.mark.timeout(60)


async def until(check: Callable[[], Any], timeout: float = 15) -> Any:
    async with asyncio.timeout(timeout):
        while not (found := check()):
            await asyncio.sleep(0.05)
    return found


def audit(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_fleet_commands_and_reconnect(broker: Mosquitto, tmp_path: Path) -> None:  # noqa: F811
    remote = RemoteConfig(
        brokers=[broker.url], fleet_key=FLEET_KEY, telemetry_interval_s=1,  # type: ignore[arg-type]
        reconnect_min_s=0.1, reconnect_max_s=0.5,
    )  # fmt: skip
    console = ConsoleConfig(audit_log=tmp_path / "audit.jsonl", command_timeout_s=1)
    hub = FleetHub(remote, console, AuditLog(console.audit_log))
    fleet = asyncio.create_task(run_fleet(remote, 3, sites=2, step_s=0.5))
    reading = asyncio.create_task(hub.run())
    listener = hub.listen("sim-0002")
    try:

        def online() -> list[dict[str, Any]] | None:
            rows = hub.rows()
            everyone = len(rows) == 3 and all(r["state"] == "online" and r["screen"] for r in rows)
            return rows if everyone else None

        rows = await until(online)
        assert [r["kiosk"] for r in rows] == ["sim-0001", "sim-0002", "sim-0003"]
        assert {r["site"] for r in rows} == {"site-01", "site-02"}

        rid = await hub.send("olga", "sim-0002", "maintenance", {"on": True})
        state = hub.kiosks["sim-0002"]
        await until(lambda: state.replies and state.replies[0]["status"] == "ok")
        reply = state.replies[0]
        assert (reply["request_id"], reply["user"], reply["authentic"]) == (rid, "olga", True)
        await until(lambda: state.status and state.status.in_service is False)
        pushed = []
        while not listener.queue.empty():
            pushed.append(listener.queue.get_nowait()[0])
        assert {"row", "telemetry", "reply"} <= set(pushed)

        # A kiosk that is heard of but does not answer: marked, and audited, as no reply.
        async with aiomqtt.Client("127.0.0.1", broker.port) as ghost:
            status = Status(kiosk="ghost", state="online")
            await ghost.publish("fleet/v1/ghost/status", status.encode(), qos=1, retain=True)
        await until(lambda: "ghost" in hub.kiosks)
        lost = await hub.send("olga", "ghost", "self_test", {})
        await until(lambda: hub.kiosks["ghost"].replies[0]["status"] == "no_reply", timeout=5)

        entries = audit(console.audit_log)
        assert [(e["event"], e["request_id"], e["status"]) for e in entries if "status" in e] == [
            ("reply", rid, "ok"), ("reply", lost, "no_reply"),
        ]  # fmt: skip
        assert [e["command"] for e in entries if e["event"] == "command"] == [
            "maintenance", "self_test",
        ]  # fmt: skip

        # The broker restarts: the hub says it is not connected, refuses commands, and
        # comes back by itself.
        broker.stop()
        await until(lambda: not hub.connected)
        with pytest.raises(NotConnected):
            await hub.send("olga", "sim-0001", "self_test", {})
        broker.start()
        await until(lambda: hub.connected)
        before = hub.kiosks["sim-0001"].last_seen
        await until(lambda: hub.kiosks["sim-0001"].last_seen > before)
    finally:
        for task in (reading, fleet):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        hub.audit.close()
