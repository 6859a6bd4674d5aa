"""The amenity journey behind the real Kivy app under Xvfb: the guest touches the menu, a
greyed-out slot does nothing, a free one books, and the simulator holds the booking whose
PIN code the screen shows. The kiosk is the assembled one (``start_runtime`` with its
embedded simulator over loopback HTTP and the simulated devices)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from kiosk.demo import DEMO_QR_KEY, demo_config
from kiosk.demo.script import values_from_manifest
from kiosk.journeys.messages import Step
from kiosk.runtime import start_runtime
from kiosk.sim.demo import write_manifest
from tests.ui.guest import Guest

pytestmark = pytest.mark.timeout(90)


async def test_a_staying_guest_books_the_gym_by_touch(ui: Any, tmp_path: Path) -> None:
    runtime = await start_runtime(demo_config(tmp_path))
    try:
        manifest = write_manifest(
            tmp_path / "manifest.json", runtime.sim, runtime.demo, DEMO_QR_KEY.encode()
        )
        values = values_from_manifest(manifest)
        guest = Guest(ui)
        run = asyncio.ensure_future(runtime.lobby.run(ui.channel))
        attract = await guest.on(Step.ATTRACT)
        menu = [b.text for b in attract.frame.choices.children[::-1]]
        assert menu[0] == "Check in" and "Book an amenity" in menu
        await guest.start("amenity")
        await guest.on(Step.SCAN)
        guest.scan(values["amenity_guest"])
        await guest.on(Step.AMENITY_MENU)
        await guest.choose("book")
        await guest.on(Step.AMENITY_PICK, "amenity.pick_amenity.message")
        assert guest.choice("back").text == "Back"
        gym = next(b for b in guest.screen.frame.choices.children if b.text == "Gym")
        await ui.tap(gym)
        await guest.on(Step.AMENITY_PICK, "amenity.pick_day.message")
        await guest.choose("d1")
        slots = await guest.on(Step.AMENITY_SLOT)
        closed = guest.choice("s4")  # 04:00-05:00 UTC: the gym's closed hour
        assert closed.text == "12:00" and closed.disabled and closed.opacity < 1
        await ui.tap(closed)
        await ui.frames(3)
        assert guest.screen is slots and ui.no_action()  # a greyed-out slot does nothing
        await guest.choose("s1")
        booked = await guest.on(Step.AMENITY_BOOKED)
        lines = [w.text for w in booked.ids.details.children[::-1]]
        with runtime.sim.db.transaction() as conn:
            (row,) = conn.execute(
                "SELECT b.pin_code, b.start_time FROM oa_booking b JOIN oa_residence r"
                " ON r.residence_id = b.residence_id WHERE r.residence_no = '503'"
            ).fetchall()
        assert f"PIN code: {row['pin_code']}" in lines and "Until 10:00" in lines
        await guest.choose("continue")
        await guest.on(Step.AMENITY_MENU)
        await guest.choose("done")
        result = await asyncio.wait_for(run, 10)
        assert (result.outcome, result.journey) == ("amenity_done", "amenity")
    finally:
        await runtime.aclose()
