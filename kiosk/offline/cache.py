"""The arrivals cache: the reservations arriving from yesterday to tomorrow and the
property's rooms, in the state database, so a guest can check in while the back-end is
unreachable.

Reservations hold guest data, so each is sealed (``kiosk.sealing``) and dropped once its
last stay has ended. What an offline check-in changes (the stays checked in, the rooms
given out) is written back here, so the same booking or room is not given twice while
the back-end is away; the next prefetch replaces it all with the back-end's own state.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import UTC, datetime

from pydantic import TypeAdapter

from kiosk.backends.base import Arrivals, Reservation, Room, Stay, StayState
from kiosk.sealing import Sealer
from kiosk.state import StateDb, now_text

_RESERVATION = TypeAdapter(Reservation)
_ROOMS = TypeAdapter(
    tuple[tuple[Room, ...], tuple[tuple[str, datetime, datetime], ...], frozenset[str]]
)


class ArrivalsCache:
    def __init__(self, db: StateDb, sealer: Sealer) -> None:
        self._db = db
        self._sealer = sealer

    def store(self, arrivals: Arrivals) -> None:
        """Replace the cache with a fresh prefetch."""
        now = now_text()
        rooms = _ROOMS.dump_json((arrivals.rooms, arrivals.busy, arrivals.dirty)).decode()
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM arrivals")
            for reservation in arrivals.reservations:
                self._put(conn, reservation, now)
            conn.execute(
                "INSERT INTO property_rooms (id, rooms, fetched_at) VALUES (1, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET rooms = excluded.rooms,"
                " fetched_at = excluded.fetched_at",
                (rooms, now),
            )

    def _put(self, conn: sqlite3.Connection, reservation: Reservation, now: str) -> None:
        sealed = self._sealer.seal(_RESERVATION.dump_python(reservation, mode="json"))
        ends = max(s.ends for s in reservation.stays).timestamp() if reservation.stays else 0
        conn.execute(
            "INSERT OR REPLACE INTO arrivals (booking, sealed, ends_at, fetched_at)"
            " VALUES (?, ?, ?, ?)",
            (reservation.reservation_id, sealed, ends, now),
        )

    def reservation(self, booking: str) -> Reservation | None:
        rows = self._db.query("SELECT sealed FROM arrivals WHERE booking = ?", (booking,))
        if not rows:
            return None
        return _RESERVATION.validate_python(self._sealer.open(rows[0]["sealed"]))

    def free_rooms(self, stay: Stay) -> list[Room]:
        """Clean rooms of the stay's type that nothing occupies during the stay."""
        rooms, busy, dirty = self._rooms()
        taken = {room_id for room_id, start, end in busy if start < stay.ends and end > stay.starts}
        return [
            room
            for room in rooms
            if room.room_type_id == stay.room_type_id
            and room.room_id not in taken
            and room.room_id not in dirty
        ]

    def checked_in(self, reservation: Reservation, rooms: dict[str, Room]) -> None:
        """An offline check-in: its stays are in, its rooms taken, until the next prefetch."""
        cached = self.reservation(reservation.reservation_id) or reservation
        stays = tuple(
            dataclasses.replace(s, state=StayState.CHECKED_IN, room=rooms[s.stay_id])
            if s.stay_id in rooms
            else s
            for s in cached.stays
        )
        all_rooms, busy, dirty = self._rooms()
        added = tuple(
            (room.room_id, s.starts, s.ends) for s in stays if (room := rooms.get(s.stay_id))
        )
        with self._db.transaction() as conn:
            self._put(conn, dataclasses.replace(cached, stays=stays), now_text())
            conn.execute(
                "UPDATE property_rooms SET rooms = ? WHERE id = 1",
                (_ROOMS.dump_json((all_rooms, busy + added, dirty)).decode(),),
            )

    def _rooms(
        self,
    ) -> tuple[tuple[Room, ...], tuple[tuple[str, datetime, datetime], ...], frozenset[str]]:
        rows = self._db.query("SELECT rooms FROM property_rooms WHERE id = 1")
        if not rows:
            return (), (), frozenset()
        return _ROOMS.validate_python(json.loads(rows[0]["rooms"]))

    def purge(self, now: datetime | None = None) -> int:
        """Reservations whose stays have all ended go (their guest data with them)."""
        at = (now or datetime.now(UTC)).timestamp()
        with self._db.transaction() as conn:
            return conn.execute("DELETE FROM arrivals WHERE ends_at <= ?", (at,)).rowcount

    def count(self) -> int:
        return int(self._db.query("SELECT COUNT(*) AS n FROM arrivals")[0]["n"])

    def fetched_at(self) -> str | None:
        rows = self._db.query("SELECT fetched_at FROM property_rooms WHERE id = 1")
        return rows[0]["fetched_at"] if rows else None
