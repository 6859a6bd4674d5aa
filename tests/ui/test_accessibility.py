"""Accessibility of every screen (issue 12, Deliver 4): touch targets of at least 9 mm on
the configured panel, large text that fits its boxes, and the wheelchair-height layout that
keeps every control in the lower two thirds of a portrait panel.

Each step is shown with the rich views of test_layout where it has one, else with a plain
view of its title and two choices (test_screens' way)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kiosk.config import UiConfig
from kiosk.journeys.messages import Step
from tests.ui.driver import UiDriver
from tests.ui.layout_checks import SIZES, VIEWS, every_view, not_blank, overflows, shown

pytestmark = pytest.mark.timeout(240)

MIN_TARGET_MM = 9.0


def buttons(ui: UiDriver) -> Iterator[tuple[Any, float, float, float, float]]:
    """Every visible button of the current screen with its box in window pixels
    (left, bottom, right, top)."""
    from kivy.uix.behaviors import ButtonBehavior

    for widget in ui.app.manager.current_screen.walk(restrict=True):
        if isinstance(widget, ButtonBehavior) and shown(widget):
            left, bottom = widget.to_window(widget.x, widget.y)
            right, top = widget.to_window(widget.right, widget.top)
            if right - left > 0 and top - bottom > 0:
                yield widget, left, bottom, right, top


def label(widget: Any) -> str:
    return getattr(widget, "text", "") or getattr(widget, "icon", "") or type(widget).__name__


def test_the_default_panel_is_21_5_inches_at_1080x1920() -> None:
    ui = UiConfig()
    assert (ui.width, ui.height, ui.panel_diagonal_in) == (1080, 1920, 21.5)
    assert ui.px_per_mm == pytest.approx(4.034, abs=0.001)  # 0.248 mm a pixel
    assert UiConfig(panel_diagonal_in=43).px_per_mm == pytest.approx(ui.px_per_mm / 2)


@pytest.mark.parametrize("panel", [(1080, 1920), (1920, 1080)], ids=["portrait", "landscape"])
async def test_every_button_is_at_least_9_mm(ui: UiDriver, panel: tuple[int, int]) -> None:
    config = UiConfig(width=panel[0], height=panel[1])
    window = SIZES["portrait" if panel[0] < panel[1] else "landscape"]
    # test_layout draws the landscape panel at 9/16 scale: measure in the panel's pixels
    to_panel = panel[0] / window[0]
    minimum = MIN_TARGET_MM * config.px_per_mm
    seen, small = 0, []
    async with ui.window(*window):
        for name, view in every_view():
            await ui.show(view)
            for widget, left, bottom, right, top in buttons(ui):
                seen += 1
                w, h = (right - left) * to_panel, (top - bottom) * to_panel
                if min(w, h) < minimum:
                    small.append(f"{name}: {label(widget)!r} {w:.0f}x{h:.0f} px")
    assert small == [], f"under {MIN_TARGET_MM} mm ({minimum:.0f} px)"
    assert seen >= 3 * len(Step)  # each screen's choices, language bar and header controls


@pytest.mark.parametrize(
    ("size", "lang"),
    # the 540x960 desktop window: test_layout.py, every view variant; CJK lines are taller
    # than Latin ones at the same size
    [("portrait", "en"), ("landscape", "en"), ("portrait", "zh_Hans"), ("landscape", "zh_Hant")],
)  # fmt: skip
async def test_large_text_fits_on_every_screen(ui: UiDriver, size: str, lang: str) -> None:
    ui.app.high_contrast = True  # the large-text / high-contrast mode
    ui.app.lang = lang
    assert ui.app.font_scale > 1
    async with ui.window(*SIZES[size]):
        for name, view in every_view():
            await ui.show(view)
            assert not_blank(await ui.screenshot(f"large-{size}-{lang}-{name}")), name
            assert overflows(ui) == [], f"large text {size} {lang} {name}"


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large-text"])
async def test_low_reach_keeps_every_control_in_the_lower_two_thirds(
    ui: UiDriver, large: bool
) -> None:
    from kivy.core.window import Window

    ui.app.high_contrast = large
    ui.app.low_reach = True
    reach = Window.height * 2 / 3
    high = []
    for name, view in every_view():
        await ui.show(view)
        assert not_blank(await ui.screenshot(f"low-reach-{large}-{name}")), name
        tops = [(label(w), top) for w, _l, _b, _r, top in buttons(ui)]
        assert tops, name
        high += [f"{name}: {text!r} top at {top:.0f} > {reach:.0f}" for text, top in tops
                 if top > reach + 1]  # fmt: skip
        assert overflows(ui) == [], f"low reach {name}"
    assert high == []


async def test_without_low_reach_the_header_controls_sit_at_the_top(ui: UiDriver) -> None:
    """The check above can fail: the default layout has controls in the top third."""
    from kivy.core.window import Window

    await ui.show(VIEWS["summary"])
    assert max(top for *_box, top in buttons(ui)) > Window.height * 2 / 3
