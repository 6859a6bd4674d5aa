"""Amenities and when they can be booked (seed 000: amenity list, time list).

Each amenity has a daily bookable window and closed slots inside it (UTC times of day).
A booking must lie inside the window of its day, miss every closed slot and every
active (pending or successful) booking of the same amenity, and last 1 to 600 minutes.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from kiosk.sim.openability import lookup
from kiosk.sim.openability.values import at, from_text, param_date, to_text
from kiosk.sim.params import BAD_PARAMS, CONFLICT, Params, SimError

if TYPE_CHECKING:
    from kiosk.sim.server import SimContext

ACTIVE_STATES = ("pending", "success")
MAX_DURATION = 600  # minutes


def _closed_slots(conn: sqlite3.Connection, amenity_id: str) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT start_time, finish_time FROM oa_amenity_closed WHERE amenity_id = ?"
        " ORDER BY start_time",
        (amenity_id,),
    ).fetchall()


def _bookings_between(
    conn: sqlite3.Connection, amenity_id: str, start: datetime, finish: datetime
) -> list[sqlite3.Row]:
    """Active bookings of the amenity that overlap ``[start, finish)``."""
    return conn.execute(
        "SELECT start_time, finish_time FROM oa_booking WHERE amenity_id = ?"
        " AND state IN (?, ?) AND start_time < ? AND finish_time > ? ORDER BY start_time",
        (amenity_id, *ACTIVE_STATES, to_text(finish), to_text(start)),
    ).fetchall()


def check_slot(
    conn: sqlite3.Connection, amenity: sqlite3.Row, start: datetime, duration: int, now: datetime
) -> datetime:
    """The end of a bookable slot, or a :class:`SimError` saying why it cannot be booked."""
    if not 1 <= duration <= MAX_DURATION:
        raise SimError(BAD_PARAMS, f"param.duration must be from 1 to {MAX_DURATION} minutes")
    finish = start + timedelta(minutes=duration)
    day = start.date()
    opens, closes = at(day, amenity["open_time"]), at(day, amenity["close_time"])
    if start < opens or finish > closes:
        raise SimError(
            CONFLICT,
            f"the amenity can be booked from {amenity['open_time']} to"
            f" {amenity['close_time']} UTC only",
        )
    if finish <= now:
        raise SimError(CONFLICT, "that slot is already over")
    for slot in _closed_slots(conn, amenity["amenity_id"]):
        if start < at(day, slot["finish_time"]) and at(day, slot["start_time"]) < finish:
            raise SimError(
                CONFLICT,
                f"the amenity is closed from {slot['start_time']} to {slot['finish_time']} UTC",
            )
    if _bookings_between(conn, amenity["amenity_id"], start, finish):
        raise SimError(CONFLICT, "the amenity is already booked in that period")
    return finish


def amenity_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "amenity_id": row["amenity_id"],
        "amenity_name": row["name"],
        "amenity_picture_url": row["picture_url"],
        "amenity_description": row["description"],
    }


def get_booking_amenity_list(conn: sqlite3.Connection, params: Params, ctx: SimContext) -> Any:
    lookup.residence(conn, params)
    return [amenity_json(row) for row in conn.execute("SELECT * FROM oa_amenity ORDER BY seq")]


def _hhmm(moment: datetime, *, round_up: bool) -> str:
    """A booking's edge as a whole-minute time of day (bookings never cross midnight:
    they lie inside their day's window)."""
    if round_up and moment.second:
        moment += timedelta(minutes=1)
    return moment.strftime("%H:%M")


def get_booking_time_list(conn: sqlite3.Connection, params: Params, ctx: SimContext) -> Any:
    """The day's window; unbookable: the closed slots and the active bookings of that day."""
    lookup.residence(conn, params)
    amenity = lookup.amenity(conn, params)
    day = param_date(params, "date")
    amenity_id = amenity["amenity_id"]
    blocked = [(s["start_time"], s["finish_time"]) for s in _closed_slots(conn, amenity_id)]
    day_start = at(day, "00:00")
    blocked += [
        (
            _hhmm(from_text(b["start_time"]), round_up=False),
            _hhmm(from_text(b["finish_time"]), round_up=True),
        )
        for b in _bookings_between(conn, amenity_id, day_start, day_start + timedelta(days=1))
    ]
    return {
        "allowed_booking_time": {
            "start_time": amenity["open_time"],
            "finish_time": amenity["close_time"],
        },
        "disallowed_booking_time": [
            {"start_time": s, "finish_time": f} for s, f in sorted(blocked)
        ],
    }
