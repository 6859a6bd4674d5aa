"""The redesigned screens on the portrait panel, the landscape panel and a desktop's 540x960
demo window: each screenshot shows something, and nothing overflows (no label's text wider
than its box, nothing outside the window, no body squeezed below its content)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat

from kiosk.journeys.messages import Choice, Step, View
from tests.ui.driver import UiDriver

pytestmark = pytest.mark.timeout(240)

# The landscape panel's 1920x1080 layout is drawn at 9/16 scale: GLX under Xvfb does not draw
# a window grown wider than it was first made, and the layout is the same (a window smaller
# than the panel shows the panel's layout scaled down, as the 540x960 demo window does).
SIZES = {"portrait": (1080, 1920), "landscape": (1080, 608), "desktop": (540, 960)}
LAYOUT = {"portrait": (1080, 1920), "landscape": (1920, 1080), "desktop": (1080, 1920)}
ARRIVAL = datetime(2026, 3, 4, 7, 0, tzinfo=UTC)
DEPARTURE = datetime(2026, 3, 6, 4, 0, tzinfo=UTC)
RECEIPT_ROWS = [
    "        Check-in receipt        ",
    "--------------------------------",
    "Booking                 BK-20417",
    "Guest                         S.",
    "Room                         201",
    "Arrival        04 Mar 2026 15:00",
    "--------------------------------",
    "Paid                 1,352.00 CNY",
    "Card                   **** 4242",
    "--------------------------------",
    " Thank you and enjoy your stay  ",
]
CONTINUE = Choice("continue", "common.continue", primary=True)
VIEWS = {
    "attract": View(Step.ATTRACT, "attract.title", "attract.message",
                    choices=(Choice("start", "attract.start", primary=True),)),
    "scan": View(Step.SCAN, "scan.title", "scan.message",
                 choices=(Choice("type_reference", "scan.type_reference"),
                          Choice("cancel", "common.cancel"))),
    "summary": View(
        Step.SUMMARY, "summary.title", "summary.message",
        params={"guest_name": "Synthname Oquirk", "arrival": ARRIVAL, "departure": DEPARTURE,
                "nights": 2, "rooms": "1", "guests": 2, "amount_due": Decimal("1352.00"),
                "currency": "CNY"},
        choices=(CONTINUE, Choice("not_mine", "summary.not_mine")),
    ),
    "room": View(Step.ROOM, "room.title", "room.message",
                 choices=(Choice("205", "room.option", params={"room": "205", "floor": ""}),
                          Choice("312", "room.option", params={"room": "312", "floor": 3}))),
    "payment": View(Step.PAYMENT, "payment.title", "payment.message",
                    params={"amount_due": Decimal("1352.00"), "currency": "CNY"},
                    choices=(Choice("pay", "payment.pay", primary=True),
                             Choice("cancel", "common.cancel"))),
    "key_progress": View(Step.KEY_PROGRESS, "key_progress.title", "key_progress.encode",
                         params={"room": "201", "card": 1, "cards": 2}, progress=(1, 2)),
    "receipt": View(Step.RECEIPT, "receipt.title", "receipt.on_screen",
                    params={"receipt_rows": RECEIPT_ROWS, "receipt_qr": "https://hotel.example/r/1"},
                    choices=(CONTINUE,)),
    "done": View(
        Step.DONE, "done.title", "done.message",
        params={"rooms": [{"room": "201", "floor": 2, "directions": "Lift to the left, then right",
                           "door_pin": "730519"}],
                "wifi_ssid": "Harbour-Guest", "wifi_password": "sea-breeze"},
        choices=(Choice("finish", "done.finish", primary=True),),
    ),
    "refusal": View(Step.REFUSAL, "refusal.unknown_code.title", "refusal.unknown_code.message",
                    choices=(Choice("try_again", "common.try_again", primary=True),
                             Choice("finish", "common.start_over"))),
}  # fmt: skip


def overflows(ui: UiDriver) -> list[str]:
    """What does not fit: a label's text wider than its box, a widget outside the window,
    a body smaller than what it holds."""
    from kivy.core.window import Window
    from kivy.uix.label import Label

    from screens.widgets.step_frame import StepFrame

    problems = []
    screen = ui.app.manager.current_screen
    for widget in screen.walk(restrict=True):
        if not _shown(widget):
            continue
        if isinstance(widget, Label) and widget.text and widget.width > 1:
            if widget.texture_size[0] > widget.width + 1:
                problems.append(f"{widget.text!r}: text {widget.texture_size[0]} > {widget.width}")
            x0, y0 = widget.to_window(widget.x, widget.y)
            x1, y1 = widget.to_window(widget.right, widget.top)
            if x0 < -1 or y0 < -1 or x1 > Window.width + 1 or y1 > Window.height + 1:
                problems.append(f"{widget.text!r}: outside the window ({x0:.0f},{y0:.0f})")
        if isinstance(widget, StepFrame):
            fixed = sum(c.height for c in widget.body.children if c.size_hint_y is None)
            if widget.body.height + 1 < fixed:
                problems.append(f"body {widget.body.height:.0f} px < its content {fixed:.0f} px")
            problems += _outside(widget.body)
    return problems


def _outside(body: Any) -> list[str]:
    """Labels drawn beyond the body's top or bottom (over the title or the choices)."""
    from kivy.uix.label import Label

    bottom, top = body.to_window(0, body.y)[1], body.to_window(0, body.top)[1]
    return [
        f"{w.text!r}: outside the body"
        for w in body.walk(restrict=True)
        if isinstance(w, Label) and w.text and _shown(w)
        and (w.to_window(0, w.y)[1] < bottom - 1 or w.to_window(0, w.top)[1] > top + 1)
    ]  # fmt: skip


def _shown(widget: Any) -> bool:
    from kivy.uix.widget import Widget

    while isinstance(widget, Widget):  # up to the window
        if getattr(widget, "opacity", 1) == 0:
            return False
        widget = widget.parent
    return True


def not_blank(shot: Image.Image) -> bool:
    stats = ImageStat.Stat(shot.convert("L"))
    return stats.stddev[0] > 10 and len(shot.getcolors(1 << 20) or ()) > 50


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
        bar = next(w for w in ui.walk() if isinstance(w, LanguageBar) and _shown(w))
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


async def test_take_your_card_points_at_the_slot(ui: UiDriver) -> None:
    screen = await ui.show(VIEWS["key_progress"])
    assert screen.frame.hero.icon == "key"
    present = View(Step.KEY_PROGRESS, "key_progress.title", "key_progress.present",
                   params={"room": "201"}, progress=(1, 2))  # fmt: skip
    screen = await ui.show(present)
    assert screen.frame.hero.icon == "take_card" and screen.frame.hero.width > 0
