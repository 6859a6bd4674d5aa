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
    assert ui.button("Back").color == list(theme.HIGH_CONTRAST.button_text)
    assert title.font_size == pytest.approx(before_size * theme.LARGE_TEXT_SCALE)
    contrast = await ui.screenshot("contrast")
    assert close(contrast.getpixel((empty_spot[0], 40)), rgb(theme.HIGH_CONTRAST.background))

    await ui.tap(ui.button("Large text"))
    assert not ui.app.high_contrast
    assert title.color == list(theme.NORMAL.text) and title.font_size == before_size
    assert ui.no_action()  # a display setting, not a guest decision


# --- WCAG 2.2 AA, computed from the theme tokens ------------------------------------------

BRAND_COLOURS = ["#FFFF00", "#777777", "#FFFFFF", "#000000", "#E4002B", "#00A3E0"]


@pytest.fixture
def theme(kivy_display: str):  # Kivy is imported only once Xvfb runs (conftest)
    from screens import theme

    return theme


def failing_pairs(theme, palette) -> list[str]:
    failures = []
    for fg, bg, minimum in theme.CONTRAST_PAIRS:
        # a translucent background (the overlay) is seen over the screen's background
        background = theme.over(getattr(palette, bg), palette.background)
        ratio = theme.contrast(getattr(palette, fg), background)
        if ratio < minimum:
            failures.append(f"{fg} on {bg}: {ratio:.2f} < {minimum}")
    return failures


def test_the_contrast_formula_matches_wcag(theme) -> None:
    assert theme.contrast((0, 0, 0, 1), (1, 1, 1, 1)) == pytest.approx(21)
    assert theme.contrast(theme.hex_colour("#777777"), (1, 1, 1, 1)) == pytest.approx(
        4.48, abs=0.01
    )


def test_every_shipped_theme_meets_wcag_aa(theme) -> None:
    from kiosk.config import ThemeConfig

    palettes = {name: theme.build_theme(ThemeConfig(preset=name)).palette for name in theme.PRESETS}
    palettes["high_contrast"] = theme.HIGH_CONTRAST
    assert len(palettes) == 3
    for name, palette in palettes.items():
        assert failing_pairs(theme, palette) == [], name


@pytest.mark.parametrize("base", ["light", "dark"])
@pytest.mark.parametrize("colour", BRAND_COLOURS)
def test_any_brand_colour_keeps_text_readable(theme, base: str, colour: str) -> None:
    """A property's own colours, however pale or loud, cannot make a text unreadable."""
    from kiosk.config import ThemeConfig

    palette = theme.build_theme(ThemeConfig(primary=colour, accent=colour, base=base)).palette
    assert failing_pairs(theme, palette) == []


def test_white_text_over_the_attract_photo_is_readable(theme) -> None:
    """The scrim over the photo: even over a white pixel, white text keeps 4.5:1."""
    worst = theme.over(theme.SCRIM, (1, 1, 1, 1))
    assert theme.contrast((1, 1, 1, 1), worst) >= 4.5
