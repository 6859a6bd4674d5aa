"""Choices and the on-screen keyboard, driven by real touches."""

from __future__ import annotations

import pytest

from kiosk.journeys.messages import Action, ActionKind, Choice, Step, TextInput, View
from tests.ui.driver import UiDriver

pytestmark = pytest.mark.timeout(60)

CONFIRM = View(
    Step.SUMMARY,
    "summary.title",
    choices=(
        Choice("confirm", "common.confirm", primary=True),
        Choice("not_mine", "summary.not_mine"),
    ),
)


async def test_tap_a_choice_sends_its_id_once(ui: UiDriver) -> None:
    await ui.show(CONFIRM)
    button = ui.button("This is not my booking")
    await ui.tap(button)
    assert await ui.action() == Action(ActionKind.CHOOSE, "not_mine")
    await ui.tap(ui.button("Confirm"))  # a second decision on the same view is ignored
    await ui.frames(3)
    assert ui.no_action()


async def test_a_new_view_takes_choices_again(ui: UiDriver) -> None:
    await ui.show(CONFIRM)
    await ui.tap(ui.button("Confirm"))
    assert (await ui.action()).value == "confirm"
    await ui.show(
        View(Step.KEYS, "keys.title", choices=(Choice("2", "keys.count", params={"count": 2}),))
    )
    await ui.tap(ui.button("2"))
    assert await ui.action() == Action(ActionKind.CHOOSE, "2")


async def test_type_a_reference_on_the_keyboard(ui: UiDriver) -> None:
    view = View(
        Step.TYPE_REFERENCE,
        "type_reference.title",
        input=TextInput(max_length=6, placeholder="type_reference.placeholder"),
    )
    screen = await ui.show(view)
    keyboard = screen.ids.keyboard
    assert keyboard.ids.display.text == "e.g. AB12CD34"  # the placeholder until a key is hit
    await ui.type_text(keyboard, "AB12X")
    await ui.tap(ui.key(keyboard, "\b"))  # Delete
    await ui.type_text(keyboard, "C34Q")  # one more than max_length: the Q is dropped
    assert keyboard.ids.display.text == "AB12C3"
    await ui.tap(ui.key(keyboard, "\n"))  # OK
    assert await ui.action() == Action(ActionKind.TEXT, "AB12C3")
    assert keyboard.text == ""  # sent to the journey, not kept on screen


async def test_ok_on_an_empty_entry_sends_nothing(ui: UiDriver) -> None:
    screen = await ui.show(View(Step.REGISTER, "register.title", input=TextInput()))
    await ui.tap(ui.key(screen.ids.keyboard, "\n"))
    await ui.frames(3)
    assert ui.no_action()


async def test_digits_keyboard_shows_dots_for_a_secret(ui: UiDriver) -> None:
    view = View(
        Step.IDENTITY,
        "identity.title",
        "identity.phone_digits",
        input=TextInput(kind="digits", max_length=4, secret=True),
    )
    screen = await ui.show(view)
    keyboard = screen.ids.keyboard
    labels = {
        k.choice_id for k in [*keyboard.ids.key_grid.children, *keyboard.ids.bottom_row.children]
    }
    assert labels - {""} == set("0123456789") | {"\b", "\n"}  # no letters, no space
    await ui.type_text(keyboard, "4821")
    assert keyboard.ids.display.text == "••••"
    await ui.tap(ui.key(keyboard, "\n"))
    assert await ui.action() == Action(ActionKind.TEXT, "4821")
