"""A real ``pcscd`` with the vsmartcard vpcd reader, started (and stopped) by the tests.

The test pcscd has a socket directory of its own, so it runs next to the machine's pcscd
(and other test runs) and needs no root: pcscd 1.9 writes its socket and pid file to the
fixed ``/run/pcscd``, so it runs in a private mount namespace (an unprivileged user
namespace for a non-root user) where a private directory is mounted over ``/run/pcscd``.
The tests' client library finds that socket through ``PCSCLITE_CSOCK_NAME``; a pcscd
that honours the variable itself is told the same path. pcscd is looked up in
``/usr/sbin`` too, which a non-root user's PATH often lacks.

vpcd sits on a free port, in a private reader.conf.d; it gives two readers, "Virtual PCD
00 00" on ``port`` and "Virtual PCD 00 01" on ``port + 1``. Missing parts skip the tests,
saying which; under CI (``CI`` set, as CI services do) they fail instead.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hardware.vpcd_card import VirtualCardSlot

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
SYSTEM_RUN_DIR = Path("/run/pcscd")  # where pcscd 1.9 puts its socket and pid file
# One socket path per test process: the client library reads PCSCLITE_CSOCK_NAME once.
RUN_DIR = Path(tempfile.gettempdir()) / f"kiosk-pcscd-{os.getpid()}"
SOCKET = RUN_DIR / "pcscd.comm"
READER = "Virtual PCD 00 00"
SECOND_READER = "Virtual PCD 00 01"
START_TIMEOUT_S = 10.0
# pcscd asks vpcd whether a card is present this often (PCSCLITE_STATUS_POLL_RATE).
PRESENCE_POLL_S = 0.4
SBIN_PATH = "/usr/local/sbin:/usr/sbin:/sbin"


@dataclass(frozen=True)
class Pcscd:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def slot(self, index: int = 0) -> VirtualCardSlot:
        return VirtualCardSlot(self.port + index)


def pcscd_binary() -> str | None:
    return shutil.which("pcscd", path=f"{os.environ.get('PATH', '')}:{SBIN_PATH}")


def missing_parts() -> str | None:
    """Why the PC/SC hardware tests cannot run here, or None if they can."""
    if pcscd_binary() is None:
        return f"pcscd is not installed in PATH or {SBIN_PATH} (apt-get install pcscd)"
    if not VPCD_DRIVER.exists():
        return "vsmartcard-vpcd is not installed (apt-get install vsmartcard-vpcd)"
    if not SYSTEM_RUN_DIR.is_dir():
        return f"{SYSTEM_RUN_DIR} does not exist to mount the private socket directory over"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed: pcscd cannot get its own /run/pcscd"
    if not _private_mounts_allowed():
        return (
            "no private mount namespace here (unshare --user --mount refused; "
            "sysctl user.max_user_namespaces / kernel.unprivileged_userns_clone)"
        )
    return None


def unavailable(reason: str) -> None:
    """Skip, saying why; under CI a missing part is a failure, never a silent skip."""
    if os.environ.get("CI"):
        pytest.fail(f"PC/SC tests cannot run under CI: {reason}")
    pytest.skip(reason)


def _unshare() -> list[str]:
    """A private mount namespace; a non-root user needs a user namespace to get one."""
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    return ["unshare", *user, "--mount", "--propagation", "private"]


@functools.cache
def _private_mounts_allowed() -> bool:
    probe = subprocess.run(
        [*_unshare(), "mount", "--bind", tempfile.gettempdir(), str(SYSTEM_RUN_DIR)],
        capture_output=True,
        timeout=10,
    )
    return probe.returncode == 0


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
    """Start ``pcscd -f`` on its own socket directory with vpcd on a free port; stop it on
    exit."""
    reason = missing_parts()
    if reason:
        unavailable(reason)
    port = _free_port_pair()
    confdir = workdir / "reader.conf.d"
    confdir.mkdir(parents=True, exist_ok=True)
    (confdir / "vpcd").write_text(
        f'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:{port}\n'
        f"LIBPATH {VPCD_DRIVER}\nCHANNELID {port}\n"
    )
    RUN_DIR.mkdir(mode=0o700, exist_ok=True)
    os.environ["PCSCLITE_CSOCK_NAME"] = str(SOCKET)  # the client library, and pcscd 2.x
    # The mount lives as long as pcscd (exec): nothing to undo when it stops.
    command = [
        *_unshare(), "sh", "-c", 'mount --bind "$0" "$1" && shift && exec "$@"',
        str(RUN_DIR), str(SYSTEM_RUN_DIR),
        str(pcscd_binary()), "--foreground", "--config", str(confdir),
    ]  # fmt: skip
    log = workdir / "pcscd.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (SOCKET.exists() and _reader_listed()):
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
        shutil.rmtree(RUN_DIR, ignore_errors=True)


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
