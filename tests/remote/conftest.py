"""A real mosquitto on loopback for the fleet tests, started from a generated config on a
free port (``.ci/bootstrap`` installs it), and an operator connected to it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from kiosk.config import RemoteConfig
from kiosk.remote.operator import FleetOperator, connect

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
FLEET_KEY = "fleet-key-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mosquitto:
    """One broker process; ``stop`` and ``start`` again keep its port (a restart)."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.config = folder / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "log_dest stderr\n"
        )
        self.log = folder / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [MOSQUITTO, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.port}: {self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    if not Path(MOSQUITTO).exists():
        pytest.skip("mosquitto is not installed (.ci/bootstrap installs it)")
    mosquitto = Mosquitto(tmp_path)
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


def operator_config(broker: Mosquitto, **changes: object) -> RemoteConfig:
    return RemoteConfig(brokers=[broker.url], fleet_key=FLEET_KEY, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def operator(broker: Mosquitto) -> AsyncIterator[FleetOperator]:
    async with connect(operator_config(broker)) as connected:
        yield connected
