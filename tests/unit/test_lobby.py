"""The attract screen's menu: a scan goes to check-in, a tap to the journey it names."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from kiosk.journeys.dialog import Dialog
from kiosk.journeys.lobby import Lobby
from kiosk.journeys.messages import Action, ActionKind, Channel, Choice, Step
from kiosk.journeys.result import JourneyResult


@dataclass
class Recording:
    """A journey that records how it was started and ends at once."""

    name: str
    menu_choice: Choice
    started: list[tuple[str | None, str]] = field(default_factory=list)

    async def run_guest(self, dialog: Dialog, qr: str | None = None) -> JourneyResult:
        self.started.append((qr, dialog.language))
        return JourneyResult(
            f"{self.name}_done", tuple(dialog.steps), dialog.language, journey=self.name
        )


def _lobby() -> tuple[Lobby, Recording, Recording]:
    checkin = Recording("checkin", Choice("start", "attract.start", primary=True))
    checkout = Recording("checkout", Choice("checkout", "menu.checkout"))
    return Lobby((checkin, checkout), ("en", "zh_Hans"), grace_s=1.0), checkin, checkout


async def _play(lobby: Lobby, *actions: Action) -> tuple[JourneyResult, list[Choice]]:
    channel = Channel()
    run = asyncio.ensure_future(lobby.run(channel))
    view = await asyncio.wait_for(channel.views.get(), 5)
    assert view.step is Step.ATTRACT
    for action in actions:
        channel.actions.put_nowait(action)
    return await asyncio.wait_for(run, 5), list(view.choices)


async def test_the_menu_lists_every_journey_check_in_first() -> None:
    lobby, _checkin, _checkout = _lobby()
    _result, choices = await _play(lobby, Action(ActionKind.CHOOSE, "checkout"))
    assert [c.id for c in choices] == ["start", "checkout"]
    assert choices[0].primary and not choices[1].primary


async def test_a_code_scanned_on_the_attract_screen_goes_to_check_in() -> None:
    lobby, checkin, checkout = _lobby()
    result, _ = await _play(lobby, Action(ActionKind.QR, "pms:1"))
    assert checkin.started == [("pms:1", "en")] and not checkout.started
    assert result.journey == "checkin"


async def test_a_tap_runs_the_journey_it_names_in_the_language_chosen_there() -> None:
    lobby, checkin, checkout = _lobby()
    result, _ = await _play(
        lobby,
        Action(ActionKind.LANGUAGE, "zh_Hans"),
        Action(ActionKind.CHOOSE, "nonsense"),  # not on the menu: ignored
        Action(ActionKind.CHOOSE, "checkout"),
    )
    assert checkout.started == [(None, "zh_Hans")] and not checkin.started
    assert (result.outcome, result.journey) == ("checkout_done", "checkout")


async def test_staff_taking_the_kiosk_away_on_the_attract_screen_ends_no_journey() -> None:
    lobby, checkin, checkout = _lobby()
    result, _ = await _play(lobby, Action(ActionKind.CANCEL))
    assert (result.outcome, result.journey) == ("cancelled_by_guest", "")
    assert not checkin.started and not checkout.started


def test_two_journeys_on_one_button_are_refused() -> None:
    one = Recording("checkin", Choice("start", "attract.start"))
    with pytest.raises(ValueError, match="distinct"):
        Lobby((one, Recording("other", Choice("start", "menu.key"))), ("en",), 1.0)
