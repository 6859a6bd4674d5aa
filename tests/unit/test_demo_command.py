"""``kiosk demo``: scripted guests in the real UI on a virtual display, transcript and
screenshots in the output folder, and a non-zero exit when a journey ends otherwise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from kiosk.demo import builtin_scripts

pytestmark = pytest.mark.timeout(180)
SCRIPTS = {path.stem: path for path in builtin_scripts()}


def demo(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "demo", "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=170,
        env={"PATH": "/usr/bin:/bin"},  # no DISPLAY: the headless path
    )


def test_builtin_scripts_cover_every_demo_arrival() -> None:
    """Each demo booking is played by a script: the check-in case named after it, or a
    script of another journey that scans it ("@case")."""
    from kiosk.sim.demo import ARRIVALS

    scanned = {
        action["scan"][1:]
        for path in SCRIPTS.values()
        for action in json.loads(path.read_text(encoding="utf-8"))["actions"]
        if str(action.get("scan", "")).startswith("@")
    }
    assert {a.case for a in ARRIVALS} <= set(SCRIPTS) | scanned


def test_headless_demo_screens_transcript_and_exit_code(tmp_path: Path) -> None:
    done = demo(
        tmp_path, "--script", str(SCRIPTS["prepaid"]), "--script", str(SCRIPTS["malformed_qr"])
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 of 2 journeys ended as expected" in done.stdout
    transcript = json.loads((tmp_path / "transcript.json").read_text())
    prepaid, malformed = transcript["journeys"]
    assert (prepaid["outcome"], malformed["outcome"]) == ("checked_in", "refused:malformed_code")
    assert prepaid["screens"][0] == "attract" and prepaid["screens"][-1] == "done"
    # One screenshot per view shown, each a real rendering (not a blank window).
    assert len(prepaid["screenshots"]) >= len(prepaid["screens"])
    for shot in prepaid["screenshots"] + malformed["screenshots"]:
        image = Image.open(tmp_path / shot).convert("L")
        assert image.size == (1080, 1920)
        assert ImageStat.Stat(image).stddev[0] > 5
    assert (tmp_path / "manifest.json").exists()
    assert list((tmp_path / "receipts").glob("*.png"))  # the printed receipt


def test_a_journey_that_ends_otherwise_fails_the_demo(tmp_path: Path) -> None:
    script = json.loads(SCRIPTS["cancelled"].read_text())
    script["expect"]["outcome"] = "checked_in"  # the guest of a cancelled booking cannot
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(script))
    done = demo(tmp_path / "out", "--no-ui", "--script", str(wrong))
    assert done.returncode == 1
    assert "0 of 1 journeys ended as expected" in done.stdout
    assert "FAIL" in done.stdout
