"""``kiosk fleet`` as an operator runs it, against ``kiosk fleet simulate`` on a real
mosquitto: list (table and JSON), send to a kiosk and to a site, screenshot, watch,
secret; and the exit codes of a refusal and of no broker."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from kiosk.remote.signing import kiosk_secret
from tests.remote.conftest import FLEET_KEY, Mosquitto, free_port

pytestmark = pytest.mark.timeout(90)


def fleet(*argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "fleet", *argv],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


@pytest.fixture
def config(tmp_path: Path, broker: Mosquitto) -> Path:
    path = tmp_path / "operator.toml"
    path.write_text(
        f'[remote]\nbrokers = ["{broker.url}"]\nfleet_key = "{FLEET_KEY}"\n'
        "telemetry_interval_s = 1\n"
    )
    return path


@pytest.fixture
def simulated(config: Path) -> Iterator[None]:
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "fleet", "simulate", "--config", str(config),
         "--count", "4", "--sites", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            listed = fleet("list", "--config", str(config), "--json", "--quiet", "0.3")
            if listed.returncode == 0 and len(json.loads(listed.stdout)) == 4:
                break
            time.sleep(0.2)
        yield
    finally:
        process.kill()
        process.wait(10)


def test_list_send_screenshot_watch(config: Path, simulated: None, tmp_path: Path) -> None:
    listed = json.loads(fleet("list", "--config", str(config), "--json", "--quiet", "0.3").stdout)
    assert [s["kiosk"] for s in listed] == ["sim-0001", "sim-0002", "sim-0003", "sim-0004"]
    assert {s["site"] for s in listed} == {"site-01", "site-02"}
    assert {s["state"] for s in listed} == {"online"}
    table = fleet("list", "--config", str(config), "--site", "site-02", "--quiet", "0.3").stdout
    assert "sim-0002" in table and "sim-0001" not in table and "2 kiosks, 2 online" in table

    one = fleet("send", "--config", str(config), "sim-0001", "maintenance", "on=true")
    assert one.returncode == 0, one.stderr
    assert one.stdout.strip() == 'sim-0001: ok {"in_service": false}'

    site = fleet("send", "--config", str(config), "--site", "site-02", "self_test", "--json")
    assert site.returncode == 0, site.stderr
    answers = json.loads(site.stdout)
    assert [a["kiosk"] for a in answers] == ["sim-0002", "sim-0004"]
    assert all(a["authentic"] and a["reply"]["status"] == "ok" for a in answers)

    shot = tmp_path / "sim-0003.png"
    done = fleet("screenshot", "--config", str(config), "sim-0003", "-o", str(shot))
    assert done.returncode == 0, done.stderr
    assert Image.open(io.BytesIO(shot.read_bytes())).format == "PNG"

    watched = fleet("watch", "--config", str(config), "--telemetry", "--count", "3")
    lines = [json.loads(line) for line in watched.stdout.splitlines()]
    assert len(lines) == 3 and all(line["v"] == 1 and line["kiosk"] for line in lines)

    unknown = fleet("send", "--config", str(config), "sim-0001", "format_disk")
    assert unknown.returncode == 1 and "allow-list" in unknown.stdout


def test_a_wrong_fleet_key_is_refused(config: Path, simulated: None, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.toml"
    wrong.write_text(config.read_text().replace(FLEET_KEY, "a-guess"))
    done = fleet("send", "--config", str(wrong), "sim-0001", "restart")
    assert done.returncode == 1
    assert done.stdout.strip() == "sim-0001: refused (reply NOT signed by the kiosk) bad signature"


def test_secret_and_no_broker(config: Path) -> None:
    secret = fleet("secret", "--config", str(config), "lobby-7")
    assert secret.stdout.strip() == kiosk_secret(FLEET_KEY, "lobby-7").decode()
    nobody = fleet("list", "--config", str(config), "--broker", f"mqtt://127.0.0.1:{free_port()}")
    assert nobody.returncode == 2 and "no broker answered" in nobody.stderr
