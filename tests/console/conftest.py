"""The console's tests: a real mosquitto (``tests.remote``'s broker, module-scoped here so
that one fleet and one console serve a module's tests), ``kiosk fleet simulate`` and
``kiosk console`` as subprocesses, and headless chromium driven by selenium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kiosk.remote.console.accounts import add_user
from tests.remote.conftest import FLEET_KEY, MOSQUITTO, Mosquitto, free_port

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "out" / "console"  # the browser's screenshots (gitignored)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
OPERATOR = ("olga", "operator-pass-1")
VIEWER = ("vic", "viewer-pass-22")


def kiosk_cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "kiosk.cli", *args]


@pytest.fixture(scope="module")
def module_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    if not Path(MOSQUITTO).exists():
        pytest.skip("mosquitto is not installed (.ci/bootstrap installs it)")
    mosquitto = Mosquitto(tmp_path_factory.mktemp("broker"))
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


def write_config(folder: Path, broker: Mosquitto, port: int, telemetry_s: float = 2) -> Path:
    config = folder / "console.toml"
    config.write_text(
        f'[remote]\nbrokers = ["{broker.url}"]\nfleet_key = "{FLEET_KEY}"\n'
        f"telemetry_interval_s = {telemetry_s}\n\n"
        f'[console]\nport = {port}\naccounts_file = "{folder / "accounts.json"}"\n'
        f'audit_log = "{folder / "audit.jsonl"}"\n'
        "secure_cookies = false  # plain HTTP on loopback: tests only\n"
    )
    return config


@dataclass
class Stack:
    url: str
    config: Path
    audit: Path


def start(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def wait_until_listening(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            httpx.get(url + "/login", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"the console did not listen: {log.read_text()}")


@pytest.fixture(scope="module")
def fleet_200(
    module_broker: Mosquitto, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """200 simulated kiosks on 10 sites and a console reading them, with an operator and a
    viewer account."""
    folder = tmp_path_factory.mktemp("console")
    port = free_port()
    config = write_config(folder, module_broker, port)
    add_user(folder / "accounts.json", OPERATOR[0], "operator", OPERATOR[1])  # CLI: test_accounts
    add_user(folder / "accounts.json", VIEWER[0], "viewer", VIEWER[1])
    fleet = start(
        kiosk_cli("fleet", "simulate", "--config", str(config), "--count", "200"),
        folder / "simulate.log",
    )
    console = start(kiosk_cli("console", "--config", str(config)), folder / "console.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_listening(url, console, folder / "console.log")
        yield Stack(url, config, folder / "audit.jsonl")
    finally:
        stop(console)
        stop(fleet)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        why = "chromium and chromium-driver are not installed (.ci/bootstrap installs them)"
        if os.environ.get("CI"):  # CI installs them: missing there is a failure, not a skip
            pytest.fail(why)
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1280,1000"):  # fmt: skip
        options.add_argument(flag)
    # The explicit driver keeps selenium from looking for one on the network.
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


def keep_screenshot(driver: object, name: str) -> Path:
    """The browser's own screenshot of the page, kept as a test artefact."""
    path = ARTEFACTS / f"{name}.png"
    driver.save_screenshot(str(path))  # type: ignore[attr-defined]
    return path
