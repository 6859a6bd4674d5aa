"""The redesigned screens on the portrait panel, the landscape panel and a desktop's 540x960
demo window: each screenshot shows something, and nothing overflows (no label's text wider
than its box, nothing outside the window, no body squeezed below its content)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from tests.ui.driver import UiDriver
from tests.ui.layout_checks import SIZES, VIEWS, not_blank, overflows, shown

pytestmark = pytest.mark.timeout(240)

LAYOUT = {"portrait": (1080, 1920), "landscape": (1920, 1080), "desktop": (1080, 1920)}


@pytest.mark.parametrize("size", list(SIZES))
async def test_redesigned_screens_fit_every_panel(ui: UiDriver, size: str) -> None:
    langs = ["en", "zh_Hant"] if size == "desktop" else ["en"]
    async with ui.window(*SIZES[size]):
        for lang in langs:
            ui.app.lang = lang
            for name, view in VIEWS.items():
                await ui.show(view)
                shot = await ui.screenshot(f"{size}-{lang}-{name}")
                assert shot.size == SIZES[size]
                assert ui.app.surface.size == pytest.approx(LAYOUT[size], abs=2)
                assert not_blank(shot), f"{size} {lang} {name}: blank screenshot"
                assert overflows(ui) == [], f"{size} {lang} {name}"


@pytest.mark.parametrize("size", ["portrait", "desktop"])
async def test_large_text_fits_too(ui: UiDriver, size: str) -> None:
    ui.app.high_contrast = True  # large text and high contrast
    async with ui.window(*SIZES[size]):
        for name, view in VIEWS.items():
            await ui.show(view)
            assert not_blank(await ui.screenshot(f"large-{size}-{name}")), name
            assert overflows(ui) == [], f"large text {size} {name}"


async def test_the_desktop_window_keeps_the_top_bar_whole(ui: UiDriver) -> None:
    """The 540x960 demo window shows the portrait layout scaled down: each language button
    keeps its full size relative to the panel, never a sliver."""
    from screens.widgets.language_bar import LanguageBar

    async with ui.window(540, 960):
        await ui.show(VIEWS["summary"])
        bar = next(w for w in ui.walk() if isinstance(w, LanguageBar) and shown(w))
        for button in bar.children:
            left, bottom = button.to_window(button.x, button.y)
            right, top = button.to_window(button.right, button.top)
            assert right - left >= 120 and top - bottom >= 45, button.text  # 1/2 of the panel's
        await ui.tap(ui.button("简体中文"))  # touches land on the scaled button
        assert ui.app.lang == "zh_Hans"


async def test_room_without_a_floor_reads_as_a_room(ui: UiDriver) -> None:
    await ui.show(VIEWS["room"])
    assert ui.button("Room 205")
    assert ui.button("Room 312, floor 3")


async def test_money_is_a_right_aligned_card_value(ui: UiDriver) -> None:
    screen = await ui.show(VIEWS["summary"])
    cards = list(reversed(screen.ids.details.children))
    money = cards[-1]
    assert money.text == "Amount due: 1,352.00 CNY"
    value = money.ids.value_line
    assert value.text == "1,352.00 CNY" and value.halign == "right"
    assert [card.icon for card in cards] == [
        "person", "arrival", "departure", "nights", "room", "guests", "payment"
    ]  # fmt: skip


async def test_receipt_columns_line_up_on_the_right(ui: UiDriver) -> None:
    screen = await ui.show(VIEWS["receipt"])
    shot = await ui.screenshot("receipt")
    values = [row.children[0] for row in screen.ids.rows.children if len(row.children) == 2]
    assert len(values) == 6  # the label-and-value rows
    rights = set()
    for value in values:
        crop = ui.crop(shot, value)
        ink = ImageChops.difference(crop, Image.new("RGB", crop.size, crop.getpixel((0, 0))))
        box = ink.convert("L").point(lambda p: 255 if p > 60 else 0).getbbox()
        assert box is not None, f"{value.text!r} not drawn"
        rights.add(value.to_window(value.x, 0)[0] + box[2])
    assert max(rights) - min(rights) <= 3, f"the values' right edges differ: {sorted(rights)}"


async def test_the_alternative_theme_from_the_configuration(
    kivy_display: str, ui_clock: Any, tmp_path: Path
) -> None:
    """``[ui.theme]``: the jade preset (dark) with the property's own name and primary colour."""
    from kiosk.config import ThemeConfig
    from screens import theme
    from tests.ui.driver import start_app

    brand = ThemeConfig(preset="jade", hotel_name="Synthetic Bay Inn", primary="#7A1F5C")
    async with start_app(ui_clock, tmp_path, brand=brand) as ui:
        screen = await ui.show(VIEWS["summary"])
        shot = await ui.screenshot("jade-summary")
        assert not_blank(shot) and overflows(ui) == []
        assert any(w.text == "Synthetic Bay Inn" for w in ui.walk() if hasattr(w, "text"))
        header = screen.frame.header
        x, y = header.to_window(header.right - 5, header.y + 5)
        assert shot.getpixel((int(x), int(shot.height - y))) == (0x7A, 0x1F, 0x5C)
        x, y = screen.to_window(screen.right - 5, screen.height // 2)
        dark = tuple(round(c * 255) for c in theme.build_theme(brand).palette.background[:3])
        assert shot.getpixel((int(x), int(shot.height - y))) == dark
        await ui.show(VIEWS["attract"])
        assert not_blank(await ui.screenshot("jade-attract"))
