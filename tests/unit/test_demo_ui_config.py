"""``kiosk demo`` honours ``[ui]`` from ``--config FILE`` and the environment: the landscape
panel's settings give landscape screenshots (issue 12, Deliver 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from kiosk.cli.demo import _demo_base
from kiosk.demo import builtin_scripts

pytestmark = pytest.mark.timeout(180)
MALFORMED = next(path for path in builtin_scripts() if path.stem == "malformed_qr")  # 4 views


def test_headless_demo_in_landscape_from_the_environment(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "demo", "--headless", "--out", str(tmp_path),
         "--script", str(MALFORMED)],
        capture_output=True,
        text=True,
        timeout=170,
        # no DISPLAY: the virtual display, at the configured panel's size
        env={"PATH": "/usr/bin:/bin", "KIOSK_UI__WIDTH": "1920", "KIOSK_UI__HEIGHT": "1080"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    [journey] = json.loads((tmp_path / "transcript.json").read_text())["journeys"]
    assert journey["screenshots"]
    for shot in journey["screenshots"]:
        assert Image.open(tmp_path / shot).size == (1920, 1080)


def test_the_demo_takes_only_the_config_file_s_ui(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KIOSK_UI__WIDTH", raising=False)
    monkeypatch.delenv("KIOSK_UI__HEIGHT", raising=False)
    path = tmp_path / "kiosk.toml"
    path.write_text(
        '[ui]\nwidth = 1920\nheight = 1080\n\n[backend]\nbase_url = "https://pms.example"\n'
    )
    config = _demo_base(path)
    assert (config.ui.width, config.ui.height) == (1920, 1080)
    assert config.backend.base_url != "https://pms.example"  # a production back-end stays out
    assert (_demo_base(None).ui.width, _demo_base(None).ui.height) == (1080, 1920)
