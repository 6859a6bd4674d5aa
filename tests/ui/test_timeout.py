"""Inactivity: the "Are you still there?" countdown, cancelled by a touch, then TIMEOUT."""

from __future__ import annotations

import asyncio

import pytest

from kiosk.journeys.messages import Action, ActionKind, Choice, Step, View
from tests.ui.driver import UiDriver

pytestmark = pytest.mark.timeout(60)

# With TIMING's 0.6 s warning, the countdown appears 1.4 s into this view (generous margins:
# the machine running the tests may be busy).
SLOW = 2.0


def summary(timeout_s: float | None = SLOW) -> View:
    return View(
        Step.SUMMARY,
        "summary.title",
        params={"guest_name": "Testguest Qwyx"},  # synthetic
        choices=(Choice("confirm", "common.confirm"),),
        timeout_s=timeout_s,
    )


async def test_warning_then_timeout_then_idle_screen(ui: UiDriver) -> None:
    await ui.show(summary())
    overlay = ui.app.overlay
    assert not overlay.shown
    await ui.until(lambda: overlay.shown, timeout=SLOW)
    await ui.frames(2)
    texts = [w.text for w in ui.walk(overlay) if hasattr(w, "text")]
    assert "Are you still there?" in texts
    assert any("Starting over in" in t for t in texts)
    assert await ui.action(timeout=SLOW) == Action(ActionKind.TIMEOUT)
    # The guest's data goes at once, without waiting for the journey's ATTRACT view.
    assert ui.app.manager.current == Step.ATTRACT.value
    assert not overlay.shown
    summary_screen = ui.app.manager.get_screen(Step.SUMMARY.value)
    assert summary_screen.view is None and summary_screen.ids.details.children == []


async def test_a_touch_cancels_the_warning_and_only_that(ui: UiDriver) -> None:
    await ui.show(summary())
    overlay = ui.app.overlay
    await ui.until(lambda: overlay.shown, timeout=SLOW)
    await ui.tap(ui.button("Confirm"))  # lands on the warning, not on the button
    assert not overlay.shown
    await asyncio.sleep(0.5)  # the count started again from the touch
    assert ui.no_action()
    assert not overlay.shown
    await ui.until(lambda: overlay.shown, timeout=SLOW)
    assert await ui.action(timeout=SLOW) == Action(ActionKind.TIMEOUT)


async def test_touches_keep_a_view_alive(ui: UiDriver) -> None:
    await ui.show(summary())
    for _ in range(4):  # 2.4 s in all, longer than the view's timeout
        await asyncio.sleep(0.6)
        await ui.tap(ui.app.manager.current_screen.frame.title)
    assert ui.no_action() and not ui.app.overlay.shown


async def test_no_timer_on_a_view_without_timeout(ui: UiDriver) -> None:
    await ui.show(View(Step.BUSY, "busy.title", "busy.checking_in", timeout_s=None))
    await asyncio.sleep(SLOW)
    assert ui.no_action() and not ui.app.overlay.shown
