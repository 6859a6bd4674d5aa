"""sd_notify against a real NOTIFY_SOCKET the test binds: the protocol itself, then the real
Kivy app in a subprocess on a virtual display — READY after the first frame, WATCHDOG pings
while the UI runs, none while its frame loop is blocked."""

from __future__ import annotations

import itertools
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.appliance.notify import Notifier
from tests.appliance.conftest import REPO

pytestmark = pytest.mark.timeout(120)

WATCHDOG_USEC = 400_000  # pings every 0.2 s
INTERVAL_S = WATCHDOG_USEC / 2_000_000


class NotifySocket:
    """What systemd listens on: a unix datagram socket, here in the abstract namespace."""

    def __init__(self) -> None:
        self.address = f"@kiosk-test-{uuid.uuid4().hex}"
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind("\0" + self.address[1:])
        self.received: list[tuple[float, str]] = []  # (CLOCK_MONOTONIC, message)

    def receive_until(self, done: object, timeout: float) -> None:
        """Collect messages until ``done()`` is true or ``timeout`` seconds pass."""
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:  # type: ignore[operator]
            self._sock.settimeout(max(0.01, min(0.2, deadline - time.monotonic())))
            try:
                data = self._sock.recv(4096)
            except TimeoutError:
                continue
            self.received.append((time.monotonic(), data.decode()))

    def times(self, message: str) -> list[float]:
        return [at for at, text in self.received if message in text.splitlines()]

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def notify_socket() -> Iterator[NotifySocket]:
    sock = NotifySocket()
    yield sock
    sock.close()


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    from screens.virtual_display import NoVirtualDisplay, virtual_display

    try:
        with virtual_display(540, 960) as name:
            yield name
    except NoVirtualDisplay as exc:
        pytest.skip(str(exc))


def systemd_env(display: str, notify: NotifySocket, tmp_path: Path) -> dict[str, str]:
    """The environment systemd gives a Type=notify service with WatchdogSec=."""
    env = {k: v for k, v in os.environ.items() if k not in ("WATCHDOG_PID", "KIOSK_STATE__DIR")}
    return env | {
        "DISPLAY": display,
        "NOTIFY_SOCKET": notify.address,
        "WATCHDOG_USEC": str(WATCHDOG_USEC),
        "KIVY_HOME": str(tmp_path / "kivy"),
        "PYTHONPATH": str(REPO),
    }


# --- the protocol ----------------------------------------------------------------------


def test_notifier_sends_to_a_path_and_to_the_abstract_namespace(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(path))
        assert Notifier(str(path)).ready(status="attract screen")
        assert listener.recv(100) == b"READY=1\nSTATUS=attract screen"
    sock = NotifySocket()
    try:
        assert Notifier(sock.address).watchdog()
        sock.receive_until(lambda: sock.received, 5)
        assert sock.times("WATCHDOG=1")
    finally:
        sock.close()


def test_outside_systemd_nothing_is_sent_and_nothing_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    alone = Notifier.from_env({})
    assert alone.watchdog_interval_s is None and not alone.ready()
    with caplog.at_level(logging.WARNING):
        assert not Notifier("@nobody-listens-here-" + uuid.uuid4().hex).ready()
    assert "sd_notify READY failed" in caplog.text


def test_the_watchdog_interval_is_half_the_timeout_and_only_for_its_process() -> None:
    env = {"NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "30000000"}
    assert Notifier.from_env(env).watchdog_interval_s == 15.0
    assert Notifier.from_env(env | {"WATCHDOG_PID": str(os.getpid())}).watchdog_interval_s == 15.0
    assert Notifier.from_env(env | {"WATCHDOG_PID": "1"}).watchdog_interval_s is None
    assert Notifier.from_env({"WATCHDOG_USEC": "30000000"}).watchdog_interval_s is None


# --- the real app ----------------------------------------------------------------------


def test_kiosk_run_is_ready_with_its_first_frame_then_feeds_the_watchdog(
    display: str, notify_socket: NotifySocket, tmp_path: Path
) -> None:
    """`kiosk run` as kiosk.service starts it (embedded simulator, simulated devices)."""
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[state]\ndir = "{tmp_path / "state"}"\n'
        "[ui]\nfullscreen = false\nwidth = 540\nheight = 960\n"
    )
    started = time.monotonic()
    kiosk = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "run", "--config", str(config)],
        env=systemd_env(display, notify_socket, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        notify_socket.receive_until(lambda: notify_socket.times("READY=1"), 60)
        assert notify_socket.times("READY=1"), "no READY=1 within 60 s"
        ready = notify_socket.times("READY=1")[0]
        notify_socket.receive_until(lambda: len(notify_socket.times("WATCHDOG=1")) >= 5, 20)
    finally:
        kiosk.send_signal(signal.SIGTERM)
        _, stderr = kiosk.communicate(timeout=60)
    assert kiosk.returncode == 0, stderr[-2000:]
    pings = notify_socket.times("WATCHDOG=1")
    assert len(pings) >= 5 and pings[0] > ready
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    assert min(gaps) > INTERVAL_S / 2  # paced by the interval, not every frame
    print(f"READY {ready - started:.2f} s after start; ping gaps {min(gaps):.2f}-{max(gaps):.2f} s")


def test_no_watchdog_ping_while_the_ui_loop_is_blocked(
    display: str, notify_socket: NotifySocket, tmp_path: Path
) -> None:
    run_s, block_s = 1.5, 2.0
    app = subprocess.Popen(
        [sys.executable, "-m", "tests.appliance.blocking_ui", str(run_s), str(block_s)],
        env=systemd_env(display, notify_socket, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        notify_socket.receive_until(lambda: app.poll() is not None, 90)
    finally:
        stdout, stderr = app.communicate(timeout=30)
    assert app.returncode == 0, stderr[-2000:]
    times = json.loads(stdout.strip().splitlines()[-1])

    (ready,) = notify_socket.times("READY=1")
    assert ready >= times["first_draw"]  # sent once the first frame is drawn, not before
    pings = notify_socket.times("WATCHDOG=1")
    blocked_from, blocked_to = times["blocked_from"], times["blocked_to"]
    before = [t for t in pings if t < blocked_from]
    # A ping sent just before the block may be read a little later by this (busy) process;
    # a loop that kept running would send about 9 in the 2 s.
    during = [t for t in pings if blocked_from + INTERVAL_S < t < blocked_to]
    after = [t for t in pings if t > blocked_to]
    assert len(before) >= 3, pings
    assert during == [], f"pings while the UI loop was blocked: {during}"
    assert len(after) >= 2, pings  # the loop runs again: so do the pings


def test_out_of_order_screen_is_ready_and_logs_its_reason(
    display: str, notify_socket: NotifySocket, tmp_path: Path
) -> None:
    screen = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "out-of-order", "--reason", "start limit hit"],
        env=systemd_env(display, notify_socket, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        notify_socket.receive_until(lambda: len(notify_socket.times("WATCHDOG=1")) >= 2, 60)
    finally:
        screen.send_signal(signal.SIGTERM)
        _, stderr = screen.communicate(timeout=30)
    assert notify_socket.times("READY=1") and len(notify_socket.times("WATCHDOG=1")) >= 2
    assert "kiosk out of order: start limit hit" in stderr
