"""Shared lookups of the simulated PMS: rows by id, money, the property's local time, fields.

Unknown ids raise ``NOT_FOUND``; a stay in the wrong state raises ``CONFLICT`` with a
message naming that state. Messages never quote guest data.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.sim.params import BAD_PARAMS, CONFLICT, MAX_UNIX_S, NOT_FOUND, Params, SimError

CREATOR = "kiosk"  # creator_name of everything the simulator records
CENT = Decimal("0.01")
ZERO = Decimal("0.00")

BOOKED, CANCELLED, CHECKED_IN, CHECKED_OUT = 40, 50, 70, 80
ACCOM_STATUS_NAMES = {
    BOOKED: "booked",
    CANCELLED: "cancelled",
    CHECKED_IN: "checked in",
    CHECKED_OUT: "checked out",
}
ORDER_BOOKED, ORDER_CANCELLED, ORDER_IN_PROGRESS, ORDER_COMPLETED = 110, 120, 170, 180
YES, NO = 1, 2


def money(value: str | Decimal) -> Decimal:
    return Decimal(value).quantize(CENT)


def fmt(value: Decimal) -> str:
    """An amount as the PMS writes it: "100.00"."""
    return f"{value.quantize(CENT):f}"


def flag(value: bool) -> int:
    """The PMS's 1 (yes) / 2 (no)."""
    return YES if value else NO


# --- request fields the generic Params getters do not cover ---------------------------------


def choice(params: Params, name: str, allowed: tuple[int, ...], default: Any = ...) -> int:
    """An integer that must be one of the documented codes ``allowed``."""
    value = params.integer(name) if default is ... else params.integer(name, default)
    if value is not None and value not in allowed:
        raise params.fail(name, f"one of {list(allowed)}")
    return value


def unix(params: Params, name: str, default: Any = ...) -> int:
    """Unix seconds from 1970 to 2100 (later is a mistake, and past the calendar's reach)."""
    if default is ...:
        return params.integer(name, lo=0, hi=MAX_UNIX_S)
    return params.integer(name, default, lo=0, hi=MAX_UNIX_S)


def interval(params: Params, start: str = "start_date", end: str = "end_date") -> tuple[int, int]:
    """A ``[start, end)`` time range; ``end`` must come after ``start``."""
    begin, finish = unix(params, start), unix(params, end)
    if finish <= begin:
        raise params.fail(end, f"after {start}")
    return begin, finish


def day(params: Params, name: str) -> str:
    """A "YYYY-MM-DD" date, returned as given."""
    return params.date(name).isoformat()


def positive_money(params: Params, name: str) -> Decimal:
    amount = params.money(name)
    if amount <= 0:
        raise SimError(BAD_PARAMS, f"{name} must be more than 0.00")
    return amount


# --- the property's clock -------------------------------------------------------------------


def zone(conn: sqlite3.Connection, pms_id: int) -> ZoneInfo:
    row = conn.execute("SELECT timezone FROM pms_property WHERE pms_id = ?", (pms_id,)).fetchone()
    if row is None:
        raise SimError(NOT_FOUND, f"pms_id {pms_id} not found")
    return ZoneInfo(row["timezone"])


def order_zone(conn: sqlite3.Connection, order_id: int) -> ZoneInfo:
    return zone(conn, require_order(conn, order_id)["pms_id"])


def local_date(ts: int, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(ts, tz).date()


def local_text(ts: int, tz: ZoneInfo) -> str:
    """Local "Y-m-d H:i:s", the PMS's display format for creation times."""
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M:%S")


def now_ts(ctx: Any) -> int:
    return int(ctx.now.timestamp())


def today(ctx: Any, tz: ZoneInfo) -> date:
    return ctx.now.astimezone(tz).date()


def nights(start: int, end: int, tz: ZoneInfo) -> int:
    """Nights of a stay by the property's calendar; a same-day (hourly) stay counts one."""
    return max(1, (local_date(end, tz) - local_date(start, tz)).days)


def end_of_day(day_: date, tz: ZoneInfo) -> int:
    midnight = datetime.combine(day_ + timedelta(days=1), datetime.min.time(), tz)
    return int(midnight.timestamp())


# --- rows by id -----------------------------------------------------------------------------


def _one(conn: sqlite3.Connection, sql: str, key: int, what: str) -> sqlite3.Row:
    row = conn.execute(sql, (key,)).fetchone()
    if row is None:
        raise SimError(NOT_FOUND, f"{what} {key} not found")
    return row


def require_order(conn: sqlite3.Connection, order_id: int) -> sqlite3.Row:
    return _one(conn, "SELECT * FROM pms_order WHERE order_id = ?", order_id, "order_id")


def require_accom(conn: sqlite3.Connection, accom_id: int) -> sqlite3.Row:
    return _one(conn, "SELECT * FROM pms_accom WHERE accom_id = ?", accom_id, "accom_id")


def require_room(conn: sqlite3.Connection, room_id: int) -> sqlite3.Row:
    return _one(conn, "SELECT * FROM pms_room WHERE room_id = ?", room_id, "room_id")


def require_room_type(conn: sqlite3.Connection, room_type_id: int) -> sqlite3.Row:
    sql = "SELECT * FROM pms_room_type WHERE room_type_id = ?"
    return _one(conn, sql, room_type_id, "room_type_id")


def require_status(accom: sqlite3.Row, allowed: tuple[int, ...], action: str) -> None:
    """CONFLICT unless the stay is in one of the ``allowed`` states."""
    status = accom["accom_status"]
    if status not in allowed:
        wanted = " or ".join(ACCOM_STATUS_NAMES[s] for s in allowed)
        raise SimError(
            CONFLICT,
            f"stay {accom['accom_id']} is {ACCOM_STATUS_NAMES[status]} ({status}); "
            f"{action} needs a {wanted} stay",
        )


def require_unsettled(order: sqlite3.Row, action: str) -> None:
    if order["settled"]:
        raise SimError(
            CONFLICT,
            f"order {order['order_id']} is settled ({ORDER_COMPLETED}); "
            f"cancelSettle before {action}",
        )


def order_stays(conn: sqlite3.Connection, order_id: int) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT * FROM pms_accom WHERE order_id = ? ORDER BY accom_id", (order_id,)
    ).fetchall()


def stay_of_order(conn: sqlite3.Connection, order_id: int, accom_id: int) -> sqlite3.Row:
    accom = require_accom(conn, accom_id)
    if accom["order_id"] != order_id:
        raise SimError(NOT_FOUND, f"accom_id {accom_id} is not a stay of order {order_id}")
    return accom


def unique_ids(ids: list[int], name: str) -> list[int]:
    if not ids:
        raise SimError(BAD_PARAMS, f"{name} must not be empty")
    if len(set(ids)) != len(ids):
        raise SimError(BAD_PARAMS, f"{name} lists a stay twice")
    return ids


def order_status(conn: sqlite3.Connection, order: sqlite3.Row) -> int:
    """110 booked / 120 cancelled / 170 in progress / 180 completed, from the stays."""
    if order["settled"]:
        return ORDER_COMPLETED
    statuses = {s["accom_status"] for s in order_stays(conn, order["order_id"])}
    if statuses == {CANCELLED}:
        return ORDER_CANCELLED
    if statuses & {CHECKED_IN, CHECKED_OUT}:
        return ORDER_IN_PROGRESS
    return ORDER_BOOKED
