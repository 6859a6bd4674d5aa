"""``kiosk run`` sounds its cues: the guest service's channel is followed by the sound (the
camera reads a code: the code-read cue; it is no booking code: the error cue)."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import pytest

from hardware.qr.render import render_qr
from tests.kiosk_process import kiosk_on_display

pytestmark = pytest.mark.timeout(120)


def test_kiosk_run_plays_the_cues_of_what_the_camera_reads(tmp_path: Path) -> None:
    image = tmp_path / "code.png"
    cv2.imwrite(str(image), render_qr("no booking of this hotel", module_px=6))
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
[devices.camera]
source = "files"
paths = ["{image}"]
[devices.audio]
driver = "sim"
[sound]
night_start = "00:00"
night_end = "00:00"
"""
    )
    argv = [sys.executable, "-m", "kiosk.cli", "run", "--config", str(config)]
    with kiosk_on_display(argv, tmp_path) as kiosk:
        read = kiosk.read_until("audio (sim): cue:code_read")
        assert read, "".join(kiosk.lines)
        assert kiosk.read_until("audio (sim): cue:error"), "".join(kiosk.lines)
        output = kiosk.stop(20)
    assert kiosk.proc.returncode == 0 and "Traceback" not in output, output
