"""The scan screen's live preview with its guide frame, and what a camera fault does."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.journeys.messages import Action, ActionKind, Choice, Step, View
from tests.ui.driver import UiDriver

pytestmark = pytest.mark.timeout(60)

SCAN = View(
    Step.SCAN, "scan.title", "scan.message", choices=(Choice("type", "scan.type_reference"),)
)


def red_frame() -> np.ndarray:
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:, :, 2] = 200  # BGR: red
    frame[:40, :, :] = 255  # a white band at the top row of the image
    return frame


async def test_preview_shows_the_newest_frame_inside_a_guide(ui: UiDriver) -> None:
    from screens import theme

    ui.feed.frame = red_frame()
    screen = await ui.show(SCAN)
    preview = screen.ids.preview
    await ui.until(lambda: preview.texture is not None)
    shot = ui.crop(await ui.screenshot("scan"), preview)
    w, h = shot.size
    r, g, b = shot.getpixel((w // 2, h // 2))
    assert r > 150 and g < 60 and b < 60, "the frame's red is shown"
    # The image keeps its 4:3 proportion and is not upside down: white band at the top.
    image_h = min(h, w * 480 / 640)
    top = int((h - image_h) / 2)
    assert shot.getpixel((w // 2, top + 5)) == (255, 255, 255)
    side = min(w, h) * preview.guide_fraction
    guide_left = int((w - side) / 2)
    guide = [
        rgb for rgb in (shot.getpixel((x, h // 2)) for x in range(guide_left - 4, guide_left + 5))
    ]
    expected = tuple(round(c * 255) for c in theme.NORMAL.guide[:3])
    assert any(all(abs(a - e) < 8 for a, e in zip(px, expected, strict=True)) for px in guide)

    ui.feed.frame = None  # no newer frame: the last one stays
    await ui.frames(4)
    assert preview.texture is not None


async def test_camera_fault_blanks_the_preview_but_not_the_screen(ui: UiDriver) -> None:
    ui.feed.frame = red_frame()
    screen = await ui.show(SCAN)
    preview = screen.ids.preview
    await ui.until(lambda: preview.texture is not None)
    ui.feed.error = OSError("camera unplugged")
    await ui.until(lambda: preview.texture is None)
    calls = ui.feed.calls
    await ui.frames(5)
    assert ui.feed.calls == calls  # polling stopped, no log flood
    await ui.tap(ui.button("Type the booking reference instead"))
    assert await ui.action() == Action(ActionKind.CHOOSE, "type")


async def test_malformed_frame_is_refused(ui: UiDriver) -> None:
    ui.feed.frame = np.zeros((10, 10), np.float32)
    screen = await ui.show(SCAN)
    await ui.until(lambda: ui.feed.calls > 0)
    await ui.frames(2)
    assert screen.ids.preview.texture is None


async def test_leaving_the_scan_screen_forgets_the_frame(ui: UiDriver) -> None:
    ui.feed.frame = red_frame()
    screen = await ui.show(SCAN)
    await ui.until(lambda: screen.ids.preview.texture is not None)
    await ui.show(View(Step.BUSY, "busy.title", "busy.looking_up", timeout_s=None))
    assert screen.ids.preview.texture is None
    calls = ui.feed.calls
    await ui.frames(5)
    assert ui.feed.calls == calls
