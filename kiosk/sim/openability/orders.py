"""Hotel orders on residences (seed 001, hotel-commands).

Rules: an order ends after it starts; orders on one residence do not overlap (a
checked-out order no longer holds the residence); ``order_state`` only moves forward,
one step at a time: check_in -> checked_in -> checked_out; a checked-out order keeps its
residence and times; an order that is checked in cannot be deleted before check-out.
Seed 001's tables say ``finish_time`` and its examples ``end_time``: both are accepted.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kiosk.sim.openability import lookup
from kiosk.sim.openability.values import from_text, new_id, to_text
from kiosk.sim.params import BAD_PARAMS, CONFLICT, Params, SimError

if TYPE_CHECKING:
    from kiosk.sim.server import SimContext

ORDER_STATES = ("check_in", "checked_in", "checked_out")
GUEST_FIELDS = ("email", "phone", "id_card", "passport")
MAX_PAGE_SIZE = 100
MAX_PAGE_INDEX = 10**9  # keeps the row offset within SQLite's 64 bits

_ORDER_SELECT = """
    SELECT o.*, r.residence_no, t.name AS room_type_name
    FROM oa_order o
    JOIN oa_residence r ON r.residence_id = o.residence_id
    JOIN oa_room_type t ON t.room_type_id = o.room_type_id
"""


def _finish_time(params: Params, *default: datetime) -> datetime:
    """``finish_time``, or the examples' ``end_time``; required unless a default is given."""
    name = "end_time" if "finish_time" not in params and "end_time" in params else "finish_time"
    return params.oa_time(name, *default)


def _check_span(start: datetime, finish: datetime) -> None:
    if finish <= start:
        raise SimError(BAD_PARAMS, "param.finish_time must be after param.start_time")


def _check_free(
    conn: sqlite3.Connection, residence_id: str, start: str, finish: str, order_id: str = ""
) -> None:
    clash = conn.execute(
        "SELECT 1 FROM oa_order WHERE residence_id = ? AND order_id != ?"
        " AND order_state != 'checked_out' AND start_time < ? AND finish_time > ?",
        (residence_id, order_id, finish, start),
    ).fetchone()
    if clash:
        raise SimError(CONFLICT, "the residence already has an order in that period")


def _check_transition(current: str, wanted: str) -> None:
    if wanted not in ORDER_STATES:
        raise SimError(BAD_PARAMS, f"param.order_state must be one of {', '.join(ORDER_STATES)}")
    step = ORDER_STATES.index(wanted) - ORDER_STATES.index(current)
    if step < 0:
        raise SimError(CONFLICT, f"order_state cannot move back from {current} to {wanted}")
    if step > 1:
        raise SimError(CONFLICT, f"order_state cannot skip from {current} to {wanted}")


def _guests(conn: sqlite3.Connection, order_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT guest_id, guest_name, email, phone, id_card, passport FROM oa_guest"
        " WHERE order_id = ? ORDER BY seq",
        (order_id,),
    )
    return [dict(row) for row in rows]


def _order_json(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    return {
        "order_id": row["order_id"],
        "order_number": row["order_number"],
        "residence_id": row["residence_id"],
        "residence_no": row["residence_no"],
        "room_type_id": row["room_type_id"],
        "room_type_name": row["room_type_name"],
        "start_time": row["start_time"],
        "finish_time": row["finish_time"],
        "order_state": row["order_state"],
        "guests": _guests(conn, row["order_id"]),
    }


def get_order_list(conn: sqlite3.Connection, params: Params, ctx: SimContext) -> Any:
    size = params.integer("page_size", 20, lo=1, hi=MAX_PAGE_SIZE)
    index = params.integer("page_index", 1, lo=1, hi=MAX_PAGE_INDEX)
    rows = conn.execute(
        _ORDER_SELECT + " ORDER BY o.start_time, o.seq LIMIT ? OFFSET ?",
        (size, (index - 1) * size),
    ).fetchall()
    return [_order_json(conn, row) for row in rows]


def get_order_info(conn: sqlite3.Connection, params: Params, ctx: SimContext) -> Any:
    order_id = lookup.order(conn, params)["order_id"]
    row = conn.execute(_ORDER_SELECT + " WHERE o.order_id = ?", (order_id,)).fetchone()
    return {
        **_order_json(conn, row),
        "source": row["source"],
        "remark": row["remark"],
        "enable_booking": bool(row["enable_booking"]),
    }


def create_order_info(conn: sqlite3.Connection, params: Params, ctx: SimContext) -> Any:
    residence = lookup.residence(conn, params)
    start, finish = params.oa_time("start_time"), _finish_time(params)
    _check_span(start, finish)
    guest = params.obj("guest")
    guest_name = guest.text("guest_name", max_len=200)
    if not guest_name.strip():
        raise SimError(BAD_PARAMS, "param.guest.guest_name must not be empty")
    details = [guest.text(name, "", max_len=200) for name in GUEST_FIELDS]
    source = params.text("source", "", max_len=100)
    remark = params.text("remark", "", max_len=1000)
    enable_booking = params.boolean("enable_booking", False)
    _check_free(conn, residence["residence_id"], to_text(start), to_text(finish))

    order_id, guest_id = new_id(ctx.rng, "o"), new_id(ctx.rng, "g")
    order_number = ctx.now.strftime("%Y%m%d%H%M%S") + f"{ctx.rng.randrange(10**6):06d}"
    conn.execute(
        "INSERT INTO oa_order (order_id, order_number, residence_id, room_type_id, start_time,"
        " finish_time, order_state, source, remark, enable_booking)"
        " VALUES (?, ?, ?, ?, ?, ?, 'check_in', ?, ?, ?)",
        (
            order_id,
            order_number,
            residence["residence_id"],
            residence["room_type_id"],
            to_text(start),
            to_text(finish),
            source,
            remark,
            enable_booking,
        ),
    )
    conn.execute(
        "INSERT INTO oa_guest (guest_id, order_id, guest_name, email, phone, id_card, passport)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (guest_id, order_id, guest_name, *details),
    )
    return {"order_id": order_id, "order_number": order_number, "guest_id": guest_id}


def update_order_info(conn: sqlite3.Connection, params: Params, ctx: SimContext) -> Any:
    order = lookup.order(conn, params)
    residence_id = order["residence_id"]
    if "residence_id" in params:
        residence_id = lookup.residence(conn, params)["residence_id"]
    room_type_id = params.text("room_type_id", order["room_type_id"], max_len=200)
    lookup.room_type(conn, room_type_id)
    start_time = params.oa_time("start_time", from_text(order["start_time"]))
    finish_time = _finish_time(params, from_text(order["finish_time"]))
    _check_span(start_time, finish_time)
    start, finish = to_text(start_time), to_text(finish_time)
    state = params.text("order_state", order["order_state"], max_len=20)
    _check_transition(order["order_state"], state)
    moved = (residence_id, start, finish) != (
        order["residence_id"],
        order["start_time"],
        order["finish_time"],
    )
    if moved and order["order_state"] == "checked_out":
        raise SimError(CONFLICT, "a checked-out order cannot be moved")
    if state != "checked_out":
        _check_free(conn, residence_id, start, finish, order["order_id"])
    conn.execute(
        "UPDATE oa_order SET residence_id = ?, room_type_id = ?, start_time = ?,"
        " finish_time = ?, order_state = ?, source = ?, remark = ?, enable_booking = ?"
        " WHERE order_id = ?",
        (
            residence_id,
            room_type_id,
            start,
            finish,
            state,
            params.text("source", order["source"], max_len=100),
            params.text("remark", order["remark"], max_len=1000),
            params.boolean("enable_booking", bool(order["enable_booking"])),
            order["order_id"],
        ),
    )
    return {}


def delete_order_info(conn: sqlite3.Connection, params: Params, ctx: SimContext) -> Any:
    order = lookup.order(conn, params)
    if order["order_state"] == "checked_in":
        raise SimError(CONFLICT, "a checked-in order must be checked out before it is deleted")
    conn.execute("DELETE FROM oa_order WHERE order_id = ?", (order["order_id"],))
    return {}
