"""Amenity bookings of a residence (seed 000: create, claim a code, list, get, delete).

A residence sees and deletes only its own bookings; another residence's booking is
"unknown" to it. A booking code is claimed once: claiming books the code's slot under
the same rules as :func:`create_booking_info`, and a refused claim leaves the code
unclaimed (the whole command is one transaction).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kiosk.sim.openability import lookup
from kiosk.sim.openability.amenities import amenity_json, check_slot
from kiosk.sim.openability.values import from_text, new_id, to_text
from kiosk.sim.params import BAD_PARAMS, CONFLICT, NOT_FOUND, Params, SimError

if TYPE_CHECKING:
    from kiosk.sim.server import SimContext

QR_URL = "https://sim.lobby-kiosk.invalid/booking/{booking_id}.png"

_BOOKING_SELECT = """
    SELECT b.*, a.name, a.picture_url, a.description, r.building_name, r.family_name
    FROM oa_booking b
    JOIN oa_amenity a ON a.amenity_id = b.amenity_id
    JOIN oa_residence r ON r.residence_id = b.residence_id
"""


def _book(
    conn: sqlite3.Connection,
    ctx: SimContext,
    residence_id: str,
    amenity: sqlite3.Row,
    start: datetime,
    duration: int,
    *,
    state: str,
) -> str:
    finish = check_slot(conn, amenity, start, duration, ctx.now)
    booking_id = new_id(ctx.rng, "b")
    conn.execute(
        "INSERT INTO oa_booking (booking_id, residence_id, amenity_id, start_time, finish_time,"
        " state, pin_code, qr_code_url, created_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            booking_id,
            residence_id,
            amenity["amenity_id"],
            to_text(start),
            to_text(finish),
            state,
            f"{ctx.rng.randrange(10**6):06d}",
            QR_URL.format(booking_id=booking_id),
            to_text(ctx.now),
        ),
    )
    return booking_id


def _booking_json(row: sqlite3.Row, now: datetime) -> dict[str, Any]:
    return {
        "booking_id": row["booking_id"],
        **amenity_json(row),
        "building_name": row["building_name"],
        "family_name": row["family_name"],
        "start_time": row["start_time"],
        "finish_time": row["finish_time"],
        "state": row["state"],
        "is_expired": from_text(row["finish_time"]) <= now,
        "pin_code": row["pin_code"],
        "qr_code_url": row["qr_code_url"],
        "created_time": row["created_time"],
    }


def _own_booking(conn: sqlite3.Connection, residence_id: str, booking_id: str) -> sqlite3.Row:
    row = conn.execute(
        _BOOKING_SELECT + " WHERE b.booking_id = ? AND b.residence_id = ?",
        (booking_id, residence_id),
    ).fetchone()
    if row is None:
        raise SimError(NOT_FOUND, "unknown booking_id for this residence")
    return row


def create_booking_info(conn: sqlite3.Connection, params: Params, ctx: SimContext) -> Any:
    residence = lookup.residence(conn, params)
    amenity = lookup.amenity(conn, params)
    start = params.oa_time("start_time")
    duration = params.integer("duration")
    state = "pending" if amenity["requires_approval"] else "success"
    booking_id = _book(conn, ctx, residence["residence_id"], amenity, start, duration, state=state)
    return {"booking_id": booking_id}


def create_code_booking_info(conn: sqlite3.Connection, params: Params, ctx: SimContext) -> Any:
    residence = lookup.residence(conn, params)
    code = conn.execute(
        "SELECT * FROM oa_booking_code WHERE booking_code = ? AND residence_id = ?",
        (params.text("booking_code", max_len=200), residence["residence_id"]),
    ).fetchone()
    if code is None:
        raise SimError(NOT_FOUND, "unknown booking_code for this residence")
    if code["claimed_time"] is not None:
        raise SimError(CONFLICT, "this booking code has already been used")
    amenity = lookup.amenity_by_id(conn, code["amenity_id"])
    booking_id = _book(
        conn,
        ctx,
        residence["residence_id"],
        amenity,
        from_text(code["start_time"]),
        code["duration"],
        state="success",  # a code is issued for an approved slot
    )
    conn.execute(
        "UPDATE oa_booking_code SET claimed_time = ? WHERE booking_code = ?",
        (to_text(ctx.now), code["booking_code"]),
    )
    return {"booking_id": booking_id}


def get_booking_list(conn: sqlite3.Connection, params: Params, ctx: SimContext) -> Any:
    residence = lookup.residence(conn, params)
    rows = conn.execute(
        _BOOKING_SELECT + " WHERE b.residence_id = ? ORDER BY b.start_time, b.booking_id",
        (residence["residence_id"],),
    )
    return [_booking_json(row, ctx.now) for row in rows]


def get_booking_info(conn: sqlite3.Connection, params: Params, ctx: SimContext) -> Any:
    residence = lookup.residence(conn, params)
    row = _own_booking(conn, residence["residence_id"], params.text("booking_id", max_len=200))
    info = _booking_json(row, ctx.now)
    del info["booking_id"]  # the seed's get_booking_info result has no booking_id
    return info


def delete_booking_info(conn: sqlite3.Connection, params: Params, ctx: SimContext) -> Any:
    residence = lookup.residence(conn, params)
    row = _own_booking(conn, residence["residence_id"], params.text("booking_id", max_len=200))
    conn.execute("DELETE FROM oa_booking WHERE booking_id = ?", (row["booking_id"],))
    return {}


def batch_delete_booking_info(conn: sqlite3.Connection, params: Params, ctx: SimContext) -> Any:
    """All or nothing: one booking that is not the residence's refuses the whole batch."""
    residence = lookup.residence(conn, params)
    items = params.objects("bookings")
    if not items:
        raise SimError(BAD_PARAMS, "param.bookings must not be empty")
    booking_ids = {item.text("booking_id", max_len=200) for item in items}
    for booking_id in booking_ids:
        _own_booking(conn, residence["residence_id"], booking_id)
    conn.executemany(
        "DELETE FROM oa_booking WHERE booking_id = ?", [(booking_id,) for booking_id in booking_ids]
    )
    return {}
