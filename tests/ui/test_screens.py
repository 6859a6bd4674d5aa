"""Every step has its screen; each draws its view from the catalogue with big touch targets."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import zxingcpp

from kiosk.journeys.messages import Choice, Step, View
from tests.ui.driver import UiDriver

pytestmark = pytest.mark.timeout(60)

TITLES = {step: f"{step.value}.title" for step in Step} | {
    Step.REFUSAL: "refusal.cancelled.title",
    Step.AMENITY_PICK: "amenity.pick_amenity.title",  # one screen, a title per list
}
MIN_TARGET_PX = 90  # 15 mm on the 1080x1920 panel


async def test_every_step_has_a_screen_kv_file_and_controls(ui: UiDriver) -> None:
    from screens.widgets.contrast_toggle import ContrastToggle
    from screens.widgets.language_bar import LanguageBar

    for step in Step:
        screen = ui.app.screen(step)
        assert screen.step is step and screen.name == step.value
        module = Path(type(screen).__module__.replace(".", "/"))
        assert (Path(__file__).parents[2] / module.with_suffix(".kv")).is_file()
        kinds = {type(w) for w in screen.walk(restrict=True)}
        assert {LanguageBar, ContrastToggle} <= kinds, f"{step}: language bar and toggle"


async def test_each_screen_draws_its_view_with_big_targets(ui: UiDriver) -> None:
    from kivy.uix.behaviors import ButtonBehavior

    for step, title in TITLES.items():
        view = View(step, title, choices=(Choice("x", "common.back"),), timeout_s=None)
        screen = await ui.show(view)
        assert screen.frame.title.text == ui.app.catalogue.translate(title, "en") != title
        small = [
            (w.text, tuple(w.size))
            for w in ui.walk()
            if isinstance(w, ButtonBehavior) and min(w.size) < MIN_TARGET_PX
        ]
        assert small == [], f"{step}: touch targets under {MIN_TARGET_PX} px"


async def test_progress_bar_follows_the_view(ui: UiDriver) -> None:
    screen = await ui.show(View(Step.SUMMARY, "summary.title", progress=(2, 5)))
    progress = screen.frame.progress
    assert (progress.step, progress.total) == (2, 5)
    assert progress.children[0].text == "Step 2 of 5"
    assert progress.opacity == 1
    screen = await ui.show(View(Step.PAYMENT, "payment.title"))
    assert screen.frame.progress.opacity == 0


async def test_done_screen_lists_what_the_guest_needs(ui: UiDriver) -> None:
    params = {"room": "1208", "floor": 12, "wifi_ssid": "Lobby", "wifi_password": "pw-synthetic"}
    screen = await ui.show(View(Step.DONE, "done.title", params=params))
    lines = [w.text for w in reversed(screen.ids.details.children)]
    assert lines == ["Room 1208", "Floor 12", "Wi-Fi: Lobby, password pw-synthetic"]


async def test_receipt_qr_is_readable_on_screen(ui: UiDriver) -> None:
    url = "https://hotel.example/r/5F2C-TEST"
    screen = await ui.show(
        View(Step.RECEIPT, "receipt.title", "receipt.on_screen", params={"receipt_qr": url})
    )
    shot = ui.crop(await ui.screenshot("receipt"), screen.ids.qr)
    decoded = [r.text for r in zxingcpp.read_barcodes(np.asarray(shot.convert("L")))]
    assert decoded == [url]


async def test_a_bad_view_falls_back_to_the_idle_screen(
    ui: UiDriver, caplog: pytest.LogCaptureFixture
) -> None:
    naive = View(
        Step.SUMMARY,
        "refusal.wrong_day.message",
        params={"arrival": datetime(2026, 3, 4), "guest_name": "Synthname Oquirk"},
    )
    await ui.channel.views.put(naive)
    with caplog.at_level(logging.ERROR):
        await ui.until(lambda: "cannot show the summary view" in caplog.text)
    assert ui.app.manager.current == Step.ATTRACT.value
    assert "Synthname" not in caplog.text
    screen = await ui.show(View(Step.KEYS, "keys.title"))  # and the next view still shows
    assert screen.frame.title.text == "How many room cards?"
