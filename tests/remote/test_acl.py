"""The broker ACL of docs/fleet.md, as written there, on a real mosquitto with passwords:
a kiosk publishes its own status and answers commands; it cannot speak for another kiosk
nor read its commands; an operator reads everything and sends commands."""

from __future__ import annotations

import asyncio
import random
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest
from pydantic import SecretStr

from kiosk.remote.agent import FleetAgent
from kiosk.remote.operator import connect
from kiosk.remote.schemas import Status
from kiosk.remote.signing import kiosk_secret
from kiosk.remote.simulate import SimKiosk, SimPort
from tests.remote.conftest import FLEET_KEY, MOSQUITTO, Mosquitto, operator_config

pytestmark = pytest.mark.timeout(60)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "fleet.md"
PASSWORDS = {"lobby-1": "kiosk-pw", "lobby-2": "kiosk-pw", "operator": "operator-pw"}


def documented_acl() -> str:
    text = DOCS.read_text(encoding="utf-8")
    match = re.search(r"`/etc/mosquitto/kiosk.acl`:\n\n```\n(.*?)```", text, re.S)
    assert match, "docs/fleet.md shows the ACL"
    return match.group(1)


@pytest.fixture
def acl_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    if not Path(MOSQUITTO).exists():
        pytest.skip("mosquitto is not installed (.ci/bootstrap installs it)")
    passwd = tmp_path / "passwd"
    for user, password in PASSWORDS.items():
        create = ["-c"] if not passwd.exists() else []
        subprocess.run(["mosquitto_passwd", *create, "-b", str(passwd), user, password],
                       check=True, capture_output=True)  # fmt: skip
    (tmp_path / "kiosk.acl").write_text(documented_acl())
    broker = Mosquitto(tmp_path)
    broker.config.write_text(
        f"per_listener_settings false\nlistener {broker.port} 127.0.0.1\n"
        f"allow_anonymous false\npassword_file {passwd}\nacl_file {tmp_path / 'kiosk.acl'}\n"
        # Run as root (a container, CI), mosquitto would drop to its own user, which cannot
        # read the test's files; as anyone else the line has no effect.
        "persistence false\nuser root\n"
    )
    broker.start()
    yield broker
    broker.stop()


async def test_the_documented_acl(acl_broker: Mosquitto) -> None:
    kiosk_config = operator_config(
        acl_broker, kiosk_id="lobby-1", password=SecretStr("kiosk-pw"), telemetry_interval_s=1
    ).model_copy(update={"fleet_key": None})
    agent = FleetAgent(
        kiosk_config,
        SimPort(SimKiosk("lobby-1", "healthy", random.Random(1))),
        kiosk_id="lobby-1",
        secret=kiosk_secret(FLEET_KEY, "lobby-1"),
    )
    agent.start()
    operator = operator_config(acl_broker, username="operator", password=SecretStr("operator-pw"))
    try:
        async with aiomqtt.Client(
            "127.0.0.1", acl_broker.port, username="lobby-2", password="kiosk-pw",
            protocol=aiomqtt.ProtocolVersion.V5,
        ) as intruder:  # fmt: skip
            fake = Status(kiosk="lobby-1", state="offline")
            await intruder.publish("fleet/v1/lobby-1/status", fake.encode(), qos=1, retain=True)
            await intruder.subscribe("fleet/v1/lobby-1/cmd", qos=1)  # granted, never delivered
            for _ in range(50):
                async with connect(operator) as op:
                    statuses = await op.statuses(quiet_s=0.3)
                if "lobby-1" in statuses:
                    break
                await asyncio.sleep(0.1)
            assert statuses["lobby-1"].state == "online", "lobby-2 could not speak for lobby-1"
            async with connect(operator) as op:
                [answer] = await op.send(["lobby-1"], "maintenance", {"on": True}, timeout_s=10)
            assert answer.reply is not None and answer.reply.status == "ok" and answer.authentic
            with pytest.raises(TimeoutError):  # lobby-1's command never reached lobby-2
                async with asyncio.timeout(0.5):
                    await anext(aiter(intruder.messages))
    finally:
        await agent.stop()


async def test_a_wrong_password_is_refused(acl_broker: Mosquitto) -> None:
    from kiosk.remote.operator import FleetError

    config = operator_config(acl_broker, username="operator", password=SecretStr("guess"))
    with pytest.raises(FleetError, match="no broker answered"):
        async with connect(config):
            pass
