"""``kiosk run`` on a config file: starts the UI over the journey, stops cleanly on SIGTERM."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from screens.virtual_display import NoVirtualDisplay, virtual_display

pytestmark = pytest.mark.timeout(90)


def test_missing_config_is_a_clear_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "run", "--config", str(tmp_path / "none.toml")],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 2
    assert "no config file" in done.stderr


def test_runs_on_its_config_and_stops_on_sigterm(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f"""
[backend]
base_url = ""
[state]
dir = "{tmp_path / "state"}"
[ui]
fullscreen = false
width = 540
height = 960
"""
    )
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(virtual_display(540, 960))
        except NoVirtualDisplay as exc:
            pytest.skip(str(exc))
        proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk.cli", "run", "--config", str(config)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
            env={**os.environ, "KIVY_HOME": str(tmp_path / "kivy")},
        )  # fmt: skip
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "kiosk in service" in line:
                break
        assert any("kiosk in service" in line for line in lines), "".join(lines)
        time.sleep(1)  # the window is up and the journey waits on the attract screen
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=20)
        output = "".join(lines) + rest
        assert proc.returncode == 0, output
        assert "Traceback" not in output
    # Everything that must survive a restart is in the state directory.
    state = tmp_path / "state"
    assert {"kiosk.sqlite", "sim.sqlite", "payment-sim.sqlite"} <= {p.name for p in state.iterdir()}
