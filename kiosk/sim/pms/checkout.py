"""Check-out and settlement: ``checkOut``, ``settle``, ``cancelSettle`` and their queries.

The day's room fee at check-out (``room_list.*.type``) is a share of the stay's nightly
rate (its amount over its nights): 10/40 nothing, 20/50 half, 30/60 a full night,
70 the ``amount`` sent. Settlement refuses, in this order: 444 while a stay is still
booked, 445 while one is checked in, 446 while money is owed, 447 while more was
paid than is owed; a refusal changes nothing (the request's transaction rolls back).
``checkOut`` type 1 takes the same road once no stay is left in the house; while
others are, it only insists that nothing is owed (446). Type 2 leaves the folio open.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from kiosk.sim.params import BAD_PARAMS, CONFLICT, Params, SimError
from kiosk.sim.pms import logs
from kiosk.sim.pms.bills import record_payments
from kiosk.sim.pms.folio import SETTLED, UNSETTLED, folio
from kiosk.sim.pms.rooms import stay_view
from kiosk.sim.pms.store import (
    BOOKED,
    CHECKED_IN,
    CHECKED_OUT,
    ZERO,
    choice,
    fmt,
    local_date,
    money,
    nights,
    now_ts,
    order_status,
    order_stays,
    order_zone,
    require_order,
    require_status,
    require_unsettled,
    stay_of_order,
    today,
    unique_ids,
)

RESERVED_ROOMS_EXIST, ROOMS_NOT_CHECKED_OUT, UNSETTLED_BILLS, OVERPAID = 444, 445, 446, 447
FEE_TYPES = (10, 20, 30, 40, 50, 60, 70)
_FEE_SHARE = {10: Decimal(0), 40: Decimal(0), 20: Decimal("0.5"), 50: Decimal("0.5"),
              30: Decimal(1), 60: Decimal(1)}  # fmt: skip
CHECK_OUT_AND_SETTLE, CHECK_OUT_ONLY = 1, 2
ON_TIME, OVERDUE, EARLY = 1, 2, 3


def nightly_rate(accom: sqlite3.Row, tz: Any) -> Decimal:
    return money(money(accom["amount"]) / nights(accom["start_time"], accom["end_time"], tz))


def _fees(
    conn: sqlite3.Connection, order_id: int, items: list[Params], tz: Any, action: str
) -> list[tuple[sqlite3.Row, Decimal]]:
    """The checked-in stays of ``room_list`` with the fee each one's ``type`` asks for."""
    if items:
        unique_ids([item.integer("accom_id") for item in items], "room_list")
    result = []
    for item in items:
        accom = stay_of_order(conn, order_id, item.integer("accom_id"))
        require_status(accom, (CHECKED_IN,), action)
        fee_type = choice(item, "type", FEE_TYPES)
        custom = item.money("amount")
        fee = custom if fee_type == 70 else money(nightly_rate(accom, tz) * _FEE_SHARE[fee_type])
        result.append((accom, fee))
    return result


def _check_out(conn: sqlite3.Connection, ctx: Any, accom: sqlite3.Row, fee: Decimal) -> None:
    """70 -> 80 with the day's fee; the room needs housekeeping."""
    conn.execute(
        "UPDATE pms_accom SET accom_status = ?, checked_out_at = ?, checkout_fee = ? "
        "WHERE accom_id = ?",
        (CHECKED_OUT, now_ts(ctx), fmt(fee), accom["accom_id"]),
    )
    conn.execute("UPDATE pms_room SET is_dirty = 1 WHERE room_id = ?", (accom["room_id"],))
    logs.add_log(
        conn, ctx, accom["order_id"], logs.CHECKED_OUT, {"fee": fmt(fee)}, accom["accom_id"]
    )


def _require_nothing_owed(conn: sqlite3.Connection, order_id: int) -> None:
    owed = folio(conn, order_id).need_pay
    if owed > 0:
        raise SimError(UNSETTLED_BILLS, f"order {order_id} still owes {fmt(owed)}")


def _settle(conn: sqlite3.Connection, ctx: Any, order_id: int) -> None:
    """Close the folio of an order whose stays are all out: it must balance exactly."""
    statuses = {s["accom_status"] for s in order_stays(conn, order_id)}
    if BOOKED in statuses:
        raise SimError(RESERVED_ROOMS_EXIST, f"order {order_id} has booked stays")
    if CHECKED_IN in statuses:
        raise SimError(ROOMS_NOT_CHECKED_OUT, f"order {order_id} has stays not checked out")
    _require_nothing_owed(conn, order_id)
    over = folio(conn, order_id).overpaid
    if over > 0:
        raise SimError(OVERPAID, f"order {order_id} has {fmt(over)} more paid than owed")
    conn.execute("UPDATE pms_order SET settled = 1 WHERE order_id = ?", (order_id,))
    conn.execute(
        "UPDATE pms_bill SET status = ? WHERE order_id = ? AND status = ?",
        (SETTLED, order_id, UNSETTLED),
    )
    logs.add_log(conn, ctx, order_id, logs.SETTLED, {"amount": fmt(folio(conn, order_id).total)})


def check_out(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    order = require_order(conn, params.integer("order_id"))
    order_id = order["order_id"]
    require_unsettled(order, "checkOut")
    mode = choice(params, "type", (CHECK_OUT_AND_SETTLE, CHECK_OUT_ONLY))
    items = params.objects("room_list")
    if not items:
        raise SimError(BAD_PARAMS, "room_list must not be empty")
    for accom, fee in _fees(conn, order_id, items, order_zone(conn, order_id), "checkOut"):
        _check_out(conn, ctx, accom, fee)
    record_payments(conn, ctx, order, params.objects("bill_list", []), "bill_list")
    if mode == CHECK_OUT_AND_SETTLE:
        statuses = {s["accom_status"] for s in order_stays(conn, order_id)}
        if statuses & {BOOKED, CHECKED_IN}:
            _require_nothing_owed(conn, order_id)
        else:
            _settle(conn, ctx, order_id)
    return {}


def settle(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    """Check out the ``room_list`` stays, take ``bill_list`` payments, close the folio."""
    order = require_order(conn, params.integer("order_id"))
    order_id = order["order_id"]
    require_unsettled(order, "settle")
    if any(s["accom_status"] == BOOKED for s in order_stays(conn, order_id)):
        raise SimError(RESERVED_ROOMS_EXIST, f"order {order_id} has booked stays")
    tz = order_zone(conn, order_id)
    for accom, fee in _fees(conn, order_id, params.objects("room_list", []), tz, "settle"):
        _check_out(conn, ctx, accom, fee)
    record_payments(conn, ctx, order, params.objects("bill_list", []), "bill_list")
    _settle(conn, ctx, order_id)
    return {}


def cancel_settle(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    order = require_order(conn, params.integer("order_id"))
    order_id = order["order_id"]
    if not order["settled"]:
        raise SimError(CONFLICT, f"order {order_id} is not settled ({order_status(conn, order)})")
    conn.execute("UPDATE pms_order SET settled = 0 WHERE order_id = ?", (order_id,))
    conn.execute(
        "UPDATE pms_bill SET status = ? WHERE order_id = ? AND status = ?",
        (UNSETTLED, order_id, SETTLED),
    )
    logs.add_log(conn, ctx, order_id, logs.SETTLEMENT_CANCELLED, {})
    return {}


# --- queries --------------------------------------------------------------------------------


def _timing(accom: sqlite3.Row, ctx: Any, tz: Any) -> int:
    """On time, overdue or early, against the booked end (``listCheckout``)."""
    left = accom["checked_out_at"]
    moment = now_ts(ctx) if left is None else left
    if moment > accom["end_time"]:
        return OVERDUE
    day = today(ctx, tz) if left is None else local_date(left, tz)
    return ON_TIME if day == local_date(accom["end_time"], tz) else EARLY


def list_checkout(conn: sqlite3.Connection, params: Params, ctx: Any) -> list[dict[str, Any]]:
    order_id = params.integer("order_id")
    tz = order_zone(conn, order_id)
    wanted = params.integers("accom_status")
    if not wanted or any(s not in (CHECKED_IN, CHECKED_OUT) for s in wanted):
        raise SimError(BAD_PARAMS, "accom_status must list 70 and/or 80")
    future = today(ctx, tz).isoformat()
    result = []
    for accom in order_stays(conn, order_id):
        if accom["accom_status"] not in wanted:
            continue
        has_future_bill = conn.execute(
            "SELECT 1 FROM pms_bill WHERE accom_id = ? AND kind = 'consume' AND bill_date > ? "
            "AND status != 70",
            (accom["accom_id"], future),
        ).fetchone()
        result.append(
            {
                **stay_view(conn, accom),
                "checkout_type": _timing(accom, ctx, tz),
                "total_days": nights(accom["start_time"], accom["end_time"], tz),
                "amount": accom["amount"],
                "accom_status": accom["accom_status"],
                "current_room_amount": fmt(nightly_rate(accom, tz)),
                "has_future_bill": 1 if has_future_bill else 2,
                "total_room_fee": fmt(money(accom["amount"]) + money(accom["checkout_fee"])),
            }
        )
    return result


def calculate_checkout_amount(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict:
    """What checking out ``room_list`` with those fees would leave to pay; changes nothing."""
    order_id = params.integer("order_id")
    tz = order_zone(conn, order_id)
    fees = _fees(conn, order_id, params.objects("room_list"), tz, "calculateCheckoutAmount")
    f = folio(conn, order_id)
    total = f.total + sum((fee for _, fee in fees), ZERO)
    return {
        "order_amount": fmt(total),
        "checked_amount": fmt(f.confirmed),
        "unchecked_amount": fmt(total - f.confirmed),
        "paid_amount": fmt(f.paid),
        "balance": fmt(max(f.paid - total, ZERO)),
        "confirmed_checked_amount": fmt(f.paid if f.settled else ZERO),
        "need_paid_amount": fmt(max(total - f.paid, ZERO)),
        "consume_amount": fmt(f.consumption),
        "accom_list": [
            {**stay_view(conn, accom), "current_room_amount": fmt(fee)} for accom, fee in fees
        ],
    }


ROUTES = {
    "/api/v1/pmsOrder/checkOut": check_out,
    "/api/v1/pmsOrder/settle": settle,
    "/api/v1/pmsOrder/cancelSettle": cancel_settle,
    "/api/v1/pmsOrder/listCheckout": list_checkout,
    "/api/v1/pmsOrder/calculateCheckoutAmount": calculate_checkout_amount,
}
