"""A kiosk's retained status: "online" while its agent runs, "offline" from the broker's
last will when the agent's process is killed (kill -9: no goodbye), well within the
keep-alive; a broker restarted mid-run gets the status again from the reconnected agent;
a clean stop says "offline" itself."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.remote.agent import FleetAgent
from kiosk.remote.operator import connect
from kiosk.remote.simulate import SimKiosk, SimPort
from tests.remote.conftest import FLEET_KEY, Mosquitto, operator_config

pytestmark = pytest.mark.timeout(60)
KEEPALIVE_S = 5


async def wait_for_state(broker: Mosquitto, kiosk: str, state: str, within_s: float) -> float:
    """Seconds until ``kiosk``'s retained status reads ``state``."""
    started = time.monotonic()
    while time.monotonic() - started < within_s:
        async with connect(operator_config(broker)) as operator:
            status = (await operator.statuses(quiet_s=0.2, timeout_s=2)).get(kiosk)
        if status is not None and status.state == state:
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"{kiosk} not {state} within {within_s} s")


def simulate(broker: Mosquitto, tmp_path: Path) -> subprocess.Popen[bytes]:
    config = tmp_path / "fleet.toml"
    config.write_text(
        f'[remote]\nbrokers = ["{broker.url}"]\nfleet_key = "{FLEET_KEY}"\n'
        f"keepalive_s = {KEEPALIVE_S}\ntelemetry_interval_s = 1\n"
    )
    return subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "fleet", "simulate", "--config", str(config),
         "--count", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def test_kill_9_leaves_the_last_will_offline(broker: Mosquitto, tmp_path: Path) -> None:
    agents = simulate(broker, tmp_path)
    try:
        await wait_for_state(broker, "sim-0002", "online", 20)
        async with connect(operator_config(broker)) as operator:
            online = await operator.statuses(quiet_s=0.3)
        states = {k: s.state for k, s in online.items()}
        assert states == {"sim-0001": "online", "sim-0002": "online"}
        assert online["sim-0001"].site == "site-01" and online["sim-0001"].since is not None
        os.kill(agents.pid, signal.SIGKILL)
        agents.wait(5)
        took = await wait_for_state(broker, "sim-0001", "offline", KEEPALIVE_S * 1.5 + 2)
        assert took < KEEPALIVE_S * 1.5
        async with connect(operator_config(broker)) as operator:
            offline = await operator.statuses(quiet_s=0.3)
        assert {s.state for s in offline.values()} == {"offline"}
        assert offline["sim-0002"].in_service is None and offline["sim-0002"].alerts == []
    finally:
        if agents.poll() is None:
            agents.kill()
            agents.wait(5)


async def test_a_clean_stop_says_offline(broker: Mosquitto, tmp_path: Path) -> None:
    agents = simulate(broker, tmp_path)
    try:
        await wait_for_state(broker, "sim-0001", "online", 20)
        agents.send_signal(signal.SIGINT)  # Ctrl-C: the agents stop and say so
        assert agents.wait(10) == 0
        # No keep-alive to wait for: the status is "offline" at once.
        assert await wait_for_state(broker, "sim-0001", "offline", 2) < 2
    finally:
        if agents.poll() is None:
            agents.kill()
            agents.wait(5)


async def test_the_broker_restarted_mid_run_gets_the_status_back(broker: Mosquitto) -> None:
    kiosk = SimKiosk("k-restart", "card_stock_low", random.Random(1))
    config = operator_config(
        broker, kiosk_id="k-restart", site="s1", telemetry_interval_s=1,
        reconnect_min_s=0.2, reconnect_max_s=1,
    )  # fmt: skip
    agent = FleetAgent(config, SimPort(kiosk), kiosk_id="k-restart", secret=None)
    agent.start()
    try:
        await wait_for_state(broker, "k-restart", "online", 10)
        broker.stop()  # no persistence: the broker forgets every retained status
        await asyncio.sleep(1.0)
        assert not agent.connected
        broker.start()
        await wait_for_state(broker, "k-restart", "online", 10)
        async with connect(operator_config(broker)) as operator:
            status = (await operator.statuses(quiet_s=0.3))["k-restart"]
        assert status.in_service is True
        assert status.alerts == ["dispenser: card stock low"]
    finally:
        await agent.stop()
