"""ATTRACT wipes the guest: no widget on any screen still holds what the guest saw or typed."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from kiosk.journeys.messages import Choice, Step, TextInput, View
from tests.ui.driver import UiDriver

pytestmark = pytest.mark.timeout(60)

# Synthetic guest data, unlikely to appear in any catalogue text.
NAME = "Zyxwvuta Qeltrom"
DOOR_PIN = "730519"
WIFI_PASSWORD = "kq7-plover"
TYPED = "QZ8X"


def holders(ui: UiDriver, secret: str) -> list[str]:
    """Every widget property, on every screen and overlay, whose value shows ``secret``."""
    from kivy.uix.widget import Widget

    roots = [*ui.app.manager.screens, *ui.app.root.children]
    found = []
    for root in roots:
        for widget in root.walk(restrict=True):
            for name in widget.properties():
                value: Any = getattr(widget, name, None)
                if isinstance(value, list | tuple):
                    # Child widgets are walked themselves; their reprs hold memory addresses,
                    # whose hex digits can spell a secret made of digits ("1208").
                    value = [v for v in value if not isinstance(v, Widget)]
                if isinstance(value, str | View | tuple | list | dict) and secret in str(value):
                    found.append(f"{type(widget).__name__}.{name}")
    return found


async def test_attract_wipes_every_screen(ui: UiDriver) -> None:
    typing = await ui.show(View(Step.IDENTITY, "identity.title", input=TextInput()))
    await ui.type_text(typing.ids.keyboard, TYPED)  # typed, never submitted
    assert holders(ui, TYPED)

    await ui.show(
        View(
            Step.SUMMARY,
            "summary.title",
            params={
                "guest_name": NAME,
                "arrival": datetime(2026, 3, 4, 7, tzinfo=UTC),
                "amount_due": Decimal("100.00"),
                "currency": "CNY",
            },
            choices=(Choice("confirm", "common.confirm"),),
        )
    )
    assert holders(ui, NAME), "the walk must see the name while it is shown"
    assert not holders(ui, TYPED), "leaving a screen forgets what was typed on it"
    done = await ui.show(
        View(
            Step.DONE,
            "done.title",
            params={
                "room": "1208",
                "door_pin": DOOR_PIN,
                "wifi_ssid": "Lobby",
                "wifi_password": WIFI_PASSWORD,
            },
        )
    )
    assert "Door PIN: 730519" in [w.text for w in done.ids.details.children]

    await ui.show(View(Step.ATTRACT, "attract.title", "attract.message"))
    for secret in (NAME, DOOR_PIN, WIFI_PASSWORD, TYPED, "1208"):
        assert holders(ui, secret) == [], secret
    assert all(s.view is None for s in ui.app.manager.screens if s.name != Step.ATTRACT.value)


async def test_attract_wipes_even_the_current_keyboard(ui: UiDriver) -> None:
    typing = await ui.show(View(Step.REGISTER, "register.title", input=TextInput()))
    await ui.type_text(typing.ids.keyboard, TYPED)
    await ui.show(View(Step.ATTRACT, "attract.title"))
    await ui.show(View(Step.REGISTER, "register.title", input=TextInput()))
    assert typing.ids.keyboard.text == "" and holders(ui, TYPED) == []
