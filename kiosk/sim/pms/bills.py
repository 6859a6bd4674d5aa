"""Bills: consumption on stays, cashier entries on orders, and their queries.

The cashier's ``remark`` is kept as sent: the kiosk writes its idempotency reference
there and looks for it (``getBillList`` type 20) before it replays a payment.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from kiosk.sim.params import BAD_PARAMS, CONFLICT, NOT_FOUND, Params, SimError
from kiosk.sim.pms.folio import PAYMENT, REFUND, REVERSED, UNSETTLED, bill_summary, folio
from kiosk.sim.pms.logs import CASHIER, CONSUMPTION, add_log
from kiosk.sim.pms.store import (
    CANCELLED,
    CREATOR,
    choice,
    day,
    fmt,
    local_text,
    now_ts,
    order_zone,
    positive_money,
    require_accom,
    require_order,
    require_unsettled,
    stay_of_order,
    today,
    unix,
)

BILL_STATUSES = (10, 20, 30, 40, 50, 60, 70, 80)
CONSUMPTION_LIST, CASHIER_LIST = 10, 20
MAX_PAGE_SIZE = 100
MAX_PAGE_NO = 10**9  # keeps the row offset within SQLite's 64 bits
MAX_QUANTITY = 100_000  # of one consumption item: keeps price x num a sane amount


def _catalogue_name(conn: sqlite3.Connection, table: str, key: str, value: int) -> str:
    row = conn.execute(f"SELECT name FROM {table} WHERE {key} = ?", (value,)).fetchone()
    if row is None:
        raise SimError(NOT_FOUND, f"{key} {value} not found")
    return row["name"]


def _consumption(conn: sqlite3.Connection, item: Params) -> dict[str, Any]:
    """The columns of a consumption item ``{consume_id, date, price, num, remark}``."""
    consume_id = item.integer("consume_id")
    price = item.money("price")
    num = item.integer("num", lo=1, hi=MAX_QUANTITY)
    return {
        "consume_id": consume_id,
        "name": _catalogue_name(conn, "pms_consume_item", "consume_id", consume_id),
        "bill_date": day(item, "date"),
        "price": fmt(price),
        "num": num,
        "amount": fmt(price * num),
        "remark": item.text("remark", "", max_len=200),
    }


def add_consumption(conn: sqlite3.Connection, ctx: Any, accom: sqlite3.Row, item: Params) -> int:
    """Post one consumption to a stay; its bill id."""
    bill = _consumption(conn, item)
    cur = conn.execute(
        f"INSERT INTO pms_bill (order_id, accom_id, kind, created_at, {', '.join(bill)}) "
        f"VALUES (?, ?, 'consume', ?{', ?' * len(bill)})",
        (accom["order_id"], accom["accom_id"], now_ts(ctx), *bill.values()),
    )
    bill_id = int(cur.lastrowid or 0)
    event = {"bill_id": bill_id, "name": bill["name"], "amount": bill["amount"]}
    add_log(conn, ctx, accom["order_id"], CONSUMPTION, event, accom["accom_id"])
    return bill_id


def update_consumption(
    conn: sqlite3.Connection, ctx: Any, accom: sqlite3.Row, item: Params
) -> None:
    """``update``'s bill items with a ``bill_id``: rewrite an unsettled consumption."""
    bill_id = item.integer("bill_id")
    bill = _require_bill(conn, bill_id)
    if bill["accom_id"] != accom["accom_id"] or bill["kind"] != "consume":
        raise SimError(NOT_FOUND, f"bill_id {bill_id} is not a consumption of this stay")
    _require_bill_status(bill, UNSETTLED, "update")
    columns = _consumption(conn, item)
    assignments = ", ".join(f"{column} = ?" for column in columns)
    conn.execute(
        f"UPDATE pms_bill SET {assignments} WHERE bill_id = ?", (*columns.values(), bill_id)
    )
    event = {"bill_id": bill_id, "name": columns["name"], "amount": columns["amount"]}
    add_log(conn, ctx, accom["order_id"], CONSUMPTION, event, accom["accom_id"])


def record_payments(
    conn: sqlite3.Connection, ctx: Any, order: sqlite3.Row, items: list[Params], where: str
) -> None:
    """Cashier entries (``bill_type`` 10 payment, 20 refund) on an order.

    A refund may not exceed what has been paid: the net paid never goes below zero.
    """
    require_unsettled(order, "taking payments")
    order_id = order["order_id"]
    bill_date = today(ctx, order_zone(conn, order_id)).isoformat()
    for i, item in enumerate(items):
        bill_type = choice(item, "bill_type", (PAYMENT, REFUND))
        amount = positive_money(item, "amount")
        pay_id = item.integer("pay_id", None)
        if pay_id is not None:
            _catalogue_name(conn, "pms_pay_method", "pay_id", pay_id)
        name = item.text("name", max_len=100)
        if not name.strip():
            raise SimError(BAD_PARAMS, f"{where}[{i}].name must not be empty")
        if bill_type == REFUND and amount > folio(conn, order_id).paid:
            raise SimError(CONFLICT, f"{where}[{i}] refunds more than order {order_id} has paid")
        cur = conn.execute(
            "INSERT INTO pms_bill (order_id, kind, bill_type, pay_id, name, bill_date, price, "
            "num, amount, remark, created_at) VALUES (?, 'cash', ?, ?, ?, ?, ?, 1, ?, ?, ?)",
            (
                order_id,
                bill_type,
                pay_id,
                name,
                bill_date,
                fmt(amount),
                fmt(amount),
                item.text("remark", "", max_len=200),
                now_ts(ctx),
            ),
        )
        add_log(
            conn,
            ctx,
            order_id,
            CASHIER,
            {"bill_id": cur.lastrowid, "bill_type": bill_type, "amount": fmt(amount)},
        )


def _require_bill(conn: sqlite3.Connection, bill_id: int) -> sqlite3.Row:
    bill = conn.execute("SELECT * FROM pms_bill WHERE bill_id = ?", (bill_id,)).fetchone()
    if bill is None:
        raise SimError(NOT_FOUND, f"bill_id {bill_id} not found")
    return bill


def _require_bill_status(bill: sqlite3.Row, status: int, action: str) -> None:
    if bill["status"] != status:
        raise SimError(
            CONFLICT,
            f"bill {bill['bill_id']} has status {bill['status']}; only status {status} "
            f"bills can be {action}d",
        )


# --- handlers -------------------------------------------------------------------------------


def add_accom_bill(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    accom = require_accom(conn, params.integer("accom_id"))
    if accom["accom_status"] == CANCELLED:
        raise SimError(CONFLICT, f"stay {accom['accom_id']} is cancelled ({CANCELLED})")
    require_unsettled(require_order(conn, accom["order_id"]), "adding bills")
    for item in params.objects("bill_list", []):
        add_consumption(conn, ctx, accom, item)
    return {}


def cashier(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    bills = params.objects("bills")
    order = require_order(conn, params.integer("order_id"))
    if not bills:
        raise SimError(BAD_PARAMS, "bills must not be empty")
    record_payments(conn, ctx, order, bills, "bills")
    return {}


def get_bill_summary(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    order_id = params.integer("order_id")
    require_order(conn, order_id)
    accom_ids = params.integers("accom_ids", None)
    for accom_id in accom_ids or ():
        stay_of_order(conn, order_id, accom_id)
    return bill_summary(folio(conn, order_id, accom_ids))


def get_bill_list(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    kind = {CONSUMPTION_LIST: "consume", CASHIER_LIST: "cash"}[
        choice(params, "type", (CONSUMPTION_LIST, CASHIER_LIST))
    ]
    order_id = params.integer("order_id")
    require_order(conn, order_id)
    tz = order_zone(conn, order_id)
    page_no = params.integer("page_no", 1, lo=1, hi=MAX_PAGE_NO)
    page_size = params.integer("page_size", 25, lo=1, hi=MAX_PAGE_SIZE)
    where = ["order_id = ?", "kind = ?"]
    args: list[Any] = [order_id, kind]
    filters = (
        ("accom_id = ?", params.integer("accom_id", None)),
        ("created_at >= ?", unix(params, "start_date", None)),
        ("created_at < ?", unix(params, "end_date", None)),
        ("status = ?", choice(params, "status", BILL_STATUSES, None)),
    )
    for clause, value in filters:
        if value is not None:
            where.append(clause)
            args.append(value)
    sql = " AND ".join(where)
    total = conn.execute(f"SELECT COUNT(*) FROM pms_bill WHERE {sql}", args).fetchone()[0]
    rows = conn.execute(
        f"SELECT b.*, p.name AS pay_name FROM pms_bill b "
        f"LEFT JOIN pms_pay_method p USING (pay_id) WHERE {sql} ORDER BY bill_id LIMIT ? OFFSET ?",
        (*args, page_size, (page_no - 1) * page_size),
    ).fetchall()
    return {
        "list": [_bill_view(row, tz) for row in rows],
        "page_no": page_no,
        "page_size": page_size,
        "total": total,
    }


def _bill_view(row: sqlite3.Row, tz: Any) -> dict[str, Any]:
    amount = Decimal(row["amount"])
    if row["bill_type"] == REFUND:  # refunds count against the paid total
        amount = -amount
    return {
        "bill_id": row["bill_id"],
        "order_id": row["order_id"],
        "accom_id": row["accom_id"] or 0,
        "name": row["name"],
        "status": row["status"],
        "date": row["bill_date"],
        "price": row["price"],
        "num": row["num"],
        "amount": fmt(amount),
        "remark": row["remark"],
        "creator_name": CREATOR,
        "create_date": local_text(row["created_at"], tz),
        "pay_id": row["pay_id"] or 0,
        "pay_name": row["pay_name"] or "",
        "bill_type": row["bill_type"] or 0,  # not in the seed: tells refunds apart
    }


def update_bill(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    bill = _require_bill(conn, params.integer("bill_id"))
    if bill["status"] == REVERSED:
        raise SimError(CONFLICT, f"bill {bill['bill_id']} is reversed ({REVERSED})")
    conn.execute(
        "UPDATE pms_bill SET remark = ? WHERE bill_id = ?",
        (params.text("remark", "", max_len=200), bill["bill_id"]),
    )
    return {}


def cancel_bill(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    """Reverse an unsettled bill (status 10 -> 70): it no longer counts."""
    bill = _require_bill(conn, params.integer("bill_id"))
    _require_bill_status(bill, UNSETTLED, "cancel")
    order_id = bill["order_id"]
    if bill["kind"] == "cash" and bill["bill_type"] == PAYMENT:
        remaining = folio(conn, order_id).paid - Decimal(bill["amount"])
        if remaining < 0:
            raise SimError(CONFLICT, f"cancelling bill {bill['bill_id']} leaves refunds unpaid")
    conn.execute("UPDATE pms_bill SET status = ? WHERE bill_id = ?", (REVERSED, bill["bill_id"]))
    add_log(
        conn,
        ctx,
        order_id,
        CASHIER if bill["kind"] == "cash" else CONSUMPTION,
        {"bill_id": bill["bill_id"], "cancelled": True},
        bill["accom_id"],
    )
    return {}


ROUTES = {
    "/api/v1/pmsOrder/addAccomBill": add_accom_bill,
    "/api/v1/pmsOrder/cashier": cashier,
    "/api/v1/pmsOrder/getBillSummary": get_bill_summary,
    "/api/v1/pmsOrder/getBillList": get_bill_list,
    "/api/v1/pmsOrder/updateBill": update_bill,
    "/api/v1/pmsOrder/cancelBill": cancel_bill,
}
