"""The amenity journey on the assembled kiosk (``start_runtime`` with its embedded simulator
over loopback HTTP, as ``kiosk demo`` runs it): scripted guests book, cancel and claim, and
the simulator's bookings are asserted after each."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kiosk.demo import DEMO_QR_KEY, demo_config
from kiosk.demo.script import (
    GuestScript,
    ScriptError,
    ScriptReport,
    SimServerBackend,
    run_script,
    values_from_manifest,
)
from kiosk.journeys.messages import Step, View
from kiosk.runtime import Runtime, start_runtime
from kiosk.sim.demo import write_manifest
from tests.journey_kit import FAST

pytestmark = pytest.mark.timeout(120)

GUEST = [{"on": "attract", "tap": "amenity"}, {"on": "scan", "scan": "@amenity_guest"}]
BOOK_TOMORROW_AT = [
    {"on": "amenity_menu", "tap": "book"},
    {"on": "amenity_pick", "tap": "#0"},  # the first amenity: the gym
    {"on": "amenity_pick", "tap": "d1"},  # tomorrow
]


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    config = demo_config(tmp_path)
    config = config.model_copy(
        update={"journey": FAST.model_copy(update={"timezone": config.journey.timezone})}
    )
    runtime = await start_runtime(config)
    yield runtime
    await runtime.aclose()


@pytest.fixture
def values(runtime: Runtime, tmp_path: Path) -> dict[str, str]:
    manifest = write_manifest(
        tmp_path / "manifest.json", runtime.sim, runtime.demo, DEMO_QR_KEY.encode()
    )
    return values_from_manifest(manifest)


async def play(
    runtime: Runtime, values: dict[str, str], actions: list[dict[str, Any]], outcome: str,
    **kwargs: Any,
) -> ScriptReport:  # fmt: skip
    script = GuestScript.model_validate(
        {"name": "amenity test", "actions": actions, "expect": {"outcome": outcome}}
    )
    report = await run_script(
        runtime.journey,
        script,
        values,
        lobby=runtime.lobby,
        backend=SimServerBackend(runtime.sim),
        **kwargs,
    )
    assert report.failures == [], report.transcript
    return report


def bookings(runtime: Runtime, residence_no: str = "503") -> list[dict[str, Any]]:
    with runtime.sim.db.transaction() as conn:
        rows = conn.execute(
            "SELECT b.*, a.name FROM oa_booking b"
            " JOIN oa_amenity a ON a.amenity_id = b.amenity_id"
            " JOIN oa_residence r ON r.residence_id = b.residence_id"
            " WHERE r.residence_no = ? ORDER BY b.start_time",
            (residence_no,),
        ).fetchall()
    return [dict(row) for row in rows]


async def test_a_staying_guest_books_a_slot_and_gets_its_pin_on_a_slip(
    runtime: Runtime, values: dict[str, str]
) -> None:
    shown: list[View] = []

    async def seen(view: View) -> None:
        shown.append(view)

    await play(
        runtime,
        values,
        [*GUEST, *BOOK_TOMORROW_AT, {"on": "amenity_slot", "tap": "s1"},
         {"on": "amenity_booked", "tap": "continue"}, {"on": "amenity_menu", "tap": "done"}],
        "amenity_done",
        on_view=seen,
    )  # fmt: skip
    (booking,) = bookings(runtime)
    assert booking["name"] == "Gym" and booking["state"] == "success"
    slot = next(v for v in shown if v.step is Step.AMENITY_SLOT)
    starts = datetime.fromisoformat(booking["start_time"]).replace(tzinfo=UTC)
    assert starts.astimezone(runtime.journey.catalogue.tz).strftime("%H:%M") == (
        slot.choices[1].params["time"]
    )
    booked = next(v for v in shown if v.step is Step.AMENITY_BOOKED)
    assert booked.params["pin_code"] == booking["pin_code"]
    assert booked.message == "amenity.booked.printed"
    slips = list((runtime.config.devices.printer.sim_folder or Path()).glob("*"))
    assert slips, "the booking slip was printed"


async def test_closed_slots_are_greyed_out_and_cannot_be_chosen(
    runtime: Runtime, values: dict[str, str]
) -> None:
    shown: list[View] = []

    async def seen(view: View) -> None:
        shown.append(view)

    # The demo gym closes 04:00-05:00 UTC: 12:00 in the property's zone, the fifth slot.
    with pytest.raises(ScriptError, match="greyed out"):
        await play(
            runtime, values,
            [*GUEST, *BOOK_TOMORROW_AT, {"on": "amenity_slot", "tap": "s4"}],
            "amenity_done", on_view=seen,
        )  # fmt: skip
    slot = next(v for v in shown if v.step is Step.AMENITY_SLOT)
    greyed = [c.params["time"] for c in slot.choices if not c.enabled]
    assert greyed == ["12:00"]
    assert bookings(runtime) == []


async def test_a_slot_taken_meanwhile_sends_the_guest_back_to_choose_again(
    runtime: Runtime, values: dict[str, str]
) -> None:
    shown: list[View] = []

    async def taken_by_another_guest(view: View) -> None:
        shown.append(view)
        if view.step is Step.AMENITY_SLOT and len(shown) < 20:
            rival = runtime.amenity_desk
            assert rival is not None
            residence = _residence(runtime, "101")
            start = datetime.fromisoformat(
                _utc_of(runtime, view.choices[1].params["time"], tomorrow=True)
            )
            await rival.book_amenity(residence, _gym(runtime), start, 60, "rival-booking")

    await play(
        runtime, values,
        [*GUEST, *BOOK_TOMORROW_AT, {"on": "amenity_slot", "tap": "s1"},
         {"on": "amenity_menu", "tap": "done"}],
        "amenity_done", on_view=taken_by_another_guest,
    )  # fmt: skip
    menu = [v for v in shown if v.step is Step.AMENITY_MENU]
    assert menu[-1].message == "amenity.menu.slot_taken"
    assert bookings(runtime) == []  # the guest's residence booked nothing
    assert len(bookings(runtime, "101")) == 1


async def test_a_guest_cancels_their_booking(runtime: Runtime, values: dict[str, str]) -> None:
    await play(
        runtime, values,
        [*GUEST, *BOOK_TOMORROW_AT, {"on": "amenity_slot", "tap": "s2"},
         {"on": "amenity_booked", "tap": "continue"},
         {"on": "amenity_menu", "tap": "bookings"}, {"on": "amenity_pick", "tap": "#0"},
         {"on": "amenity_booked", "tap": "cancel_booking"}, {"on": "amenity_menu", "tap": "done"}],
        "amenity_done",
    )  # fmt: skip
    assert bookings(runtime) == []
    assert runtime.outbox.depth() == 0


async def test_a_lost_reply_still_shows_the_booking_made_once(
    runtime: Runtime, values: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "kiosk.outbox")
    report = await play(
        runtime, values,
        [*GUEST, *BOOK_TOMORROW_AT, {"lose_replies": 1}, {"on": "amenity_slot", "tap": "s3"},
         {"on": "amenity_booked", "tap": "continue"}, {"on": "amenity_menu", "tap": "done"}],
        "amenity_done",
    )  # fmt: skip
    assert "create_booking_info" in caplog.text and "ambiguous" in caplog.text  # reply lost
    assert Step.AMENITY_BOOKED in report.result.steps
    assert len(bookings(runtime)) == 1


async def test_a_code_of_the_guests_residence_is_claimed_and_another_is_refused(
    runtime: Runtime, values: dict[str, str]
) -> None:
    shown: list[View] = []

    async def seen(view: View) -> None:
        shown.append(view)

    await play(
        runtime, values,
        [*GUEST, {"on": "amenity_menu", "tap": "code"}, {"on": "scan", "scan": "@oa_gym"},
         {"on": "amenity_menu", "tap": "code"}, {"on": "scan", "scan": "@oa_amenity_guest"},
         {"on": "amenity_booked", "tap": "continue"}, {"on": "amenity_menu", "tap": "done"}],
        "amenity_done", on_view=seen,
    )  # fmt: skip
    menus = [v.message for v in shown if v.step is Step.AMENITY_MENU]
    assert "amenity.menu.code_refused" in menus  # residence 101's code: not this guest's
    assert [b["name"] for b in bookings(runtime)] == ["Pool"]
    assert bookings(runtime, "101") == []


async def test_a_guest_not_staying_now_is_refused(
    runtime: Runtime, values: dict[str, str]
) -> None:
    await play(
        runtime, values,
        [{"on": "attract", "tap": "amenity"}, {"on": "scan", "scan": "@prepaid"},
         {"on": "refusal", "tap": "finish"}],
        "refused:not_in_house",
    )  # fmt: skip


def _residence(runtime: Runtime, residence_no: str) -> str:
    with runtime.sim.db.transaction() as conn:
        row = conn.execute(
            "SELECT residence_id FROM oa_residence WHERE residence_no = ?", (residence_no,)
        ).fetchone()
    return str(row["residence_id"])


def _gym(runtime: Runtime) -> str:
    with runtime.sim.db.transaction() as conn:
        row = conn.execute("SELECT amenity_id FROM oa_amenity WHERE name = 'Gym'").fetchone()
    return str(row["amenity_id"])


def _utc_of(runtime: Runtime, local: str, *, tomorrow: bool) -> str:
    """The aware UTC time of ``local`` ("HH:MM") on the property's tomorrow."""
    from datetime import time, timedelta

    tz = runtime.journey.catalogue.tz
    day = datetime.now(UTC).astimezone(tz).date() + timedelta(days=1 if tomorrow else 0)
    hour, minute = (int(p) for p in local.split(":"))
    return datetime.combine(day, time(hour, minute), tz).astimezone(UTC).isoformat()


async def test_a_cancellation_made_while_the_system_is_away_is_delivered_once_later(
    runtime: Runtime, values: dict[str, str]
) -> None:
    await play(
        runtime, values,
        [*GUEST, *BOOK_TOMORROW_AT, {"on": "amenity_slot", "tap": "s2"},
         {"on": "amenity_booked", "tap": "continue"},
         {"on": "amenity_menu", "tap": "bookings"}, {"on": "amenity_pick", "tap": "#0"},
         {"backend_down": 2}, {"on": "amenity_booked", "tap": "cancel_booking"},
         {"on": "amenity_menu", "tap": "done"}],
        "amenity_done",
    )  # fmt: skip
    assert len(bookings(runtime)) == 1 and runtime.outbox.depth() == 1  # stored, not sent
    assert await runtime.outbox.drain(20)
    assert bookings(runtime) == []
    assert runtime.outbox.depth() == 0
