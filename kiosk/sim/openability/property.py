"""Setting up the simulated property: what no open-ability command creates.

Room types, residences, amenities (with their daily window and closed slots) and the
booking codes handed to guests. Used by the demo and by tests; ids come from ``rng`` so
a seeded set-up is deterministic.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime

from kiosk.sim.openability.values import check_time_of_day, new_id, to_text


def add_room_type(conn: sqlite3.Connection, rng: random.Random, name: str) -> str:
    room_type_id = new_id(rng, "t")
    conn.execute(
        "INSERT INTO oa_room_type (room_type_id, name) VALUES (?, ?)", (room_type_id, name)
    )
    return room_type_id


def add_residence(
    conn: sqlite3.Connection,
    rng: random.Random,
    *,
    residence_no: str,
    building_name: str,
    family_name: str,
    room_type_id: str,
) -> str:
    residence_id = new_id(rng, "r")
    conn.execute(
        "INSERT INTO oa_residence (residence_id, residence_no, building_name, family_name,"
        " room_type_id) VALUES (?, ?, ?, ?, ?)",
        (residence_id, residence_no, building_name, family_name, room_type_id),
    )
    return residence_id


def add_amenity(
    conn: sqlite3.Connection,
    rng: random.Random,
    *,
    name: str,
    window: tuple[str, str],
    closed: tuple[tuple[str, str], ...] = (),
    requires_approval: bool = False,
    description: str = "",
    picture_url: str = "",
) -> str:
    """An amenity bookable daily inside ``window`` ("HH:MM", UTC) except the ``closed`` slots."""
    amenity_id = new_id(rng, "a")
    open_time, close_time = (check_time_of_day(t) for t in window)
    conn.execute(
        "INSERT INTO oa_amenity (amenity_id, name, picture_url, description, open_time,"
        " close_time, requires_approval) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (amenity_id, name, picture_url, description, open_time, close_time, requires_approval),
    )
    conn.executemany(
        "INSERT INTO oa_amenity_closed (amenity_id, start_time, finish_time) VALUES (?, ?, ?)",
        [(amenity_id, check_time_of_day(s), check_time_of_day(f)) for s, f in closed],
    )
    return amenity_id


def add_booking_code(
    conn: sqlite3.Connection,
    rng: random.Random,
    *,
    residence_id: str,
    amenity_id: str,
    start: datetime,
    duration: int,
) -> str:
    """An unclaimed code that books ``amenity_id`` from ``start`` for ``duration`` minutes."""
    booking_code = new_id(rng, "k")
    conn.execute(
        "INSERT INTO oa_booking_code (booking_code, residence_id, amenity_id, start_time,"
        " duration) VALUES (?, ?, ?, ?, ?)",
        (booking_code, residence_id, amenity_id, to_text(start), duration),
    )
    return booking_code
