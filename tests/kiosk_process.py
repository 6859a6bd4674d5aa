"""A kiosk command in its own process, on a virtual display, read until it says a line."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from screens.virtual_display import NoVirtualDisplay, virtual_display


@dataclass
class KioskProcess:
    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def read_until(self, marker: str, seconds: float = 60) -> str:
        """The first output line holding ``marker`` ("" when the process ended or time ran
        out first); every line read so far is in ``lines``."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            if marker in line:
                return line
        return ""

    def stop(self, seconds: float = 30) -> str:
        """SIGTERM, as systemd stops the kiosk; the whole output once it has exited."""
        self.proc.send_signal(signal.SIGTERM)
        rest, _ = self.proc.communicate(timeout=seconds)
        return "".join(self.lines) + rest


@contextlib.contextmanager
def kiosk_on_display(argv: list[str], cwd: Path) -> Iterator[KioskProcess]:
    """``argv`` run in ``cwd`` on a 540x960 virtual display (skips without one), killed
    if the test leaves it running."""
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(virtual_display(540, 960))
        except NoVirtualDisplay as exc:
            pytest.skip(str(exc))
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd,
            env={**os.environ, "KIVY_HOME": str(cwd / "kivy")},
        )  # fmt: skip
        stack.callback(proc.kill)
        yield KioskProcess(proc)
