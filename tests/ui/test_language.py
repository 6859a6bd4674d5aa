"""Switching language mid-view: texts change, CJK glyphs render, the journey is told."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from PIL import Image, ImageChops

from kiosk.journeys.messages import Action, ActionKind, Choice, Step, View
from tests.ui.driver import UiDriver

pytestmark = pytest.mark.timeout(60)

SUMMARY = View(
    Step.SUMMARY,
    "summary.title",
    "summary.message",
    params={
        "arrival": datetime(2026, 3, 4, 7, 0, tzinfo=UTC),
        "amount_due": Decimal("388"),
        "currency": "CNY",
    },
    choices=(Choice("confirm", "common.confirm", primary=True),),
)


def inked(image: Image.Image) -> int:
    """Pixels that differ clearly from the crop's corner (its background)."""
    background = Image.new("RGB", image.size, image.getpixel((0, 0)))
    diff = ImageChops.difference(image, background).convert("L")
    return sum(diff.histogram()[61:])


async def test_switch_language_mid_view(ui: UiDriver) -> None:
    screen = await ui.show(SUMMARY)
    title, details = screen.frame.title, screen.ids.details
    crops = {"en": ui.crop(await ui.screenshot("summary-en"), title)}
    assert title.text == "Your booking"
    assert [line.text for line in reversed(details.children)] == [
        "Arrival: 04 Mar 2026 15:00",  # 07:00 UTC in the property's zone (Shanghai)
        "Amount due: 388.00 CNY",
    ]

    await ui.tap(ui.button("简体中文"))
    assert await ui.action() == Action(ActionKind.LANGUAGE, "zh_Hans")
    assert title.text == "您的预订"
    assert ui.button("确认").primary
    assert details.children[-1].text == "入住：2026年03月04日 15:00"
    crops["zh_Hans"] = ui.crop(await ui.screenshot("summary-zh_Hans"), title)

    await ui.tap(ui.button("繁體中文"))
    assert await ui.action() == Action(ActionKind.LANGUAGE, "zh_Hant")
    assert title.text == "您的訂房"
    crops["zh_Hant"] = ui.crop(await ui.screenshot("summary-zh_Hant"), title)

    for lang, crop in crops.items():
        assert inked(crop) > 500, f"the {lang} title rendered blank (missing glyphs?)"
    assert ImageChops.difference(crops["en"], crops["zh_Hans"]).getbbox() is not None
    assert ImageChops.difference(crops["zh_Hans"], crops["zh_Hant"]).getbbox() is not None


async def test_language_screen_and_keyboard_follow_the_choice(ui: UiDriver) -> None:
    screen = await ui.show(View(Step.LANGUAGE, "language.title"))
    names = [b.text for b in reversed(screen.ids.languages.children)]
    assert names == ["English", "简体中文", "繁體中文"]
    await ui.tap(screen.ids.languages.children[0])  # the last one: 繁體中文
    assert await ui.action() == Action(ActionKind.LANGUAGE, "zh_Hant")
    assert screen.frame.title.text == "請選擇語言"
    assert ui.app.lang == "zh_Hant"

    from kiosk.journeys.messages import TextInput

    typing = await ui.show(View(Step.TYPE_REFERENCE, "type_reference.title", input=TextInput()))
    assert ui.key(typing.ids.keyboard, "\n").text == "確定"
