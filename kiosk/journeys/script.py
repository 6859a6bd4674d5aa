"""A scripted guest: runs a journey with no UI from a JSON script (docs/journey-script.md).

The runner reads the journey's views; whenever a view waits for the guest it plays the
script's next action (scan, tap, type, language, pay, cancel, timeout). Device actions
(``pay`` outcome, ``take_card``, ``card_fault``) set up the simulators before the
guest's next move. It returns the journey's result, a transcript of i18n keys (never a
view's values, which hold guest data) and the script's failed expectations.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hardware.payment.config import ScenarioName
from hardware.payment.simulator import Scenario, SimulatedTerminal
from kiosk.journeys.checkin import CheckinJourney, JourneyResult
from kiosk.journeys.devices import CardFault, Devices, SimCardPath
from kiosk.journeys.messages import Action, ActionKind, Channel, Step, View

GUEST_MOVES = ("scan", "tap", "type", "language", "pay", "cancel", "timeout")
DEVICE_MOVES = ("take_card", "card_fault", "wait")


class ScriptError(Exception):
    """The script cannot be played: malformed, or it does not fit the screen it meets."""


class ScriptAction(BaseModel):
    """One line of a script: exactly one move; ``on`` asserts the screen it answers."""

    model_config = ConfigDict(extra="forbid")

    on: Step | None = None
    scan: str | None = None  # a QR payload, or "@name" of a value given to the runner
    tap: str | None = None  # a choice id, or "#n": the view's n-th choice (from 0)
    type: str | None = None  # text typed, or "@name"
    language: str | None = None
    pay: ScenarioName | None = None  # the terminal's outcome, then tap "pay" (or ``choice``)
    choice: str | None = None  # with pay: the choice that starts it ("retry", "other_card")
    cancel: bool | None = None
    timeout: bool | None = None  # the screen's inactivity timer runs out
    take_card: bool | None = None  # whether the guest takes the next presented card
    card_fault: Literal["verify_mismatch", "removed"] | None = None  # the next card fed
    wait: float | None = Field(None, ge=0, le=60)  # seconds before the next move

    @model_validator(mode="after")
    def _one_move(self) -> ScriptAction:
        moves = [name for name in (*GUEST_MOVES, *DEVICE_MOVES) if getattr(self, name) is not None]
        if len(moves) != 1:
            raise ValueError(f"an action has exactly one move, not {moves or 'none'}")
        if self.choice is not None and self.pay is None:
            raise ValueError("choice goes with pay")
        return self

    @property
    def is_guest_move(self) -> bool:
        return any(getattr(self, name) is not None for name in GUEST_MOVES)


class Expectation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: str
    cards: int | None = None  # cards the guest took
    payments: int | None = None  # approved at the terminal
    voided: int | None = None
    rejected_cards: int | None = None
    receipt: Literal["printed", "on_screen", "none"] | None = None
    steps_include: list[Step] = Field(default_factory=list)


class GuestScript(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    actions: list[ScriptAction]
    expect: Expectation
    max_seconds: float = Field(60.0, gt=0, le=600, description="the whole run's bound")

    @classmethod
    def load(cls, path: Path) -> GuestScript:
        try:
            return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise ScriptError(f"{path}: {exc}") from exc


@dataclass
class ScriptReport:
    result: JourneyResult
    transcript: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def values_from_manifest(manifest: Mapping[str, Any]) -> dict[str, str]:
    """The "@name" values of the demo manifest (``kiosk sim``): each case's QR payload as
    "@<case>", its second factors as "@<case>.surname" and "@<case>.phone_last4"."""
    values: dict[str, str] = {}
    for entry in [*manifest.get("arrivals", ()), *manifest.get("booking_codes", ())]:
        values[entry["case"]] = entry["qr_payload"]
        for name, value in entry.get("second_factor", {}).items():
            values[f"{entry['case']}.{name}"] = str(value)
    return values


async def run_script(
    journey: CheckinJourney,
    script: GuestScript,
    values: Mapping[str, str] | None = None,
    *,
    on_view: Callable[[View], Awaitable[None]] | None = None,
) -> ScriptReport:
    """Play ``script`` against one run of ``journey``; ``values`` resolve "@name" strings.

    ``on_view`` sees every view before the guest answers it (the demo shows it in the UI
    and takes a screenshot).
    """
    player = _Player(journey.devices, script, dict(values or {}), on_view)
    channel = Channel()
    run = asyncio.create_task(journey.run(channel))
    try:
        async with asyncio.timeout(script.max_seconds):
            await player.play(channel, run)
            result = await run
    except TimeoutError:
        run.cancel()
        last = player.transcript[-3:]
        raise ScriptError(
            f"{script.name}: not finished within {script.max_seconds} s; last screens {last}"
        ) from None
    except BaseException:
        run.cancel()
        raise
    report = ScriptReport(result, player.transcript)
    report.failures = _unmet(script.expect, result)
    return report


class _Player:
    def __init__(
        self,
        devices: Devices,
        script: GuestScript,
        values: dict[str, str],
        on_view: Callable[[View], Awaitable[None]] | None,
    ) -> None:
        self._devices = devices
        self._on_view = on_view
        self._actions = list(script.actions)
        self._values = values
        self.transcript: list[str] = []

    async def play(self, channel: Channel, run: asyncio.Task[JourneyResult]) -> None:
        while True:
            view = await _next_view(channel, run)
            if view is None:
                return
            self.transcript.append(f"{view.step.value}: {view.title} / {view.message}")
            if self._on_view is not None:
                await self._on_view(view)
            if view.choices or view.input is not None:  # the view waits for the guest
                await channel.actions.put(await self._answer(view))

    async def _answer(self, view: View) -> Action:
        while self._actions:
            action = self._actions.pop(0)
            if action.is_guest_move:
                return self._guest_move(action, view)
            await self._device_move(action)
        self.transcript.append("(script ended: the guest walks away)")
        return Action(ActionKind.TIMEOUT)

    def _guest_move(self, action: ScriptAction, view: View) -> Action:
        if action.on is not None and action.on is not view.step:
            raise ScriptError(f"expected the {action.on} screen, the journey shows {view.step}")
        if action.scan is not None:
            return Action(ActionKind.QR, self._value(action.scan))
        if action.type is not None:
            return Action(ActionKind.TEXT, self._value(action.type))
        if action.language is not None:
            return Action(ActionKind.LANGUAGE, action.language)
        if action.cancel:
            return Action(ActionKind.CANCEL)
        if action.timeout:
            return Action(ActionKind.TIMEOUT)
        if action.pay is not None:
            self._terminal().queue(Scenario(action.pay, late_by_s=0.05, offline_s=0.05))
            offered = {choice.id for choice in view.choices}
            tap = action.choice or ("pay" if "pay" in offered else "retry")
            return self._tap(tap, view)
        assert action.tap is not None
        return self._tap(action.tap, view)

    def _tap(self, choice: str, view: View) -> Action:
        if choice.startswith("#") and choice[1:].isdigit():  # by position: ids unknown up front
            index = int(choice[1:])
            if index >= len(view.choices):
                raise ScriptError(f"no choice {choice} on the {view.step} screen")
            return Action(ActionKind.CHOOSE, view.choices[index].id)
        if choice not in {c.id for c in view.choices}:
            offered = [c.id for c in view.choices]
            raise ScriptError(f"no choice {choice!r} on the {view.step} screen (has {offered})")
        return Action(ActionKind.CHOOSE, choice)

    async def _device_move(self, action: ScriptAction) -> None:
        if action.wait is not None:
            await asyncio.sleep(action.wait)
            return
        path = self._devices.dispenser
        if not isinstance(path, SimCardPath):
            raise ScriptError("take_card and card_fault need the simulated dispenser")
        if action.take_card is not None:
            path.inner.script_guest(action.take_card)
        else:
            fault: CardFault = action.card_fault
            path.fault_next_cards(fault)

    def _terminal(self) -> SimulatedTerminal:
        terminal = self._devices.terminal
        if not isinstance(terminal, SimulatedTerminal):
            raise ScriptError("pay needs the simulated payment terminal")
        return terminal

    def _value(self, text: str) -> str:
        if not text.startswith("@"):
            return text
        try:
            return self._values[text[1:]]
        except KeyError:
            raise ScriptError(f"no value {text!r} given to the script") from None


async def _next_view(channel: Channel, run: asyncio.Task[JourneyResult]) -> View | None:
    """The journey's next view, or None once the run has ended and every view was read."""
    while True:
        if not channel.views.empty():
            return channel.views.get_nowait()
        if run.done():
            return None
        getter = asyncio.ensure_future(channel.views.get())
        await asyncio.wait({getter, run}, return_when=asyncio.FIRST_COMPLETED)
        if getter.done():
            return getter.result()
        getter.cancel()


def _unmet(expect: Expectation, result: JourneyResult) -> list[str]:
    failures = []
    checks = {
        "outcome": result.outcome,
        "cards": len(result.cards),
        "payments": len(result.payments),
        "voided": len(result.voided),
        "rejected_cards": result.rejected_cards,
        "receipt": result.receipt,
    }
    for name, actual in checks.items():
        wanted = getattr(expect, name)
        if wanted is not None and wanted != actual:
            failures.append(f"{name}: expected {wanted}, got {actual}")
    missing = [step.value for step in expect.steps_include if step not in result.steps]
    if missing:
        failures.append(f"steps not shown: {missing}")
    return failures
