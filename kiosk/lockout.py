"""Wrong answers counted in the state database, with a lockout after too many.

One counter per ``(scope, subject)``: the second factor counts per booking, the operator
menu per kiosk. The count and the lock live in the ``lockouts`` table of the kiosk's
:class:`~kiosk.state.StateDb`, so neither another journey nor a restart (nor a guest
pulling the plug) resets them. Each lock is written to the ``audit`` table for staff
(``kiosk doctor`` lists the locks in force).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hardware.health import DeviceHealth, HealthLevel
from kiosk.state import StateDb


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Lock:
    """A subject locked until ``until``, after ``failures`` wrong answers."""

    scope: str
    subject: str
    failures: int
    until: datetime


class Lockout:
    """Counts failures of one ``scope`` per subject; ``max_failures`` lock it for ``duration``."""

    def __init__(
        self,
        db: StateDb,
        scope: str,
        *,
        max_failures: int,
        duration: timedelta,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._db = db
        self.scope = scope
        self.max_failures = max_failures
        self._duration = duration
        self._clock = clock

    def locked_until(self, subject: str) -> datetime | None:
        """When ``subject``'s lock ends; None when it is not locked."""
        return self._state(subject)[1]

    def failures_left(self, subject: str) -> int:
        """Wrong answers ``subject`` may still give before the lock (0 while locked)."""
        failures, until = self._state(subject)
        return 0 if until is not None else self.max_failures - failures

    def _state(self, subject: str) -> tuple[int, datetime | None]:
        """The failures counted and the lock in force; an expired lock counts nothing."""
        rows = self._db.query(
            "SELECT failures, locked_until FROM lockouts WHERE scope = ? AND subject = ?",
            (self.scope, subject),
        )
        if not rows:
            return 0, None
        until = _time(rows[0]["locked_until"])
        if until is not None and until <= self._clock():
            return 0, None
        return int(rows[0]["failures"]), until

    def failed(self, subject: str) -> Lock | None:
        """Count one wrong answer; the lock when this one reached the limit."""
        now = self._clock().astimezone(UTC)
        with self._db.transaction() as conn:
            row = conn.execute(
                "SELECT failures, locked_until FROM lockouts WHERE scope = ? AND subject = ?",
                (self.scope, subject),
            ).fetchone()
            failures = row[0] if row else 0
            ended = _time(row[1]) if row else None
            if ended is not None and ended <= now:
                failures = 0  # an expired lock: counting starts again
            failures += 1
            until = now + self._duration if failures >= self.max_failures else None
            conn.execute(
                "INSERT INTO lockouts (scope, subject, failures, locked_until, updated_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope, subject) DO UPDATE SET"
                " failures = excluded.failures, locked_until = excluded.locked_until,"
                " updated_at = excluded.updated_at",
                (self.scope, subject, failures, _text(until), now.isoformat()),
            )
            if until is None:
                return None
            conn.execute(
                "INSERT INTO audit (at, actor, action, detail) VALUES (?, 'kiosk', ?, ?)",
                (
                    now.isoformat(),
                    f"{self.scope} locked",
                    f"{subject}: {failures} wrong, locked until {until.isoformat()}",
                ),
            )
            return Lock(self.scope, subject, failures, until)

    def succeeded(self, subject: str) -> None:
        """A right answer: the count starts again (a lock in force is not lifted)."""
        with self._db.transaction() as conn:
            conn.execute(
                "DELETE FROM lockouts WHERE scope = ? AND subject = ?"
                " AND (locked_until IS NULL OR locked_until <= ?)",
                (self.scope, subject, _text(self._clock())),
            )


def locks_in_force(db: StateDb, now: datetime | None = None) -> list[Lock]:
    """Every lock not yet over, for staff (``kiosk doctor``)."""
    now = now or _utc_now()
    rows = db.query(
        "SELECT scope, subject, failures, locked_until FROM lockouts"
        " WHERE locked_until IS NOT NULL ORDER BY locked_until"
    )
    locks = [
        Lock(row["scope"], row["subject"], int(row["failures"]), datetime.fromisoformat(until))
        for row in rows
        if (until := row["locked_until"])
    ]
    return [lock for lock in locks if lock.until > now]


def _text(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def locks_health(db_path: Path, now: datetime | None = None) -> DeviceHealth:
    """``kiosk doctor``'s line: the bookings (and the operator menu) locked at this kiosk."""
    if not db_path.is_file():
        return DeviceHealth("locks", HealthLevel.OK, "no state database yet")
    try:
        db = StateDb(db_path)
        try:
            locks = locks_in_force(db, now)
        finally:
            db.close()
    except (sqlite3.Error, OSError) as exc:  # the kiosk may still serve: not a fault
        detail = f"cannot read the state database ({type(exc).__name__})"
        return DeviceHealth("locks", HealthLevel.WARNING, detail)
    if not locks:
        return DeviceHealth("locks", HealthLevel.OK, "none")
    detail = ", ".join(
        f"{lock.scope} {lock.subject} until {lock.until:%H:%M} UTC" for lock in locks
    )
    return DeviceHealth("locks", HealthLevel.WARNING, detail, {"locked": len(locks)})
