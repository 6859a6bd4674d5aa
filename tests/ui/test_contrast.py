"""Large-text / high-contrast mode: one toggle on every screen changes colours and sizes."""

from __future__ import annotations

import pytest

from kiosk.journeys.messages import Choice, Step, View
from tests.ui.driver import UiDriver

pytestmark = pytest.mark.timeout(60)


def rgb(color: tuple[float, ...]) -> tuple[int, ...]:
    return tuple(round(c * 255) for c in color[:3])


def close(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return all(abs(x - y) <= 3 for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("step", [Step.SCAN, Step.REFUSAL])
async def test_toggle_changes_colours_and_sizes(ui: UiDriver, step: Step) -> None:
    from screens import theme

    screen = await ui.show(
        View(step, "refusal.cancelled.title", choices=(Choice("x", "common.back"),))
    )
    title = screen.frame.title
    empty_spot = (ui.app.root.width - 5, ui.app.root.height // 2)  # right margin, mid height
    before_size = title.font_size
    normal = await ui.screenshot("normal")
    if step is not Step.SCAN:  # the scan screen's middle is the camera's
        assert close(normal.getpixel((empty_spot[0], empty_spot[1])), rgb(theme.NORMAL.background))

    await ui.tap(ui.button("Large text"))
    assert ui.app.high_contrast
    assert title.color == list(theme.HIGH_CONTRAST.text)
    assert ui.button("Back").background_color == list(theme.HIGH_CONTRAST.button)
    assert title.font_size == pytest.approx(before_size * theme.LARGE_TEXT_SCALE)
    contrast = await ui.screenshot("contrast")
    assert close(contrast.getpixel((empty_spot[0], 40)), rgb(theme.HIGH_CONTRAST.background))

    await ui.tap(ui.button("Large text"))
    assert not ui.app.high_contrast
    assert title.color == list(theme.NORMAL.text) and title.font_size == before_size
    assert ui.no_action()  # a display setting, not a guest decision
