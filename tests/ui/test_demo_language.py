"""The headless demo's screens follow the scripted guest's language (issue 12, Deliver 6):
each view carries the journey's language and the demo's screen draws it in that one."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from kiosk.config import UiConfig
from kiosk.journeys.messages import Choice, Step, View
from tests.ui.driver import UiDriver

pytestmark = pytest.mark.timeout(60)

SUMMARY = View(
    Step.SUMMARY,
    "summary.title",
    "",
    choices=(Choice("continue", "common.continue", primary=True),),
)


async def test_the_demo_screen_draws_each_view_in_the_journey_s_language(
    ui: UiDriver, tmp_path: Path
) -> None:
    from screens.launch import KivyDemoScreen

    screen = KivyDemoScreen(UiConfig(fullscreen=False))
    screen._app = ui.app  # the running app, as start() makes it (no runtime needed here)
    titles = {"zh_Hant": "您的訂房", "zh_Hans": "您的预订", "en": "Your booking"}
    for language, text in titles.items():
        view = dataclasses.replace(SUMMARY, language=language)
        shot = await screen.show(view, str(tmp_path / f"summary-{language}.png"))
        assert shot is not None and shot.exists()
        title = ui.app.manager.current_screen.frame.title
        assert (ui.app.lang, title.text) == (language, text)
