"""Finding the records a command names; unknown ids are refused with NOT_FOUND.

Messages name the field, never the value sent: ids may be guessed, and free text may
be guest data.
"""

from __future__ import annotations

import sqlite3

from kiosk.sim.params import NOT_FOUND, Params, SimError


def _one(conn: sqlite3.Connection, sql: str, key: str, what: str) -> sqlite3.Row:
    row = conn.execute(sql, (key,)).fetchone()
    if row is None:
        raise SimError(NOT_FOUND, f"unknown {what}")
    return row


def residence(conn: sqlite3.Connection, params: Params, name: str = "residence_id") -> sqlite3.Row:
    return _one(
        conn,
        "SELECT * FROM oa_residence WHERE residence_id = ?",
        params.text(name, max_len=200),
        name,
    )


def amenity(conn: sqlite3.Connection, params: Params) -> sqlite3.Row:
    return _one(
        conn,
        "SELECT * FROM oa_amenity WHERE amenity_id = ?",
        params.text("amenity_id", max_len=200),
        "amenity_id",
    )


def amenity_by_id(conn: sqlite3.Connection, amenity_id: str) -> sqlite3.Row:
    return _one(conn, "SELECT * FROM oa_amenity WHERE amenity_id = ?", amenity_id, "amenity_id")


def room_type(conn: sqlite3.Connection, room_type_id: str) -> sqlite3.Row:
    return _one(
        conn, "SELECT * FROM oa_room_type WHERE room_type_id = ?", room_type_id, "room_type_id"
    )


def order(conn: sqlite3.Connection, params: Params) -> sqlite3.Row:
    return _one(
        conn,
        "SELECT * FROM oa_order WHERE order_id = ?",
        params.text("order_id", max_len=200),
        "order_id",
    )
