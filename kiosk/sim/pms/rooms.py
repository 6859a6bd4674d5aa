"""Rooms and their occupancy: names, the no-double-booking rule, and the room queries.

A room is taken over ``[start, end)`` by every booked (40) or checked-in (70) stay
that overlaps it; a checked-in guest who has not left yet keeps the room until
check-out, even past the booked end (as if leaving any second now). Stays without a
room (room_id 0) take one room of their type: a type has room for one more stay only
while its rooms outnumber the stays already holding one over the interval.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from kiosk.sim.params import CONFLICT, Params, SimError
from kiosk.sim.pms.store import (
    BOOKED,
    CHECKED_IN,
    flag,
    interval,
    local_date,
    now_ts,
    require_accom,
    require_room,
    require_room_type,
    today,
    zone,
)

_TAKEN = f"""
    accom_status IN ({BOOKED}, {CHECKED_IN}) AND accom_id != :exclude
    AND start_time < :end
    AND (CASE WHEN accom_status = {CHECKED_IN} THEN MAX(end_time, :now + 1) ELSE end_time END)
        > :start
"""


def full_name(conn: sqlite3.Connection, room_type_id: int, room_id: int | None) -> str:
    """The seed's "room type-room" name; just the type for a stay without a room."""
    type_name = require_room_type(conn, room_type_id)["name"]
    if room_id is None:
        return type_name
    return f"{type_name}-{require_room(conn, room_id)['name']}"


def stay_view(conn: sqlite3.Connection, accom: sqlite3.Row) -> dict[str, Any]:
    """The room and dates of a stay, the shape many list replies share."""
    room_id = accom["room_id"]
    return {
        "accom_id": accom["accom_id"],
        "room_id": room_id or 0,
        "room_name": require_room(conn, room_id)["name"] if room_id else "",
        "room_full_name": full_name(conn, accom["room_type_id"], room_id),
        "checkin_start_time": accom["start_time"],
        "checkin_end_time": accom["end_time"],
    }


def conflicts(
    conn: sqlite3.Connection, room_id: int, start: int, end: int, now: int, exclude: int = 0
) -> list[sqlite3.Row]:
    """The stays (other than ``exclude``) holding ``room_id`` somewhere in ``[start, end)``."""
    return conn.execute(
        f"SELECT * FROM pms_accom WHERE room_id = :room AND {_TAKEN} ORDER BY start_time",
        {"room": room_id, "start": start, "end": end, "now": now, "exclude": exclude},
    ).fetchall()


def held_until(status: int, end: int, now: int) -> int:
    """When a stay in ``status`` booked to ``end`` frees its room: a checked-in guest holds
    it until check-out, even past ``end`` (the rule of ``_TAKEN``)."""
    return max(end, now + 1) if status == CHECKED_IN else end


def taken_until(stays: list[sqlite3.Row], now: int) -> int:
    """When the last of the conflicting ``stays`` frees the room (0: none)."""
    return max((held_until(s["accom_status"], s["end_time"], now) for s in stays), default=0)


def require_room_free(
    conn: sqlite3.Connection, room_id: int, start: int, end: int, now: int, exclude: int = 0
) -> None:
    clash = conflicts(conn, room_id, start, end, now, exclude)
    if clash:
        raise SimError(
            CONFLICT,
            f"room {require_room(conn, room_id)['name']} is taken by stay "
            f"{clash[0]['accom_id']} from {clash[0]['start_time']} to "
            f"{taken_until(clash, now)}",
        )


def free_rooms(
    conn: sqlite3.Connection, room_type_id: int, start: int, end: int, now: int, exclude: int = 0
) -> int:
    """Rooms of the type left over ``[start, end)`` for one more stay, assigned or not."""
    args = {"type": room_type_id, "start": start, "end": end, "now": now, "exclude": exclude}
    rooms = conn.execute(
        "SELECT COUNT(*) FROM pms_room WHERE room_type_id = :type", args
    ).fetchone()[0]
    busy_rooms = conn.execute(
        f"SELECT COUNT(DISTINCT room_id) FROM pms_accom WHERE room_type_id = :type "
        f"AND room_id IN (SELECT room_id FROM pms_room WHERE room_type_id = :type) AND {_TAKEN}",
        args,
    ).fetchone()[0]
    unassigned = conn.execute(
        f"SELECT COUNT(*) FROM pms_accom WHERE room_type_id = :type AND room_id IS NULL "
        f"AND {_TAKEN}",
        args,
    ).fetchone()[0]
    return rooms - busy_rooms - unassigned


def require_type_capacity(
    conn: sqlite3.Connection, room_type_id: int, start: int, end: int, now: int, exclude: int = 0
) -> None:
    if free_rooms(conn, room_type_id, start, end, now, exclude) < 1:
        name = require_room_type(conn, room_type_id)["name"]
        raise SimError(CONFLICT, f"no room of type {name} is left from {start} to {end}")


# --- handlers -------------------------------------------------------------------------------


def get_all_room_list(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    pms_id = params.integer("pms_id")
    zone(conn, pms_id)  # NOT_FOUND for an unknown property
    wanted = params.integers("room_type_ids", None)
    types = conn.execute(
        "SELECT * FROM pms_room_type WHERE pms_id = ? ORDER BY room_type_id", (pms_id,)
    ).fetchall()
    listing = []
    for rt in types:
        if wanted is not None and rt["room_type_id"] not in wanted:
            continue
        rooms = conn.execute(
            "SELECT * FROM pms_room WHERE room_type_id = ? ORDER BY sort, room_id",
            (rt["room_type_id"],),
        ).fetchall()
        listing.append(
            {
                "pms_id": pms_id,
                "name": rt["name"],
                "short_name": rt["short_name"],
                "room_type_id": rt["room_type_id"],
                "rooms": [_calendar_room(conn, room) for room in rooms],
            }
        )
    return {"list": listing}


# room_status is undocumented in the seed; the simulator's values:
ROOM_VACANT, ROOM_OCCUPIED = 10, 20


def _calendar_room(conn: sqlite3.Connection, room: sqlite3.Row) -> dict[str, Any]:
    in_house = conn.execute(
        "SELECT 1 FROM pms_accom WHERE room_id = ? AND accom_status = ?",
        (room["room_id"], CHECKED_IN),
    ).fetchone()
    return {
        "room_id": room["room_id"],
        "room_type_id": room["room_type_id"],
        "room_name": room["name"],
        "room_status": ROOM_OCCUPIED if in_house else ROOM_VACANT,
        "is_dirty": flag(bool(room["is_dirty"])),
        "sort": room["sort"],
    }


def list_occupied(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    room_type_id = params.integer("room_type_id")
    require_room_type(conn, room_type_id)
    start, end = interval(params)
    rooms = conn.execute(
        "SELECT room_id, is_dirty FROM pms_room WHERE room_type_id = ? ORDER BY room_id",
        (room_type_id,),
    ).fetchall()
    now = now_ts(ctx)
    return {
        "occupy_room_ids": [
            r["room_id"] for r in rooms if conflicts(conn, r["room_id"], start, end, now)
        ],
        "dirty_room_ids": [r["room_id"] for r in rooms if r["is_dirty"]],
    }


def check_room_availability(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict:
    room = require_room(conn, params.integer("room_id"))
    start, end = interval(params)
    now = now_ts(ctx)
    clash = conflicts(conn, room["room_id"], start, end, now)
    return {
        "is_available": flag(not clash),
        "room_name": room["name"],
        "occupied_end_time": taken_until(clash, now),
    }


def get_room_status(conn: sqlite3.Connection, params: Params, ctx: Any) -> list[dict[str, Any]]:
    accom = require_accom(conn, params.integer("accom_id"))
    room_type_id = params.integer("room_type_id")
    rt = require_room_type(conn, room_type_id)
    start, end = interval(params)
    tz = zone(conn, rt["pms_id"])
    now, day = now_ts(ctx), today(ctx, tz)
    result = []
    rooms = conn.execute(
        "SELECT * FROM pms_room WHERE room_type_id = ? ORDER BY sort, room_id", (room_type_id,)
    ).fetchall()
    for room in rooms:
        clash = conflicts(conn, room["room_id"], start, end, now, exclude=accom["accom_id"])
        leaving = conn.execute(
            "SELECT end_time FROM pms_accom WHERE room_id = ? AND accom_status = ?",
            (room["room_id"], CHECKED_IN),
        ).fetchall()
        result.append(
            {
                "room_id": room["room_id"],
                "room_name": room["name"],
                "is_dirty": flag(bool(room["is_dirty"])),
                "is_occupied": flag(bool(clash)),
                # "pre-checkout": the guest in the room is due to leave today (or is late)
                "is_pre_checkout": flag(any(local_date(s[0], tz) <= day for s in leaving)),
            }
        )
    return result


ROUTES = {
    "/api/v1/pmsRoom/getAllRoomList": get_all_room_list,
    "/api/v1/pmsOrder/listOccupied": list_occupied,
    "/api/v1/pmsOrder/checkRoomAvailability": check_room_availability,
    "/api/v1/pmsOrder/getRoomStatus": get_room_status,
}
