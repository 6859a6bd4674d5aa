""""Call staff" on a journey screen: the guest is told someone is coming and carries on, the
operator menu lists the request until acknowledged, and the fleet hook is called.

Drives the kiosk's real operator port (``GuestService`` serving guests on the demo runtime),
as test_operator.py does; its ``ui_kiosk`` fixture is reused."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.journeys.messages import Step
from kiosk.service import GuestService
from tests.ui.driver import OPERATOR_PIN, UiDriver
from tests.ui.test_operator import enter_pin, on_screen, open_menu, ui_kiosk  # noqa: F401

pytestmark = pytest.mark.timeout(60)

COMING = "Someone from our team is on the way. Please stay here; you can carry on meanwhile."


def staff_button(ui: UiDriver) -> Any:
    from screens.widgets.staff_button import StaffButton

    [button] = [w for w in ui.walk(ui.app.manager.current_screen) if isinstance(w, StaffButton)]
    return button


def texts(ui: UiDriver, root: Any) -> list[str]:
    return [getattr(w, "text", "") for w in ui.walk(root)]


async def test_call_staff_keeps_the_journey_and_reaches_the_operator(
    ui_kiosk: tuple[UiDriver, GuestService],  # noqa: F811
) -> None:
    ui, service = ui_kiosk
    raised: list[Any] = []
    service.on_staff_requested = lambda: raised.append(on_screen(ui))  # the fleet agent's hook
    await ui.tap(ui.button("Check in"))
    await ui.until(lambda: on_screen(ui) is Step.LANGUAGE)

    button = staff_button(ui)
    assert "Call staff" in button.text
    assert button.height >= 80 and button.width >= 80  # a finger's size (theme.TOUCH_TARGET)
    await ui.tap(button)
    await ui.frames(1)

    assert raised == [Step.LANGUAGE]
    assert service.staff_requested_at is not None
    assert ui.app.staff_notice.shown and COMING in texts(ui, ui.app.staff_notice)
    # The journey goes on: the same screen, nothing ended, and the guest's next tap answers it.
    assert on_screen(ui) is Step.LANGUAGE and service.results == []
    await ui.tap(ui.button("English", root=ui.app.manager.current_screen.ids.languages))
    await ui.until(lambda: on_screen(ui) is Step.SCAN)
    assert service.results == []

    menu = await open_menu(ui)
    await enter_pin(ui, menu, OPERATOR_PIN)
    at = service.staff_requested_at.strftime("%H:%M UTC")
    assert f"staff: Warning — requested at {at}" in texts(ui, menu)
    await ui.tap(ui.button("Guest request handled"))
    await ui.frames(1)
    assert service.staff_requested_at is None
    assert not any(t.startswith("staff:") for t in texts(ui, menu))
    assert not any(t == "Guest request handled" for t in texts(ui, menu))


async def test_call_staff_is_on_guest_screens_in_their_language_not_out_of_service(
    ui_kiosk: tuple[UiDriver, GuestService],  # noqa: F811
) -> None:
    ui, service = ui_kiosk
    assert "Call staff" in staff_button(ui).text  # the attract screen too
    ui.app.lang = "zh_Hant"
    await ui.frames(1)
    assert "人工服務" in staff_button(ui).text
    assert not staff_button(ui).disabled

    # Out of service the screen itself sends guests to the desk: no button to call anyone.
    service.set_out_of_service(True)
    await ui.until(lambda: on_screen(ui) is Step.OUT_OF_SERVICE)
    await ui.frames(1)
    hidden = staff_button(ui)
    assert hidden.disabled and hidden.opacity == 0
    await ui.tap(hidden)
    assert service.staff_requested_at is None and not ui.app.staff_notice.shown
