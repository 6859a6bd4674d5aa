"""A real ``pcscd`` with the vsmartcard vpcd reader, started (and stopped) by the tests.

pcscd has one socket per machine (``/run/pcscd/pcscd.comm``), so only one can run: the
tests start their own with a private reader.conf.d that puts vpcd on a free port, and
skip (saying why) if pcscd or vpcd is not installed or another pcscd is running.
vpcd gives two readers, "Virtual PCD 00 00" on ``port`` and "Virtual PCD 00 01" on
``port + 1``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hardware.vpcd_card import VirtualCardSlot

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
PCSCD_PID = Path("/run/pcscd/pcscd.pid")
PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
READER = "Virtual PCD 00 00"
SECOND_READER = "Virtual PCD 00 01"
START_TIMEOUT_S = 10.0
# pcscd asks vpcd whether a card is present this often (PCSCLITE_STATUS_POLL_RATE).
PRESENCE_POLL_S = 0.4


@dataclass(frozen=True)
class Pcscd:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def slot(self, index: int = 0) -> VirtualCardSlot:
        return VirtualCardSlot(self.port + index)


def missing_parts() -> str | None:
    """Why the PC/SC hardware tests cannot run here, or None if they can."""
    if shutil.which("pcscd") is None:
        return "pcscd is not installed (apt-get install pcscd; .ci/bootstrap does)"
    if not VPCD_DRIVER.exists():
        return "vsmartcard-vpcd is not installed (apt-get install vsmartcard-vpcd)"
    if os.geteuid() != 0 and not os.access(PCSCD_SOCKET.parent, os.W_OK):
        return "pcscd needs to write /run/pcscd (run the tests as root, as CI does)"
    other = _running_pcscd()
    if other is not None:
        return f"another pcscd (pid {other}) is running; the tests start their own"
    return None


def _running_pcscd() -> int | None:
    try:
        pid = int(PCSCD_PID.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def _free_port_pair() -> int:
    """A port p with p and p + 1 free on all interfaces (vpcd binds 0.0.0.0)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("", 0))
            port = probe.getsockname()[1]
        if port >= 65535:
            continue
        with contextlib.ExitStack() as stack:
            try:
                for p in (port, port + 1):
                    s = stack.enter_context(socket.socket())
                    s.bind(("", p))
            except OSError:
                continue
            return port
    raise RuntimeError("no pair of free ports")


def _reader_listed() -> bool:
    # Not a probe connection to vpcd's port: vpcd would take it for a card.
    from smartcard.Exceptions import SmartcardException
    from smartcard.System import readers

    try:
        return READER in [str(r) for r in readers()]
    except SmartcardException:
        return False


@contextlib.contextmanager
def running_pcscd(workdir: Path) -> Iterator[Pcscd]:
    """Start ``pcscd -f`` with vpcd on a free port; stop it on exit."""
    reason = missing_parts()
    if reason:
        pytest.skip(reason)
    port = _free_port_pair()
    confdir = workdir / "reader.conf.d"
    confdir.mkdir(parents=True, exist_ok=True)
    (confdir / "vpcd").write_text(
        f'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:{port}\n'
        f"LIBPATH {VPCD_DRIVER}\nCHANNELID {port}\n"
    )
    log = workdir / "pcscd.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["pcscd", "--foreground", "--config", str(confdir)], stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (PCSCD_SOCKET.exists() and _reader_listed()):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"pcscd did not start: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        yield Pcscd(process, port, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def let_pcscd_see_it_gone() -> None:
    """Wait out pcscd's presence poll after a card left, as a guest would take longer than
    that to bring it back; a card back within one poll is never seen to have left."""
    time.sleep(2 * PRESENCE_POLL_S)


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``condition()`` until it is true; fail the test after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(0.02)
