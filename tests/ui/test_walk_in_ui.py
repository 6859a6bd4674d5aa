"""The walk-in journey behind the real Kivy app under Xvfb: the guest picks the nights and
browses the room types (each with its photo and price) by touch, books one, and walks away
at the summary: the PMS's booking is cancelled, the room back on sale."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from kiosk.api.pms_types import AccomStatus
from kiosk.demo import demo_config
from kiosk.journeys.messages import Step
from kiosk.runtime import start_runtime
from tests.contract.test_journey_walk_in import walk_in_stays
from tests.ui.guest import Guest

pytestmark = pytest.mark.timeout(90)


async def test_a_guest_browses_the_rooms_books_one_and_walks_away(
    ui: Any, tmp_path: Path
) -> None:
    runtime = await start_runtime(demo_config(tmp_path))
    try:
        guest = Guest(ui)
        run = asyncio.ensure_future(runtime.lobby.run(ui.channel))
        await guest.on(Step.ATTRACT)
        await guest.start("walk_in")
        nights = await guest.on(Step.WALK_IN_NIGHTS)
        assert nights.frame.choices.children[-1].text.startswith("1 night(s) · until ")
        await guest.choose("n2")
        first = await guest.on(Step.WALK_IN_ROOM)
        shown = {first.view.params["room_type"]}
        assert first.ids.photo.texture is not None and first.ids.photo.height > 200
        lines = [w.text for w in first.ids.details.children[::-1]]
        assert "2 night(s)" in lines
        await guest.choose("other")
        second = await guest.on(Step.WALK_IN_ROOM)
        shown.add(second.view.params["room_type"])
        assert len(shown) == 2  # another type, with its own photo
        assert second.ids.photo.texture is not None
        await guest.choose("book")
        summary = await guest.on(Step.SUMMARY)
        lines = [w.text for w in summary.ids.details.children[::-1]]
        assert not any(line.startswith("Guest:") for line in lines)  # nobody named yet
        assert "Nights: 2" in lines
        await guest.choose("not_mine")
        result = await asyncio.wait_for(run, 15)
        assert (result.outcome, result.journey) == ("cancelled_by_guest", "walk_in")
        assert await runtime.outbox.drain(10)
        (stay,) = walk_in_stays(runtime.sim)
        assert stay["accom_status"] == AccomStatus.CANCELLED
    finally:
        await runtime.aclose()
