"""The hidden operator menu: corner long-press, PIN with lockout, health, out of service."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from kiosk.journeys.messages import Choice, Step, View
from tests.ui.driver import OPERATOR_PIN, TIMING, UiDriver

if TYPE_CHECKING:  # Kivy is imported only once Xvfb runs (conftest)
    from screens.widgets.operator_menu import OperatorMenu

pytestmark = pytest.mark.timeout(60)

CORNER = (30, 1920 - 30)  # window coordinates: y grows upwards


def menu_open(ui: UiDriver) -> bool:
    return ui.app.operator_menu.parent is not None


async def open_menu(ui: UiDriver) -> OperatorMenu:
    await ui.press(ui.app.root, TIMING["operator_hold_s"] + 0.2, at=CORNER)
    await ui.until(lambda: menu_open(ui))
    await ui.frames(2)
    return ui.app.operator_menu


async def enter_pin(ui: UiDriver, menu: OperatorMenu, pin: str) -> None:
    await ui.type_text(menu.pad, pin + "\n")
    await ui.until(lambda: menu._check_task is None)
    await ui.frames(2)


async def test_short_press_in_the_corner_does_nothing(ui: UiDriver) -> None:
    await ui.show(View(Step.ATTRACT, "attract.title", timeout_s=None))
    await ui.press(ui.app.root, TIMING["operator_hold_s"] / 3, at=CORNER)
    await asyncio.sleep(TIMING["operator_hold_s"])
    assert not menu_open(ui)


async def test_three_wrong_pins_lock_the_menu(ui: UiDriver) -> None:
    await ui.show(View(Step.ATTRACT, "attract.title", timeout_s=None))
    menu = await open_menu(ui)
    assert menu.status.text == "Enter the operator PIN"
    await enter_pin(ui, menu, "1111")
    assert menu.status.text == "Wrong PIN"
    assert menu.pad.text == ""  # the entry is gone after each try
    await enter_pin(ui, menu, "2222")
    await enter_pin(ui, menu, "3333")
    assert menu.status.text.startswith("Locked after too many wrong PINs, until")
    await enter_pin(ui, menu, OPERATOR_PIN)  # the right PIN, but locked
    assert menu.status.text.startswith("Locked")
    assert ui.port.out_of_service_calls == []
    assert not any(getattr(w, "text", "") == "Device health" for w in ui.walk(menu))

    ui.access._clock.now += timedelta(minutes=5)  # the lockout ends
    await enter_pin(ui, menu, OPERATOR_PIN)
    assert any(getattr(w, "text", "") == "Device health" for w in ui.walk(menu))


async def test_right_pin_shows_health_and_takes_the_kiosk_out_of_service(ui: UiDriver) -> None:
    await ui.show(
        View(Step.SUMMARY, "summary.title", choices=(Choice("confirm", "common.confirm"),))
    )
    menu = await open_menu(ui)
    assert not ui.app.overlay.shown
    await enter_pin(ui, menu, OPERATOR_PIN)
    texts = [getattr(w, "text", "") for w in ui.walk(menu)]
    assert "printer: Warning — paper low" in texts
    assert "card_dispenser: Fault — stack empty" in texts
    assert "camera: OK" in texts
    fault = next(w for w in ui.walk(menu) if getattr(w, "text", "").startswith("card_dispenser"))
    assert fault.tone == "fault"
    assert not any(OPERATOR_PIN in t for t in texts)

    await ui.tap(ui.button("Take out of service"))
    assert ui.port.out_of_service_calls == [True]
    await ui.tap(ui.button("Put back in service"))
    assert ui.port.out_of_service_calls == [True, False]

    await ui.tap(ui.button("Close"))
    assert not menu_open(ui)
    await ui.tap(ui.button("Confirm"))  # the guest screen answers again
    assert (await ui.action()).value == "confirm"


async def test_the_menu_takes_every_touch_and_pauses_the_guest_timer(ui: UiDriver) -> None:
    view = View(
        Step.SUMMARY, "summary.title", choices=(Choice("confirm", "common.confirm"),), timeout_s=2.0
    )
    await ui.show(view)
    confirm = ui.button("Confirm")
    await open_menu(ui)
    await ui.tap(confirm)
    await asyncio.sleep(2.2)
    assert ui.no_action()  # neither the guest's button nor a timeout
    assert not ui.app.overlay.shown
