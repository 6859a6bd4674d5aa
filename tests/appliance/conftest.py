"""The appliance's install script, run for real with ``--root DIR --dry-run``."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SYSTEMD = REPO / "systemd"
INSTALL = SYSTEMD / "install.sh"
# Raspberry Pi OS Bookworm's kernel command line, as the imager writes it
PI_CMDLINE = (
    "console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 "
    "fsck.repair=yes rootwait quiet splash\n"
)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def commands(self) -> list[str]:
        """The system commands install.sh would have run."""
        return [line[2:] for line in self.stdout.splitlines() if line.startswith("+ ")]


Installer = Callable[..., Run]


@pytest.fixture
def target(tmp_path: Path) -> Path:
    """A fresh Raspberry Pi OS Lite, as far as install.sh can see it."""
    root = tmp_path / "pi"
    (root / "boot/firmware").mkdir(parents=True)
    (root / "boot/firmware/cmdline.txt").write_text(PI_CMDLINE)
    return root


@pytest.fixture
def install(target: Path) -> Installer:
    """Run install.sh with ``--root target --dry-run`` and the given options."""

    def run(*options: str, env: dict[str, str] | None = None, check: bool = True) -> Run:
        done = subprocess.run(
            ["bash", str(INSTALL), "--root", str(target), "--dry-run", *options],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **(env or {})},
        )
        if check:
            assert done.returncode == 0, done.stderr
        return Run(done.returncode, done.stdout, done.stderr)

    return run
