"""``kiosk play`` on a config whose device is missing: exit 2 naming it, before any guest
(a scripted guest does not wait for a device to come back, as ``kiosk run`` does)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.demo import builtin_scripts

pytestmark = pytest.mark.timeout(60)


def test_play_refuses_to_start_with_a_device_missing(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f"""
[backend]
base_url = ""
[state]
dir = "{tmp_path / "state"}"
[devices.dispenser]
driver = "crt591"
port = "{tmp_path / "ttyUSB0"}"
""",
        encoding="utf-8",
    )
    script = next(path for path in builtin_scripts() if path.stem == "prepaid")
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "play", "--config", str(config), "--script",
         str(script)],
        capture_output=True, text=True, timeout=50,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"kiosk play: devices missing: dispenser: cannot open {tmp_path}/ttyUSB0" in (
        done.stderr
    )
    assert done.stdout == ""
