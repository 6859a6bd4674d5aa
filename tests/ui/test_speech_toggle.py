""" "Read aloud" on every screen's header: a guest turns spoken guidance on for their journey
(the kiosk's real ``SoundGuide``, espeak-ng, the simulated player); it takes no room where the
kiosk cannot speak, and fits the panel and the desktop window in large text."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hardware.audio.simulator import SimPlayer
from kiosk.i18n import Catalogue
from kiosk.journeys.messages import Step, View
from kiosk.sound.guide import SoundGuide
from kiosk.sound.settings import SoundSettings
from kiosk.sound.speech import Speech
from tests.ui.driver import UiDriver, start_app
from tests.ui.layout_checks import SIZES, VIEWS, overflows
from tests.ui.layout_checks import shown as _shown

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(
        shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (.ci/bootstrap)"
    ),
]
ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def speaking(
    kivy_display: str, ui_clock: Any, tmp_path: Path
) -> AsyncIterator[tuple[UiDriver, SoundGuide]]:
    settings = SoundSettings(night_start="00:00", night_end="00:00")  # speech off: the default
    speech = Speech(Catalogue.load(tz=ZONE), tmp_path / "speech", settings.voices, 150)
    guide = SoundGuide(settings, SimPlayer(), speech, ZONE)
    playing = asyncio.create_task(guide.run())
    try:
        async with start_app(ui_clock, tmp_path, speech=guide) as ui:
            guide.follow(ui.channel)
            yield ui, guide
    finally:
        playing.cancel()


def toggle(ui: UiDriver) -> Any:
    from screens.widgets.speech_toggle import SpeechToggle

    [found] = [w for w in ui.walk(ui.app.manager.current_screen) if isinstance(w, SpeechToggle)]
    return found


async def heard(guide: SoundGuide) -> list[str]:
    await asyncio.sleep(0)
    await asyncio.wait_for(guide.idle(), 10)
    return [clip.label for clip in guide.player.played]  # type: ignore[attr-defined]


async def test_read_aloud_speaks_this_guests_screens(
    speaking: tuple[UiDriver, SoundGuide],
) -> None:
    ui, guide = speaking
    await ui.show(VIEWS["scan"])
    button = toggle(ui)
    assert _shown(button) and button.text == "Read aloud" and button.state == "normal"
    assert button.width >= 90 and button.height >= 90  # a finger's size (theme.TOUCH_TARGET)
    ui.app.lang = "zh_Hant"
    await ui.frames(1)
    assert toggle(ui).text == "朗讀"

    await ui.tap(toggle(ui))
    assert guide.speech_on and ui.app.speech and toggle(ui).state == "down"
    assert await heard(guide) == ["speech:zh_Hant:scan.title", "speech:zh_Hant:scan.message"]

    await ui.tap(toggle(ui))  # off again: nothing more is said
    await ui.show(VIEWS["summary"])
    assert not guide.speech_on and await heard(guide) == [
        "speech:zh_Hant:scan.title", "speech:zh_Hant:scan.message"
    ]  # fmt: skip

    # On for one guest only: the attract screen puts it back to the setting (off).
    await ui.tap(toggle(ui))
    await ui.show(VIEWS["attract"])
    assert not guide.speech_on and not ui.app.speech and toggle(ui).state == "normal"


@pytest.mark.parametrize("size", ["portrait", "landscape", "desktop"])
async def test_the_header_with_read_aloud_fits_in_large_text(
    speaking: tuple[UiDriver, SoundGuide], size: str
) -> None:
    """The switch never makes the header taller than its neighbours do, its label fits in
    every language, and (in English, as test_layout checks) the whole screen still fits."""
    from screens.widgets.contrast_toggle import ContrastToggle
    from screens.widgets.staff_button import StaffButton

    ui, _guide = speaking
    ui.app.high_contrast = True
    async with ui.window(*SIZES[size]):
        for lang in ("en", "zh_Hans", "zh_Hant"):
            ui.app.lang = lang
            for name in ("attract", "summary", "refusal"):
                await ui.show(VIEWS[name])
                button = toggle(ui)
                row = button.parent
                others = [w for w in row.children if isinstance(w, ContrastToggle | StaffButton)]
                assert _shown(button) and len(others) == 2
                assert button.height <= max(w.height for w in others), f"{lang} {name}"
                assert button.texture_size[0] <= button.width + 1, f"{lang} {name}"
                if lang == "en":
                    assert overflows(ui) == [], f"{size} {name}"


async def test_no_read_aloud_where_the_kiosk_cannot_speak(ui: UiDriver) -> None:
    from screens.widgets.speech_toggle import SpeechToggle

    await ui.show(View(Step.SUMMARY, "summary.title", "summary.message"))
    assert not ui.app.speech_available
    assert not [w for w in ui.walk() if isinstance(w, SpeechToggle)]
