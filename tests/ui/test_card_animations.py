"""The card screen's progress cue and "take your card" arrow, and the done screen's success
animation (issue 12, Deliver 2: animations): they run while their screen is shown, stop
when the guest leaves it, and keep still when the timing says 0 (as every other UI test)."""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from kiosk.journeys.messages import Step, View
from tests.ui.driver import UiDriver
from tests.ui.layout_checks import VIEWS, not_blank, overflows

pytestmark = pytest.mark.timeout(90)

BUSY = View(Step.BUSY, "busy.title", "busy.checking_in", timeout_s=None)


def card_view(stage: str) -> View:
    return View(Step.KEY_PROGRESS, "key_progress.title", f"key_progress.{stage}",
                params={"room": "201", "card": 1, "cards": 2}, progress=(1, 2),
                timeout_s=None)  # fmt: skip


async def test_the_card_cue_runs_while_a_card_is_made_and_stops_when_the_guest_leaves(
    ui: UiDriver,
) -> None:
    from screens.widgets.card_progress import WAVE_GAP

    # a loop of 2 s: software GL draws the panel a few times a second
    ui.app.timing = dataclasses.replace(ui.app.timing, card_cue_s=2.0)
    screen = await ui.show(card_view("encode"))
    track, scene = screen.ids.track, screen.ids.scene
    assert screen.motion.running and track.stage == scene.stage == 1
    born = scene.card_size[0] * 0.62  # where a wave starts, at the card's edge
    # The phase moves on (the track's arc turns with it, the waves run outwards) and the
    # loop comes round again: sampled once a frame, however slow the frames are.
    phases: list[float] = []
    await ui.until(lambda: sample(phases, screen.phase) and len(set(phases)) >= 3, 15)
    await ui.until(lambda: sample(phases, screen.phase) and phases[-1] < phases[-2], 15)
    assert track.phase == screen.phase
    assert scene.wave_radii[0] == pytest.approx(born + screen.phase * WAVE_GAP)

    presented = await ui.show(card_view("present"))
    assert presented is screen and screen.motion.running  # one cue across the stages
    assert scene.stage == 3 and max(scene.wave_alphas) == 0
    heights: list[float] = []  # the card heads down, for the slot below
    await ui.until(
        lambda: sample(heights, scene.card_pos[1]) and max(heights) - heights[-1] > 20, 10
    )

    await ui.show(BUSY)
    assert not screen.motion.running and screen.phase == 0
    await ui.frames(4)
    assert screen.phase == 0


@pytest.mark.parametrize("slot", ["below", "left", "right"])
async def test_take_your_card_points_at_the_slot(ui: UiDriver, slot: str) -> None:
    """``[ui] card_slot``: the arrow sits at the scene's edge on the slot's side and points
    there, and the card glides that way."""
    from screens.theme import ICONS

    ui.app.card_slot = slot
    screen = await ui.show(card_view("present"))
    scene = screen.ids.scene
    arrow = next(w for w in scene.children if getattr(w, "icon", "") == f"slot_{slot}")
    assert arrow.opacity == 1 and arrow.text == ICONS[f"slot_{slot}"]
    ax, ay = arrow.center
    cx, cy = scene.center
    toward = {"below": cy - ay, "left": cx - ax, "right": ax - cx}[slot]
    assert toward > scene.card_size[0 if slot != "below" else 1] / 2  # beyond the card
    assert scene.collide_widget(arrow) and inside(arrow, scene)
    # Still (the tests' timing), the card rests in the middle; half way round the loop it
    # has moved towards the arrow.
    rest = list(scene.card_pos)
    screen.phase = 0.5
    moved = {"below": rest[1] - scene.card_pos[1], "left": rest[0] - scene.card_pos[0],
             "right": scene.card_pos[0] - rest[0]}[slot]  # fmt: skip
    assert moved > 10
    card = (*scene.card_pos, scene.card_pos[0] + scene.card_size[0],
            scene.card_pos[1] + scene.card_size[1])  # fmt: skip
    assert not overlap(card, (arrow.x, arrow.y, arrow.right, arrow.top))  # the arrow stays clear
    screen.phase = 0.0
    mark = screen.ids.track.children[0]  # the last stage, "take card"
    assert mark.state(screen.card_stage) == "current"
    assert not_blank(await ui.screenshot(f"present-{slot}")) and overflows(ui) == []


def sample(values: list[float], value: float) -> bool:
    """Keep ``value`` (a condition for ``until``: it is polled many times a frame)."""
    if not values or values[-1] != value:
        values.append(value)
    return len(values) >= 2


def inside(widget: Any, box: Any) -> bool:
    return (box.x <= widget.x and widget.right <= box.right
            and box.y <= widget.y and widget.top <= box.top)  # fmt: skip


def overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


async def test_the_stages_of_the_track_follow_the_journey(ui: UiDriver) -> None:
    screen = await ui.show(card_view("verify"))
    states = [m.state(screen.card_stage) for m in reversed(screen.ids.track.children)]
    assert states == ["done", "done", "current", "todo"]
    assert not screen.motion.running  # the tests' timing: card_cue_s 0
    shot = await ui.screenshot("verify")
    assert not_blank(shot) and overflows(ui) == []


async def test_the_success_tick_pops_in_and_the_details_follow(ui: UiDriver) -> None:
    # slower than the kiosk's: software GL draws the panel only a few times a second
    ui.app.timing = dataclasses.replace(ui.app.timing, success_s=3.0)
    await ui.show(BUSY)
    screen = await ui.show(VIEWS["done"])
    hero = screen.frame.hero
    cards = list(reversed(screen.ids.details.children))
    assert screen.motion.running and len(cards) >= 4
    assert cards[-1].opacity < 1  # the cards follow the tick
    # "Finish" is there from the start: the animation holds nobody up.
    finish = ui.button("Finish")
    assert finish.opacity == 1 and not finish.disabled
    pops: list[float] = []
    await ui.until(lambda: sample(pops, hero.pop) and 0 < pops[-1] != 1, 10)  # it grows
    await ui.until(lambda: hero.ripple > 0, 10)
    await ui.until(lambda: not screen.motion.running, 15)
    assert hero.pop == 1 and all(card.opacity == 1 for card in cards)


async def test_leaving_the_done_screen_stops_the_animation_where_it_ends(ui: UiDriver) -> None:
    ui.app.timing = dataclasses.replace(ui.app.timing, success_s=5.0)
    screen = await ui.show(VIEWS["done"])
    hero = screen.frame.hero
    await ui.until(lambda: hero.pop > 0.05)
    await ui.show(VIEWS["attract"])
    assert not screen.motion.running
    assert (hero.pop, hero.ripple) == (1, 0)
    await ui.frames(3)
    assert (hero.pop, hero.ripple) == (1, 0)


async def test_without_animation_the_done_screen_is_drawn_at_once(ui: UiDriver) -> None:
    screen = await ui.show(VIEWS["done"])
    assert not screen.motion.running
    assert screen.frame.hero.pop == 1
    assert all(card.opacity == 1 for card in screen.ids.details.children)
    assert not_blank(await ui.screenshot("done")) and overflows(ui) == []


def test_the_slot_comes_from_the_configuration(kivy_display: str, tmp_path: Path) -> None:
    from kiosk.config import OperatorConfig, UiConfig
    from kiosk.i18n import Catalogue
    from kiosk.journeys.messages import Channel
    from kiosk.state import StateDb
    from screens.launch import build_app
    from tests.ui.driver import NoOperatorPort

    with contextlib.closing(StateDb.in_dir(tmp_path)) as state:
        app = build_app(Channel(), Catalogue.load(tz="Asia/Shanghai"), NoOperatorPort(),
                        OperatorConfig(), UiConfig(card_slot="left"), state=state)  # fmt: skip
        assert app.card_slot == "left"
    assert UiConfig().card_slot == "below"
