"""Order reminders: create, update, delete (each logged as event 150)."""

from __future__ import annotations

import sqlite3
from typing import Any

from kiosk.sim.params import BAD_PARAMS, NOT_FOUND, Params, SimError
from kiosk.sim.pms.logs import REMINDER_EDITED, add_log
from kiosk.sim.pms.store import require_order, unix


def parse_reminder(item: Params) -> tuple[int, str]:
    """``(remind_date, content)`` of a reminder item."""
    content = item.text("content", max_len=500)
    if not content.strip():
        raise SimError(BAD_PARAMS, "content must not be empty")
    return unix(item, "remind_date"), content


def _require_reminder(conn: sqlite3.Connection, remind_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM pms_reminder WHERE remind_id = ?", (remind_id,)).fetchone()
    if row is None:
        raise SimError(NOT_FOUND, f"remind_id {remind_id} not found")
    return row


def create_reminder(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    order_id = require_order(conn, params.integer("order_id"))["order_id"]
    remind_date, content = parse_reminder(params)
    cur = conn.execute(
        "INSERT INTO pms_reminder (order_id, remind_date, content) VALUES (?, ?, ?)",
        (order_id, remind_date, content),
    )
    remind_id = int(cur.lastrowid or 0)
    add_log(conn, ctx, order_id, REMINDER_EDITED, {"remind_id": remind_id, "action": "create"})
    return {"remind_id": remind_id}


def update_reminder(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    reminder = _require_reminder(conn, params.integer("remind_id"))
    remind_date, content = parse_reminder(params)
    conn.execute(
        "UPDATE pms_reminder SET remind_date = ?, content = ? WHERE remind_id = ?",
        (remind_date, content, reminder["remind_id"]),
    )
    add_log(
        conn,
        ctx,
        reminder["order_id"],
        REMINDER_EDITED,
        {"remind_id": reminder["remind_id"], "action": "update"},
    )
    return {}


def delete_reminder(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    reminder = _require_reminder(conn, params.integer("remind_id"))
    conn.execute("DELETE FROM pms_reminder WHERE remind_id = ?", (reminder["remind_id"],))
    add_log(
        conn,
        ctx,
        reminder["order_id"],
        REMINDER_EDITED,
        {"remind_id": reminder["remind_id"], "action": "delete"},
    )
    return {}


ROUTES = {
    "/api/v1/pmsOrder/createReminder": create_reminder,
    "/api/v1/pmsOrder/updateReminder": update_reminder,
    "/api/v1/pmsOrder/deleteReminder": delete_reminder,
}
