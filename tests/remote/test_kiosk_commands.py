"""The real kiosk's agent (the runtime on the embedded simulator and simulated devices,
as ``kiosk run`` assembles it) against a real mosquitto: its telemetry and events, every
command's round trip from ``kiosk fleet``'s operator client, and forged, replayed and
stale commands refused and logged.

The screenshot hook is a stand-in here (no Kivy window in this process): the hook's
round trip is what is tested; ``kiosk run`` passes the window's."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import tomllib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from kiosk.config import load_config
from kiosk.journeys.messages import Action, ActionKind, Step, View
from kiosk.journeys.result import JourneyResult
from kiosk.remote.kiosk import RemoteKiosk
from kiosk.remote.operator import FleetOperator
from kiosk.remote.schemas import Event, Reply, Telemetry, topic
from kiosk.remote.signing import kiosk_secret, sign_command
from kiosk.runtime import Runtime, start_runtime
from kiosk.service import GuestService
from tests.remote.conftest import FLEET_KEY, Mosquitto

pytestmark = pytest.mark.timeout(90)
KIOSK = "lobby-1"
PNG = b"\x89PNG\r\n\x1a\n-a-stand-in"


@dataclass
class Kiosk:
    runtime: Runtime
    remote: RemoteKiosk
    service: GuestService
    config_path: Path
    restarts: list[float] = field(default_factory=list)


@pytest.fixture
async def kiosk(broker: Mosquitto, tmp_path: Path) -> AsyncIterator[Kiosk]:
    path = tmp_path / "kiosk.toml"
    path.write_text(
        f"""# the kiosk's config, with a comment that must survive a remote edit
[state]
dir = "{tmp_path / "state"}"

[journey]
#view_timeout_s = 60

[remote]
brokers = ["{broker.url}"]
kiosk_id = "{KIOSK}"
site = "hotel-a"
command_secret = "{kiosk_secret(FLEET_KEY, KIOSK).decode()}"
telemetry_interval_s = 1
""",
        encoding="utf-8",
    )
    runtime = await start_runtime(load_config(path), path)
    await runtime.start_background()
    remote = runtime.remote
    assert remote is not None
    service = GuestService(runtime.journey, remote.channel(), runtime.health_sources())
    made = Kiosk(runtime, remote, service, path)

    async def screenshot() -> bytes:
        return PNG

    remote.attach(service, restart=lambda: made.restarts.append(time.monotonic()),
                  screenshot=screenshot)  # fmt: skip
    service.on_result = remote.journey_ended
    try:
        yield made
    finally:
        await runtime.aclose()


async def next_of(operator: FleetOperator, kind: Any, within_s: float = 10) -> Any:
    async with asyncio.timeout(within_s):
        async for message in operator.messages((kind,)):
            if message.kiosk == KIOSK:
                return message.payload
    raise AssertionError("stream ended")


async def send(operator: FleetOperator, command: str, **args: Any) -> Reply:
    [answer] = await operator.send([KIOSK], command, args, timeout_s=20)
    assert answer.reply is not None, f"no reply to {command}"
    assert answer.authentic, "the kiosk's reply is signed with its secret"
    return answer.reply


async def test_telemetry_reports_the_kiosk(kiosk: Kiosk, operator: FleetOperator) -> None:
    kiosk.service.channel.views.put_nowait(View(Step.SCAN, "scan.title"))
    telemetry: Telemetry = await next_of(operator, "telemetry")
    telemetry = await next_of(operator, "telemetry")  # one after the screen was seen
    assert telemetry.site == "hotel-a" and telemetry.screen == "scan"
    assert telemetry.in_service is True and telemetry.uptime_s > 0 and telemetry.version
    devices = {d.device: d for d in telemetry.devices}
    assert set(devices) == {
        "payment (sim)", "dispenser", "encoder", "printer", "audio", "reject_bin", "lost_keys"
    }  # fmt: skip
    assert devices["dispenser"].metrics["stock"] == "ok"
    assert devices["dispenser"].metrics["reject_bin_full"] is False
    assert devices["dispenser"].metrics["cards_left"] == 100
    assert devices["printer"].metrics["paper"] == "ok"
    assert telemetry.alerts == []
    assert telemetry.outbox.queued == 0 and telemetry.outbox.dead == 0
    assert telemetry.backend_reachable is True


async def test_events_count_journeys_without_guest_data(
    kiosk: Kiosk, operator: FleetOperator
) -> None:
    await operator.subscribe(("event",))  # before the events are made
    events = operator.messages(("event",))
    kiosk.remote.journey_ended(JourneyResult("checked_in", (), "en", cards=("04A1B2C3",)))
    kiosk.remote.journey_ended(JourneyResult("refused:payment_declined", (), "en"))
    kiosk.service.channel.actions.put_nowait(Action(ActionKind.CHOOSE, "front_desk"))
    kiosk.service.set_out_of_service(True)
    seen: list[Event] = []
    async with asyncio.timeout(10):
        async for message in events:
            seen.append(message.payload)  # type: ignore[arg-type]
            if message.payload.event == "out_of_service":  # type: ignore[attr-defined]
                break
    kinds = [e.event for e in seen]
    assert kinds[:3] == ["checkin_completed", "checkin_failed", "staff_requested"], kinds
    assert seen[1].detail == {"outcome": "refused:payment_declined"}
    assert "04A1B2C3" not in json.dumps([e.model_dump(mode="json") for e in seen])
    telemetry: Telemetry = await next_of(operator, "telemetry")
    assert telemetry.journeys_today.completed == 1
    assert telemetry.journeys_today.refused == {"payment_declined": 1}
    assert telemetry.in_service is False


async def test_every_command_round_trip(kiosk: Kiosk, operator: FleetOperator) -> None:
    reply = await send(operator, "maintenance", on=True)
    assert (reply.status, reply.result) == ("ok", {"in_service": False})
    assert not kiosk.service.in_service
    assert (await send(operator, "maintenance", on=False)).result == {"in_service": True}

    reply = await send(operator, "set_config", key="journey.view_timeout_s", value=45)
    assert reply.status == "ok" and reply.result["restart_required"] is True
    text = kiosk.config_path.read_text()
    assert tomllib.loads(text)["journey"]["view_timeout_s"] == 45
    assert "# the kiosk's config, with a comment" in text
    assert load_config(kiosk.config_path).journey.view_timeout_s == 45
    bad = await send(operator, "set_config", key="journey.view_timeout_s", value=-1)
    assert bad.status == "error" and "journey.view_timeout_s" in bad.error
    secret = await send(operator, "set_config", key="backend.token", value="x")
    assert secret.status == "error" and "secret" in secret.error
    assert tomllib.loads(kiosk.config_path.read_text())["journey"]["view_timeout_s"] == 45

    reply = await send(operator, "reload_config")
    assert reply.status == "ok" and reply.result == {"valid": True, "restarting": True}
    reply = await send(operator, "restart")
    assert reply.status == "ok" and reply.result == {"restarting": True}
    for _ in range(50):  # each once the broker has its reply (the operator may see it first)
        if len(kiosk.restarts) == 2:
            break
        await asyncio.sleep(0.02)
    assert len(kiosk.restarts) == 2

    reply = await send(operator, "self_test")
    assert reply.status == "ok" and reply.result["overall"] in ("ok", "warning")
    assert any(c["device"].startswith("backend") for c in reply.result["checks"])

    assert (await send(operator, "print_test")).result == {"printed": True}
    receipts = list((kiosk.runtime.config.state.dir / "receipts").iterdir())
    assert receipts, "the simulated printer kept the test receipt"

    reply = await send(operator, "outbox_list")
    assert reply.status == "ok" and reply.result["entries"] == []
    assert (await send(operator, "outbox_retry")).result == {"made_due": 0}

    reply = await send(operator, "screenshot")
    assert base64.b64decode(reply.result["png_base64"]) == PNG

    logging.getLogger("kiosk.test").warning("guest phone +86 138 0013 8000 at the desk")
    reply = await send(operator, "log_tail", lines=50)
    lines = reply.result["lines"]
    assert any("guest phone <digits> at the desk" in line for line in lines), lines
    assert not any("138 0013" in line for line in lines)

    unknown = await send(operator, "rm_rf")
    assert unknown.status == "error" and "allow-list" in unknown.error
    bad_args = await send(operator, "maintenance", on="maybe")
    assert bad_args.status == "error" and bad_args.error.startswith("bad arguments")


async def test_a_hook_the_kiosk_lacks_is_not_available(
    kiosk: Kiosk, operator: FleetOperator
) -> None:
    kiosk.remote.attach(kiosk.service)  # no restart, no screen (``kiosk play``)
    for command in ("restart", "reload_config", "screenshot"):
        reply = await send(operator, command)
        assert reply.status == "not_available", command


async def publish_raw(broker: Mosquitto, payload: dict[str, Any]) -> None:
    async with aiomqtt.Client("127.0.0.1", broker.port) as client:
        await client.publish(topic("fleet/v1", KIOSK, "cmd"), json.dumps(payload), qos=1)


async def replies_to(operator: FleetOperator, request_ids: set[str]) -> dict[str, Reply]:
    found: dict[str, Reply] = {}
    async with asyncio.timeout(10):
        async for message in operator.messages(("reply",)):
            reply = message.payload
            if isinstance(reply, Reply) and reply.request_id in request_ids:
                found[reply.request_id] = reply
                if set(found) == request_ids:
                    return found
    raise AssertionError("stream ended")


async def test_forged_replayed_and_stale_commands_are_refused(
    kiosk: Kiosk, broker: Mosquitto, operator: FleetOperator, caplog: pytest.LogCaptureFixture
) -> None:
    secret = kiosk_secret(FLEET_KEY, KIOSK)
    wrong_key = kiosk_secret("not-the-fleet-key", KIOSK)
    forged = sign_command(wrong_key, KIOSK, "maintenance", {"on": True})
    stale = sign_command(secret, KIOSK, "maintenance", {"on": True},
                         now_ms=int((time.time() - 120) * 1000))  # fmt: skip
    genuine = sign_command(secret, KIOSK, "outbox_retry", {})
    other = sign_command(kiosk_secret(FLEET_KEY, "lobby-2"), "lobby-2", "maintenance", {"on": True})
    tampered = genuine.model_copy(update={"command": "maintenance", "args": {"on": True},
                                          "request_id": "tampered-1"})  # fmt: skip
    await operator.subscribe(("reply",))
    listening = asyncio.create_task(
        replies_to(operator, {forged.request_id, stale.request_id, genuine.request_id,
                              tampered.request_id})
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="kiosk.remote"):
        for command in (forged, stale, genuine, tampered, other):
            await publish_raw(broker, command.model_dump(mode="json"))
        replies = await listening
        # The same genuine command again: a replay.
        listening = asyncio.create_task(replies_to(operator, {genuine.request_id}))
        await publish_raw(broker, genuine.model_dump(mode="json"))
        replayed = (await listening)[genuine.request_id]
    assert replies[genuine.request_id].status == "ok"
    assert (replies[forged.request_id].status, replies[forged.request_id].error) == (
        "refused", "bad signature")  # fmt: skip
    assert replies[stale.request_id].error == "stale"
    assert replies[tampered.request_id].error == "bad signature"
    assert (replayed.status, replayed.error) == ("refused", "replayed")
    assert kiosk.service.in_service, "no refused command took the kiosk out of service"
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 5, refusals  # forged, stale, tampered, another kiosk's, replay
    assert any("signed for another kiosk" in line for line in refusals)


async def test_a_device_fault_is_an_event_and_an_alert(
    kiosk: Kiosk, operator: FleetOperator
) -> None:
    await operator.subscribe(("event",))
    events = operator.messages(("event",))
    kiosk.runtime.devices.dispenser.inner.refill(0)  # type: ignore[attr-defined]
    async with asyncio.timeout(10):  # the agent reads the devices every second here
        async for message in events:
            event = message.payload
            if isinstance(event, Event) and event.event == "device_fault":
                break
    assert event.detail == {"device": "dispenser", "detail": "card stock empty"}
    for _ in range(50):
        status = (await operator.statuses(quiet_s=0.2))[KIOSK]
        if status.alerts:
            break
    assert status.alerts == ["dispenser: card stock empty"]


async def test_call_staff_is_a_fleet_event_without_guest_data(
    kiosk: Kiosk, operator: FleetOperator
) -> None:
    """The guest's "Call staff" on any screen, wired as ``kiosk run`` wires it."""
    kiosk.service.on_staff_requested = kiosk.remote.staff_requested
    kiosk.service.channel.views.put_nowait(View(Step.PAYMENT, "payment.title"))  # followed
    await operator.subscribe(("event",))
    events = operator.messages(("event",))
    kiosk.service.request_staff()
    async with asyncio.timeout(10):
        async for message in events:
            event: Event = message.payload  # type: ignore[assignment]
            if event.event == "staff_requested":
                break
    assert event.detail == {"screen": "payment"}
    devices = {d.device: d for d in kiosk.service.health()}
    assert devices["staff"].detail.startswith("requested at")
