"""The scan screen's "hold your code here" cue, and the demo camera that shows the code held
up (issue 12, Deliver 2: animations)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import cv2
import pytest

from kiosk.journeys.messages import Choice, Step, View
from tests.ui.driver import UiDriver
from tests.unit.test_demo_command import SCRIPTS, demo

pytestmark = pytest.mark.timeout(60)

SCAN = View(
    Step.SCAN, "scan.title", "scan.message", choices=(Choice("type", "scan.type_reference"),)
)
BUSY = View(Step.BUSY, "busy.title", "busy.looking_up", timeout_s=None)


async def test_the_cue_runs_on_the_scan_screen_and_stops_when_the_guest_leaves(
    ui: UiDriver,
) -> None:
    ui.app.timing = dataclasses.replace(ui.app.timing, scan_guide_s=0.1)
    screen = await ui.show(SCAN)
    guide = screen.ids.guide
    assert guide.animating
    # Both movements get under way: the marks pulse outwards, the phone comes closer.
    await ui.until(lambda: guide.pulse > 0.3 and guide.approach > 0.3)
    swollen = [list(mark) for mark in guide.marks]
    await ui.until(lambda: guide.pulse < 0.2)  # and the pulse comes back: a loop
    # (compared across a known change of the pulse: on a loaded machine frames come
    # seldom, and two of them can both find the pulse clamped at its peak)
    assert [list(mark) for mark in guide.marks] != swollen

    await ui.show(BUSY)
    assert not guide.animating
    assert (guide.pulse, guide.approach) == (0, 0)
    await ui.frames(4)
    assert (guide.pulse, guide.approach) == (0, 0)


async def test_a_still_cue_when_animations_are_off(ui: UiDriver) -> None:
    screen = await ui.show(SCAN)  # the tests' timing: scan_guide_s 0
    guide = screen.ids.guide
    await ui.frames(3)
    assert not guide.animating and guide.pulse == 0
    assert all(len(mark) == 6 for mark in guide.marks)  # the corner marks are drawn


def test_the_demo_scan_screen_shows_the_booking_code_held_to_the_camera(tmp_path: Path) -> None:
    run = demo(tmp_path, "--headless", "--script", str(SCRIPTS["tomorrow"]))
    assert run.returncode == 0, run.stdout + run.stderr
    transcript = json.loads((tmp_path / "transcript.json").read_text())
    (shot,) = [s for s in transcript["journeys"][0]["screenshots"] if s.endswith("-scan.png")]
    image = cv2.imread(str(tmp_path / shot))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    (held,) = [a["qr_payload"] for a in manifest["arrivals"] if a["case"] == "tomorrow"]
    # The preview is a camera image, not a black box: left of the phone, the counter top is
    # lit all along (the preview spans the panel's width at 0.62 of its height here) ...
    h, w = image.shape[:2]
    counter = image[int(h * 0.62), int(w * 0.04) : int(w * 0.15)]
    assert counter.min() > 100, counter.min()
    # ... and the code in it is the booking's own, readable off the screen.
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert text == held
