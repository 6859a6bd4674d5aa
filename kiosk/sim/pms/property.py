"""The property itself: room types, rooms, locks and housekeeping (no API creates them).

The demo and the tests seed a property with these helpers inside a transaction
(``server.db.transaction()``). A property is created with its first room type; its
time zone (default Asia/Shanghai, the seed's home) decides what "today" means.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from zoneinfo import ZoneInfo

from kiosk.sim.pms.store import money, require_room, require_room_type

DEFAULT_TIMEZONE = "Asia/Shanghai"
PASSWORD_LOCK, CARD_LOCK = 10, 20


def set_timezone(conn: sqlite3.Connection, pms_id: int, timezone: str) -> None:
    """Create property ``pms_id`` or change its time zone (an IANA name)."""
    ZoneInfo(timezone)  # refuse an unknown zone now rather than on the first request
    conn.execute(
        "INSERT INTO pms_property (pms_id, timezone) VALUES (?, ?) "
        "ON CONFLICT (pms_id) DO UPDATE SET timezone = excluded.timezone",
        (pms_id, timezone),
    )


def add_room_type(
    conn: sqlite3.Connection, pms_id: int, name: str, short_name: str, price: str | Decimal
) -> int:
    """A room type with its nightly ``price``; creates the property if it is new."""
    conn.execute(
        "INSERT OR IGNORE INTO pms_property (pms_id, timezone) VALUES (?, ?)",
        (pms_id, DEFAULT_TIMEZONE),
    )
    cur = conn.execute(
        "INSERT INTO pms_room_type (pms_id, name, short_name, price) VALUES (?, ?, ?, ?)",
        (pms_id, name, short_name, f"{money(price):f}"),
    )
    return int(cur.lastrowid or 0)


def add_room(
    conn: sqlite3.Connection,
    pms_id: int,
    room_type_id: int,
    name: str,
    floor: int,
    *,
    building: int = 1,
    lock_type: int | None = PASSWORD_LOCK,
    device_no: str | None = None,
    has_gateway: bool = True,
) -> int:
    """A room of ``room_type_id``; by default with a gateway-connected password lock.

    ``lock_type=None`` is a room without a lock; ``device_no`` defaults to the room name.
    """
    if require_room_type(conn, room_type_id)["pms_id"] != pms_id:
        raise ValueError(f"room type {room_type_id} belongs to another property")
    sort = conn.execute(
        "SELECT COUNT(*) FROM pms_room WHERE room_type_id = ?", (room_type_id,)
    ).fetchone()[0]
    cur = conn.execute(
        "INSERT INTO pms_room (pms_id, room_type_id, name, floor, building, sort) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (pms_id, room_type_id, name, floor, building, sort),
    )
    room_id = int(cur.lastrowid or 0)
    set_lock(conn, room_id, lock_type, device_no or "", has_gateway=has_gateway)
    return room_id


def set_lock(
    conn: sqlite3.Connection,
    room_id: int,
    lock_type: int | None,
    device_no: str = "",
    *,
    has_gateway: bool = False,
) -> None:
    """Fit, change or (``lock_type=None``) remove the lock of a room."""
    room = require_room(conn, room_id)
    conn.execute(
        "UPDATE pms_room SET lock_type = ?, device_no = ?, has_gateway = ? WHERE room_id = ?",
        (
            lock_type,
            None if lock_type is None else (device_no or room["name"]),
            int(has_gateway and lock_type is not None),
            room_id,
        ),
    )


def set_dirty(conn: sqlite3.Connection, room_id: int, dirty: bool) -> None:
    """Housekeeping: mark a room dirty (no check-in) or clean."""
    require_room(conn, room_id)
    conn.execute("UPDATE pms_room SET is_dirty = ? WHERE room_id = ?", (int(dirty), room_id))
