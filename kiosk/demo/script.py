"""A scripted guest: runs a journey with no UI from a JSON script (docs/journey-script.md).

The runner reads the journey's views; whenever a view waits for the guest it plays the
script's next action (scan, tap, type, language, pay, cancel, timeout). Device moves set
up the simulators before the guest's next move: the devices' (``take_card``,
``card_fault``, ``card_stock``, ``paper``) directly, the property simulator's
(``backend_down``, ``backend_outage``, ``lose_replies``, ``clock``) through a
:class:`ScriptBackend`. It returns the journey's result, a transcript of i18n keys (never
a view's values, which hold guest data), the guest's taps and key presses
(:class:`Effort`) and the script's failed expectations.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

import httpx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hardware.payment.config import ScenarioName
from hardware.payment.simulator import Scenario, SimulatedTerminal
from hardware.printer.protocol import PaperLevel
from hardware.printer.simulator import SimPrinter
from kiosk.demo.devices import CardFault, SimCardPath, guest_card
from kiosk.journeys.checkin import CheckinJourney
from kiosk.journeys.devices import Devices
from kiosk.journeys.lobby import Lobby
from kiosk.journeys.messages import Action, ActionKind, Channel, Step, View
from kiosk.journeys.result import JourneyResult

log = logging.getLogger("kiosk.script")

GUEST_MOVES = ("scan", "tap", "type", "language", "pay", "cancel", "timeout", "insert_card")
DEVICE_MOVES = (
    "take_card",
    "card_fault",
    "wait",
    "backend_down",
    "backend_outage",
    "lose_replies",
    "paper",
    "card_stock",
    "clock",
)
PAPER_LEVELS = {"out": PaperLevel.OUT, "low": PaperLevel.NEAR_END, "ok": PaperLevel.OK}
MAX_COUNT = 10_000  # the simulator's bound on its counted faults


class ScriptError(Exception):
    """The script cannot be played: malformed, or it does not fit the screen it meets."""


class ScriptAction(BaseModel):
    """One line of a script: exactly one move; ``on`` asserts the screen it answers."""

    model_config = ConfigDict(extra="forbid")

    on: Step | None = None
    # With ``on``: skipped when the journey shows another screen (a guest coming back
    # after a crash meets only the steps still to do).
    optional: bool = False
    scan: str | None = None  # a QR payload, or "@name" of a value given to the runner
    tap: str | None = None  # a choice id, or "#n": the view's n-th choice (from 0)
    type: str | None = None  # text typed, or "@name"
    language: str | None = None
    pay: ScenarioName | None = None  # the terminal's outcome, then tap "pay" (or ``choice``)
    choice: str | None = None  # with pay: the choice that starts it ("retry", "other_card")
    cancel: bool | None = None
    timeout: bool | None = None  # the screen's inactivity timer runs out
    # The guest pushes their room card into the card slot: "UID[/key hex]" (the key the card
    # holds) or "@name"; the journey moves on by itself once the slot takes it in.
    insert_card: str | None = None
    take_card: bool | None = None  # whether the guest takes the next presented card
    card_fault: Literal["verify_mismatch", "removed", "reverts"] | None = None  # next card fed
    wait: float | None = Field(None, ge=0, le=60)  # seconds before the next move
    # The property simulator: the next N requests answer 503 (0 clears); it stops
    # listening for so many seconds; the next N writes are applied, their replies lost.
    backend_down: int | None = Field(None, ge=0, le=MAX_COUNT, strict=True)
    backend_outage: float | None = Field(None, gt=0, le=3600)
    lose_replies: int | None = Field(None, ge=0, le=MAX_COUNT, strict=True)
    paper: Literal["out", "low", "ok"] | None = None  # the printer's paper from now on
    card_stock: int | None = Field(None, ge=0, le=MAX_COUNT, strict=True)  # cards in the stacker
    clock: str | None = Field(None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")  # local "HH:MM", today

    @model_validator(mode="after")
    def _one_move(self) -> ScriptAction:
        moves = [name for name in (*GUEST_MOVES, *DEVICE_MOVES) if getattr(self, name) is not None]
        if len(moves) != 1:
            raise ValueError(f"an action has exactly one move, not {moves or 'none'}")
        if self.choice is not None and self.pay is None:
            raise ValueError("choice goes with pay")
        if self.optional and (self.on is None or not self.is_guest_move):
            raise ValueError("optional goes with a guest move on a named screen")
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
    cards_returned: int | None = None  # check-out: cards taken back through the slot


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
class Effort:
    """What the guest did with their hands: taps (a choice, a language, cancel) and key
    presses (each character typed, plus the one that submits it); scans and waiting
    cost nothing. ``*_to_card`` stop at the first card coming out; None when none did."""

    taps: int = 0
    keys: int = 0
    taps_to_card: int | None = None
    keys_to_card: int | None = None

    def count(self, action: Action) -> None:
        if action.kind is ActionKind.TEXT:
            self.keys += len(action.value) + 1
        elif action.kind in (ActionKind.CHOOSE, ActionKind.LANGUAGE, ActionKind.CANCEL):
            self.taps += 1

    def card_coming(self) -> None:
        """A card is on its way to the guest's hand: the counts so far are theirs."""
        if self.taps_to_card is None:
            self.taps_to_card, self.keys_to_card = self.taps, self.keys


@dataclass
class ScriptReport:
    result: JourneyResult
    transcript: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    effort: Effort = field(default_factory=Effort)

    @property
    def passed(self) -> bool:
        return not self.failures


class ScriptBackend(Protocol):
    """The property simulator's knobs that the back-end moves turn."""

    async def faults(self, **knobs: float) -> None:
        """Set fault knobs (``fail_next``, ``lose_next`` ...: docs/simulator.md)."""

    async def outage(self, seconds: float) -> None:
        """Stop listening for ``seconds``; returns once the simulator is down."""

    async def set_clock(self, now: datetime | None) -> None:
        """The simulator reads ``now`` (aware) from here on; None: back to its own clock."""


class _FaultKnobs(Protocol):
    def update(self, values: Mapping[str, Any]) -> Mapping[str, float]: ...


class SimHandle(Protocol):
    """What :class:`SimServerBackend` uses of ``kiosk.sim.server.SimServer`` (duck-typed:
    the runner does not import the simulator)."""

    @property
    def faults(self) -> _FaultKnobs: ...

    def outage(self, seconds: float) -> None: ...

    def set_clock(self, now: datetime | None) -> None: ...


class SimServerBackend:
    """A :class:`ScriptBackend` over a simulator in this process, by direct calls."""

    def __init__(self, server: SimHandle) -> None:
        self._server = server

    async def faults(self, **knobs: float) -> None:
        self._server.faults.update(knobs)

    async def outage(self, seconds: float) -> None:
        await asyncio.to_thread(self._server.outage, seconds)  # waits for the listener to stop

    async def set_clock(self, now: datetime | None) -> None:
        self._server.set_clock(now)


class SimAdminBackend:
    """A :class:`ScriptBackend` over the admin paths (``/_sim/...``) of a simulator in
    another process (``kiosk sim``)."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 5.0) -> None:
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout = timeout

    async def faults(self, **knobs: float) -> None:
        await self._post("/_sim/faults", knobs)

    async def outage(self, seconds: float) -> None:
        await self._post("/_sim/outage", {"seconds": seconds})
        # The simulator stops just after its reply: the guest's next move must meet the
        # outage, so wait until it no longer answers (or is already back).
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(seconds, 2.0)
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            while loop.time() < deadline:
                try:
                    await client.get(self._base_url + "/_sim/health")
                except httpx.TransportError:
                    return
                await asyncio.sleep(0.01)

    async def set_clock(self, now: datetime | None) -> None:
        await self._post("/_sim/clock", {"now": None if now is None else now.timestamp()})

    async def _post(self, path: str, body: Mapping[str, Any]) -> None:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                reply = await client.post(self._base_url + path, json=body, headers=self._headers)
        except httpx.HTTPError as exc:
            raise ScriptError(
                f"the simulator's {path} is unreachable ({type(exc).__name__})"
            ) from exc
        if reply.status_code != httpx.codes.OK:
            raise ScriptError(
                f"the simulator's {path} answered {reply.status_code}: {reply.text[:200]}"
            )


class _ScriptClock:
    """The journey's clock during a run: its own, moved on by ``clock`` moves."""

    def __init__(self, base: Callable[[], datetime]) -> None:
        self.base = base
        self.offset: timedelta | None = None  # None until a clock move

    def __call__(self) -> datetime:
        return self.base() if self.offset is None else self.base() + self.offset

    def set(self, now: datetime) -> None:
        self.offset = now - self.base()


def values_from_manifest(manifest: Mapping[str, Any]) -> dict[str, str]:
    """The "@name" values of the demo manifest (``kiosk sim``): each case's QR payload as
    "@<case>", its second factors as "@<case>.surname" and "@<case>.phone_last4", an
    in-house guest's room card UID as "@<case>.card"."""
    values: dict[str, str] = {}
    entries = [*manifest.get("arrivals", ()), *manifest.get("booking_codes", ())]
    for entry in [*entries, *manifest.get("in_house", ())]:
        values[entry["case"]] = entry["qr_payload"]
        if "card" in entry:  # a guest in house: their room card ("@<case>.card")
            values[f"{entry['case']}.card"] = entry["card"]
        for name, value in entry.get("second_factor", {}).items():
            values[f"{entry['case']}.{name}"] = str(value)
        if "card_uid" in entry:  # a departing guest's room card (check-out): "@<case>.card"
            values[f"{entry['case']}.card"] = entry["card_uid"]
    return values


async def run_script(
    journey: CheckinJourney,
    script: GuestScript,
    values: Mapping[str, str] | None = None,
    *,
    on_view: Callable[[View], Awaitable[None]] | None = None,
    backend: ScriptBackend | None = None,
    lobby: Lobby | None = None,
    channel: Channel | None = None,
) -> ScriptReport:
    """Play ``script`` against one run of ``lobby`` (check-in alone when None: ``journey``'s);
    ``values`` resolve "@name" strings.

    ``on_view`` sees every view before the guest answers it (the demo shows it in the UI
    and takes a screenshot). ``backend`` turns the property simulator's knobs for the
    moves that need it (``backend_down``, ``backend_outage``, ``lose_replies``, ``clock``).
    ``channel``: the one to run on (a watched one, for the sound); None: a fresh one.
    A script with a ``clock`` move runs the journey on a clock of its own, and both the
    journey's and the simulator's clocks are set back when the run ends.
    """
    has_clock_move = any(action.clock is not None for action in script.actions)
    clock = _ScriptClock(journey.now) if has_clock_move else None
    player = _Player(journey, script, dict(values or {}), on_view, backend, clock)
    if clock is not None:
        journey.now = clock
    channel = channel if channel is not None else Channel()
    run = asyncio.create_task((lobby or journey).run(channel))
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
    finally:
        if clock is not None:
            journey.now = clock.base
            if clock.offset is not None and backend is not None:
                await _set_back(backend)
    report = ScriptReport(result, player.transcript, effort=player.effort)
    report.failures = _unmet(script.expect, result)
    return report


async def _set_back(backend: ScriptBackend) -> None:
    """The simulator back on its own clock; a simulator still down keeps the moved one."""
    try:
        await backend.set_clock(None)
    except ScriptError as exc:
        log.warning("the simulator's clock was not set back: %s", exc)


class _Player:
    def __init__(
        self,
        journey: CheckinJourney,
        script: GuestScript,
        values: dict[str, str],
        on_view: Callable[[View], Awaitable[None]] | None,
        backend: ScriptBackend | None,
        clock: _ScriptClock | None,
    ) -> None:
        self._devices: Devices = journey.devices
        self._zone: ZoneInfo = journey.settings.zone
        self._backend = backend
        self._clock = clock
        self._on_view = on_view
        self._actions = list(script.actions)
        self._values = values
        self.transcript: list[str] = []
        self.effort = Effort()

    async def play(self, channel: Channel, run: asyncio.Task[JourneyResult]) -> None:
        while True:
            view = await _next_view(channel, run)
            if view is None:
                return
            self.transcript.append(f"{view.step.value}: {view.title} / {view.message}")
            if view.step is Step.KEY_PROGRESS:
                self.effort.card_coming()
            if self._on_view is not None:
                await self._on_view(view)
            if view.choices or view.input is not None:  # the view waits for the guest
                answer = await self._answer(view, channel)
                if answer is not None:  # None: a move of the guest's hand, not on the screen
                    await channel.actions.put(answer)

    async def _answer(self, view: View, channel: Channel) -> Action | None:
        while self._actions:
            action = self._actions.pop(0)
            if action.optional and action.on is not view.step:
                continue
            if not action.is_guest_move:
                await self._device_move(action)
                continue
            move = self._guest_move(action, view)
            if move is None:
                return None
            self.effort.count(move)
            if move.kind is ActionKind.LANGUAGE and view.step is not Step.LANGUAGE:
                # Elsewhere a language switch answers nothing: the screen still waits for
                # the guest's next move.
                await channel.actions.put(move)
                continue
            return move
        self.transcript.append("(script ended: the guest walks away)")
        return Action(ActionKind.TIMEOUT)

    def _guest_move(self, action: ScriptAction, view: View) -> Action | None:
        if action.on is not None and action.on is not view.step:
            raise ScriptError(f"expected the {action.on} screen, the journey shows {view.step}")
        if action.insert_card is not None:
            uid, _, key = self._value(action.insert_card).partition("/")
            try:  # with a key: a card holding it; a UID alone: the card the guest carries
                card = guest_card(uid, bytes.fromhex(key)) if key else bytes.fromhex(uid)
            except ValueError:
                raise ScriptError("insert_card takes a UID, or a UID and key: UID/KEY") from None
            self._card_path("insert_card").guest_inserts(card)
            return None
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
            choice = view.choices[index].id
        chosen = next((c for c in view.choices if c.id == choice), None)
        if chosen is None:
            offered = [c.id for c in view.choices]
            raise ScriptError(f"no choice {choice!r} on the {view.step} screen (has {offered})")
        if not chosen.enabled:
            raise ScriptError(f"choice {choice!r} on the {view.step} screen is greyed out")
        return Action(ActionKind.CHOOSE, choice)

    async def _device_move(self, action: ScriptAction) -> None:
        if action.wait is not None:
            await asyncio.sleep(action.wait)
        elif action.take_card is not None:
            self._card_path("take_card").inner.script_guest(action.take_card)
        elif action.card_fault is not None:
            fault: CardFault = action.card_fault
            self._card_path("card_fault").fault_next_cards(fault)
        elif action.card_stock is not None:
            self._card_path("card_stock").inner.refill(action.card_stock)
        elif action.paper is not None:
            self._printer().set_paper(PAPER_LEVELS[action.paper])
        elif action.backend_down is not None:
            await self._sim("backend_down").faults(fail_next=action.backend_down)
        elif action.lose_replies is not None:
            await self._sim("lose_replies").faults(lose_next=action.lose_replies)
        elif action.backend_outage is not None:
            await self._sim("backend_outage").outage(action.backend_outage)
        else:
            assert action.clock is not None
            await self._set_clock(action.clock)

    async def _set_clock(self, local_time: str) -> None:
        """Both clocks to ``local_time`` ("HH:MM") of the journey's current local day."""
        sim = self._sim("clock")
        assert self._clock is not None  # run_script gives the journey its own clock
        hour, minute = (int(part) for part in local_time.split(":"))
        today = self._clock().astimezone(self._zone).date()
        now = datetime.combine(today, time(hour, minute), tzinfo=self._zone).astimezone(UTC)
        await sim.set_clock(now)
        self._clock.set(now)

    def _card_path(self, move: str) -> SimCardPath:
        path = self._devices.dispenser
        if not isinstance(path, SimCardPath):
            raise ScriptError(f"{move} needs the simulated dispenser")
        return path

    def _printer(self) -> SimPrinter:
        printer = self._devices.printer
        if not isinstance(printer, SimPrinter):
            raise ScriptError("paper needs the simulated printer")
        return printer

    def _sim(self, move: str) -> ScriptBackend:
        if self._backend is None:
            raise ScriptError(f"{move} needs the property simulator: run_script(..., backend=)")
        return self._backend

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
        "cards_returned": len(result.cards_returned),
    }
    for name, actual in checks.items():
        wanted = getattr(expect, name)
        if wanted is not None and wanted != actual:
            failures.append(f"{name}: expected {wanted}, got {actual}")
    missing = [step.value for step in expect.steps_include if step not in result.steps]
    if missing:
        failures.append(f"steps not shown: {missing}")
    return failures
