"""``kiosk run`` on a config file: starts the UI over the journey, stops cleanly on SIGTERM."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.kiosk_process import kiosk_on_display

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
    argv = [sys.executable, "-m", "kiosk.cli", "run", "--config", str(config)]
    with kiosk_on_display(argv, tmp_path) as kiosk:
        assert kiosk.read_until("kiosk in service"), "".join(kiosk.lines)
        time.sleep(1)  # the window is up and the journey waits on the attract screen
        output = kiosk.stop(20)
        assert kiosk.proc.returncode == 0, output
        assert "Traceback" not in output
    # Everything that must survive a restart is in the state directory.
    state = tmp_path / "state"
    assert {"kiosk.sqlite", "sim.sqlite", "payment-sim.sqlite"} <= {p.name for p in state.iterdir()}
