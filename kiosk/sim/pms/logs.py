"""The order's operation log: one row per mutation, read back by ``getOrderLogs``.

These are the PMS's own records, returned to its API clients as the seed documents
(event types 10-150); nothing here goes to the simulator's Python log.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from kiosk.sim.params import Params
from kiosk.sim.pms.store import CREATOR, choice, local_text, now_ts, order_zone, require_order

ORDER_LOG, BILL_LOG = 10, 20
LOG_TYPE_TEXT = {ORDER_LOG: "订单日志", BILL_LOG: "账单日志"}

(
    BOOKING_CREATED,
    DIRECT_CHECK_IN_CREATED,
    CHECKED_IN,
    CHECKED_OUT,
    BOOKING_CANCELLED,
    CONSUMPTION,
    CASHIER,
    TENANTS_CHANGED,
    STAYS_CHANGED,
    SETTLEMENT_CANCELLED,
    SETTLED,
    STAY_EXTENDED,
    ORDER_CHANGED,
    BACKDATED_ORDER_CREATED,
    REMINDER_EDITED,
) = range(10, 160, 10)

EVENT_TEXT = {
    BOOKING_CREATED: "新增预定订单",
    DIRECT_CHECK_IN_CREATED: "新增直接入住",
    CHECKED_IN: "办理入住",
    CHECKED_OUT: "办理退房",
    BOOKING_CANCELLED: "取消预定",
    CONSUMPTION: "消费项",
    CASHIER: "收银事件",
    TENANTS_CHANGED: "修改租客信息",
    STAYS_CHANGED: "修改订单住宿信息",
    SETTLEMENT_CANCELLED: "取消结算",
    SETTLED: "结算",
    STAY_EXTENDED: "住宿服务续住",
    ORDER_CHANGED: "修改订单基本信息",
    BACKDATED_ORDER_CREATED: "新增补录订单",
    REMINDER_EDITED: "编辑订单提醒",
}
_BILL_EVENTS = {CONSUMPTION, CASHIER}


def add_log(
    conn: sqlite3.Connection,
    ctx: Any,
    order_id: int,
    event_type: int,
    event_data: dict[str, Any],
    accom_id: int | None = None,
) -> None:
    """Record one mutation of order ``order_id`` (of one of its stays, with ``accom_id``)."""
    log_type = BILL_LOG if event_type in _BILL_EVENTS else ORDER_LOG
    conn.execute(
        "INSERT INTO pms_log (order_id, accom_id, log_type, event_type, created_at, event_data) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            order_id,
            accom_id,
            log_type,
            event_type,
            now_ts(ctx),
            json.dumps(event_data, ensure_ascii=False),
        ),
    )


def get_order_logs(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    order_id = params.integer("order_id")
    require_order(conn, order_id)
    tz = order_zone(conn, order_id)
    sql = "SELECT * FROM pms_log WHERE order_id = ?"
    args: list[Any] = [order_id]
    accom_id = params.integer("accom_id", None)
    if accom_id is not None:
        sql += " AND accom_id = ?"
        args.append(accom_id)
    log_type = choice(params, "log_type", (ORDER_LOG, BILL_LOG), None)
    if log_type is not None:
        sql += " AND log_type = ?"
        args.append(log_type)
    rows = conn.execute(sql + " ORDER BY log_id", args).fetchall()
    return {
        "list": [
            {
                "log_id": row["log_id"],
                "log_type": row["log_type"],
                "log_type_text": LOG_TYPE_TEXT[row["log_type"]],
                "event_type": row["event_type"],
                "event_type_text": EVENT_TEXT[row["event_type"]],
                "created_date": local_text(row["created_at"], tz),
                "creator_name": CREATOR,
                "event_data": json.loads(row["event_data"]),
            }
            for row in rows
        ]
    }


ROUTES = {"/api/v1/pmsOrder/getOrderLogs": get_order_logs}
