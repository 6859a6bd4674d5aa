"""The kiosk serves guests while its broker is gone: ``kiosk play`` (the kiosk as
``kiosk run`` assembles it, the fleet agent included) checks a guest in with one broker
URL refusing connections and another accepting TCP but never answering MQTT, and again
with the broker killed while the agent was connected to it. And the agent never holds
the loop up while it tries those brokers, events pouring in."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kiosk.config import RemoteConfig
from kiosk.demo import builtin_scripts
from kiosk.remote.agent import FleetAgent
from kiosk.remote.simulate import SimKiosk, SimPort
from tests.remote.conftest import Mosquitto, free_port

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def silent_broker() -> Iterator[int]:
    """A port that accepts connections and never says a word (a hung broker)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1]
    server.close()
    for conn in held:
        conn.close()


def play(
    tmp_path: Path, brokers: list[str], on_connected: Callable[[], object] | None = None
) -> tuple[dict[str, object], float]:
    """``kiosk play`` of the prepaid guest; ``on_connected`` runs once the agent is connected."""
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f"""
[state]
dir = "{tmp_path / "state"}"
[qr]
signing_key = "qr-key-of-the-fleet-tests"
[journey]
timezone = "Asia/Shanghai"
[devices.payment]
sim_delay_factor = 0
[devices.dispenser]
sim_delay_scale = 0
[remote]
brokers = {json.dumps(brokers)}
kiosk_id = "lobby-play"
reconnect_min_s = 0.1
reconnect_max_s = 0.5
""",
        encoding="utf-8",
    )
    script = next(path for path in builtin_scripts() if path.stem == "prepaid")
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "play", "--config", str(config), "--script",
         str(script), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    log = []
    assert process.stderr is not None
    for line in process.stderr:
        log.append(line)
        if on_connected is not None and "fleet agent connected" in line:
            on_connected()
    out = process.stdout.read() if process.stdout else ""
    assert process.wait(100) == 0, out + "".join(log)
    if on_connected is not None:
        assert any("fleet agent connected" in line for line in log), log
    return json.loads(out), time.monotonic() - started


def test_a_guest_checks_in_while_no_broker_answers(tmp_path: Path, silent_broker: int) -> None:
    refused = f"mqtt://127.0.0.1:{free_port()}"
    report, took = play(tmp_path, [refused, f"mqtt://127.0.0.1:{silent_broker}"])
    assert report["outcome"] == "checked_in", report
    assert took < 60


def test_a_guest_checks_in_after_the_broker_died(tmp_path: Path, broker: Mosquitto) -> None:
    """The agent connects, then the broker is killed while the guest is being served."""

    def kill_broker() -> None:
        assert broker.process is not None
        broker.process.kill()

    report, _ = play(tmp_path, [broker.url], on_connected=kill_broker)
    assert report["outcome"] == "checked_in", report
    assert broker.process is not None and broker.process.poll() is not None


async def test_the_agent_never_holds_the_loop_up(silent_broker: int) -> None:
    brokers = [f"mqtt://127.0.0.1:{free_port()}", f"mqtt://127.0.0.1:{silent_broker}"]
    config = RemoteConfig(brokers=brokers, telemetry_interval_s=1, reconnect_min_s=0.05,
                          reconnect_max_s=0.2)  # fmt: skip
    kiosk = SimKiosk("lobby-lag", "device_fault", random.Random(1))
    agent = FleetAgent(config, SimPort(kiosk), kiosk_id="lobby-lag", secret=None, health_poll_s=0.1)
    agent.start()
    worst = 0.0
    try:
        loop = asyncio.get_running_loop()
        end = loop.time() + 3
        while loop.time() < end:
            agent.emit("staff_requested", screen="payment")  # queued, never awaited
            before = loop.time()
            await asyncio.sleep(0.005)
            worst = max(worst, loop.time() - before - 0.005)
    finally:
        await agent.stop()
    # A connect on the loop would hold it for the silent broker's whole 10 s timeout.
    assert worst < 0.25, f"the loop was held {worst * 1000:.0f} ms"
    assert not agent.connected
