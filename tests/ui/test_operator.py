"""The hidden operator menu: corner long-press, PIN with lockout, health, out of service.

The menu drives the kiosk's real operator port: ``GuestService`` over the runtime that
``kiosk demo`` assembles (embedded property simulator, simulated devices), serving guests
on the app's channel; the PIN lockout is kept in the runtime's state database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from hardware.printer.protocol import PaperLevel
from kiosk.demo import demo_config
from kiosk.journeys.messages import Channel, Choice, Step, View
from kiosk.runtime import start_runtime
from kiosk.service import GuestService
from tests.ui.driver import OPERATOR_PIN, TIMING, FixedClock, UiDriver

if TYPE_CHECKING:  # Kivy is imported only once Xvfb runs (conftest)
    from screens.widgets.operator_menu import OperatorMenu

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def ui_kiosk(
    kivy_display: str, ui_clock: FixedClock, tmp_path: Path
) -> AsyncIterator[tuple[UiDriver, GuestService]]:
    """The app over a real ``GuestService`` serving guests; the card stock empty and the
    printer's paper near its end, so the health list has a fault and a warning."""
    from tests.ui.driver import start_app

    runtime = await start_runtime(demo_config(tmp_path))
    services: list[GuestService] = []

    def service(channel: Channel) -> GuestService:
        services.append(GuestService(runtime.journey, channel, runtime.health_sources()))
        return services[0]

    try:
        runtime.devices.dispenser.inner.refill(0)  # type: ignore[attr-defined]
        runtime.devices.printer.set_paper(PaperLevel.NEAR_END)  # type: ignore[union-attr]
        async with start_app(ui_clock, tmp_path, service, runtime.payment_log.db) as ui:
            serving = asyncio.create_task(services[0].serve())
            try:
                await ui.until(lambda: on_screen(ui) is Step.ATTRACT, 10)
                yield ui, services[0]
            finally:
                serving.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await serving
    finally:
        await runtime.aclose()


def on_screen(ui: UiDriver) -> Any:
    view = getattr(ui.app.manager.current_screen, "view", None)
    return view.step if view is not None else None


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


async def test_three_wrong_pins_lock_the_menu(
    ui_kiosk: tuple[UiDriver, GuestService], ui_clock: FixedClock
) -> None:
    ui, service = ui_kiosk
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
    assert service.in_service
    assert not any(getattr(w, "text", "") == "Device health" for w in ui.walk(menu))
    assert ui.access.locked_until == ui_clock.now + timedelta(minutes=5)

    ui_clock.now += timedelta(minutes=5)  # the lockout ends
    await enter_pin(ui, menu, OPERATOR_PIN)
    assert any(getattr(w, "text", "") == "Device health" for w in ui.walk(menu))


async def test_right_pin_shows_health_and_takes_the_kiosk_out_of_service(
    ui_kiosk: tuple[UiDriver, GuestService],
) -> None:
    ui, service = ui_kiosk
    menu = await open_menu(ui)
    assert not ui.app.overlay.shown
    await enter_pin(ui, menu, OPERATOR_PIN)
    texts = [getattr(w, "text", "") for w in ui.walk(menu)]
    # The runtime's own health sources: the back-end's and every simulated device's.
    assert "backend: OK — online, 0 queued" in texts
    assert "printer: Warning — paper near end" in texts
    assert "dispenser: Fault — card stock empty" in texts
    assert "payment (sim): OK — simulated terminal ready" in texts
    fault = next(w for w in ui.walk(menu) if getattr(w, "text", "").startswith("dispenser"))
    assert fault.tone == "fault"
    assert not any(OPERATOR_PIN in t for t in texts)

    await ui.tap(ui.button("Take out of service"))
    assert not service.in_service
    # The guest on screen is sent away and the service puts up its out-of-service view.
    await ui.until(lambda: on_screen(ui) is Step.OUT_OF_SERVICE)
    assert service.results == ["cancelled_by_guest"]
    await ui.tap(ui.button("Put back in service"))
    assert service.in_service

    await ui.tap(ui.button("Close"))
    assert not menu_open(ui)
    await ui.until(lambda: on_screen(ui) is Step.ATTRACT)  # the next guest's journey
    assert len(service.results) == 1


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
