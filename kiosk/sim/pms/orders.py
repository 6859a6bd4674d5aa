"""Orders and their stays: ``create``, ``update``, ``getAccomlist``, ``getAccomDetail``.

A stay either names its room or, with ``room_id`` 0, books a room type without a
room: the request then carries ``room_type_id`` too (the simulator's extension of
the seed, which does not say how an unassigned stay names its type). No room is
booked twice over overlapping stays, and a type never holds more stays than rooms.
``accom_status`` 70 books and checks in at once (a walk-in), under check-in's rules.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from kiosk.sim.params import BAD_PARAMS, CONFLICT, NOT_FOUND, Params, SimError
from kiosk.sim.pms import logs
from kiosk.sim.pms.bills import add_consumption, update_consumption
from kiosk.sim.pms.folio import REVERSED, detail_summary, folio
from kiosk.sim.pms.reminders import parse_reminder
from kiosk.sim.pms.rooms import (
    full_name,
    held_until,
    require_room_free,
    require_type_capacity,
)
from kiosk.sim.pms.stays import require_check_in_ready
from kiosk.sim.pms.store import (
    BOOKED,
    CANCELLED,
    CHECKED_IN,
    CHECKED_OUT,
    CREATOR,
    choice,
    flag,
    fmt,
    interval,
    money,
    now_ts,
    order_status,
    order_stays,
    order_zone,
    require_order,
    require_room,
    require_room_type,
    require_unsettled,
    stay_of_order,
    zone,
)
from kiosk.sim.pms.tenants import name_or_phone, replace_tenants, tenant_views

ACCOM_TYPES = (10, 20, 30, 40)
ACCOM_TYPE_NAMES = {10: "正常入住", 20: "自用房", 30: "免费房", 40: "钟点房"}
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")


def _order_fields(params: Params) -> dict[str, Any]:
    name, phone = name_or_phone(params, "order")
    fields: dict[str, Any] = {"name": name, "phone": phone}
    if "remark" in params:
        fields["remark"] = params.text("remark", max_len=500)
    if "color" in params:
        color = params.text("color", max_len=7)
        if not _COLOR.fullmatch(color):
            raise SimError(BAD_PARAMS, 'color must be a hex colour such as "#FF0000"')
        fields["color"] = color
    return fields


def _stay_fields(conn: sqlite3.Connection, pms_id: int, item: Params, where: str) -> dict:
    """The columns of a stay item (room or room type, dates, price, type, status)."""
    room_id = item.integer("room_id")
    if room_id == 0:
        if "room_type_id" not in item:
            raise SimError(BAD_PARAMS, f"{where}.room_type_id is required when room_id is 0")
        room_type = require_room_type(conn, item.integer("room_type_id"))
    else:
        room_type = require_room_type(conn, require_room(conn, room_id)["room_type_id"])
    if room_type["pms_id"] != pms_id:
        raise SimError(NOT_FOUND, f"{where}: the room is not in property {pms_id}")
    start, end = interval(item, "checkin_start_time", "checkin_end_time")
    return {
        "room_id": room_id or None,
        "room_type_id": room_type["room_type_id"],
        "accom_type": choice(item, "accom_type", ACCOM_TYPES),
        "start_time": start,
        "end_time": end,
        "amount": fmt(item.money("amount")),
        "is_custom_price": choice(item, "is_custom_price", (1, 2), 2),
        "accom_status": choice(item, "accom_status", (BOOKED, CHECKED_IN)),
    }


def _check_stay(
    conn: sqlite3.Connection, ctx: Any, tz: Any, stay: dict[str, Any], old: Any = None
) -> None:
    """Availability of a stay about to be written (``old``: its row before an edit).

    A guest going into a room now (a walk-in, or an in-house guest moving) needs the
    room ready for check-in; an in-house guest staying put does not.
    """
    now, start, end = now_ts(ctx), stay["start_time"], stay["end_time"]
    held = held_until(stay["accom_status"], end, now)  # an in-house guest keeps the room on
    exclude = 0 if old is None else old["accom_id"]
    if stay["room_id"] is not None:
        require_room_free(conn, stay["room_id"], start, held, now, exclude)
    require_type_capacity(conn, stay["room_type_id"], start, held, now, exclude)
    moving_in = old is None or old["room_id"] != stay["room_id"]
    if stay["accom_status"] == CHECKED_IN and moving_in:
        require_check_in_ready(conn, ctx, tz, stay["room_id"], start, end)


def _write_items(
    conn: sqlite3.Connection, ctx: Any, accom_id: int, item: Params, where: str
) -> None:
    """A stay item's bills (new, or updated by ``bill_id``) and guests (replaced)."""
    accom = conn.execute("SELECT * FROM pms_accom WHERE accom_id = ?", (accom_id,)).fetchone()
    for bill in item.objects("bill_list", []):
        if "bill_id" in bill:
            update_consumption(conn, ctx, accom, bill)
        else:
            add_consumption(conn, ctx, accom, bill)
    if "tenant_list" in item:
        replace_tenants(conn, accom_id, item.objects("tenant_list"), where)


def _insert_stay(
    conn: sqlite3.Connection, ctx: Any, tz: Any, order_id: int, item: Params, where: str
) -> dict[str, Any]:
    stay = _stay_fields(conn, _pms_id(conn, order_id), item, where)
    _check_stay(conn, ctx, tz, stay)
    checked_in_at = now_ts(ctx) if stay["accom_status"] == CHECKED_IN else None
    cur = conn.execute(
        f"INSERT INTO pms_accom (order_id, checked_in_at, {', '.join(stay)}) "
        f"VALUES (?, ?{', ?' * len(stay)})",
        (order_id, checked_in_at, *stay.values()),
    )
    stay["accom_id"] = int(cur.lastrowid or 0)
    _write_items(conn, ctx, stay["accom_id"], item, where)
    return stay


def _pms_id(conn: sqlite3.Connection, order_id: int) -> int:
    return require_order(conn, order_id)["pms_id"]


def create(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    pms_id = params.integer("pms_id")
    tz = zone(conn, pms_id)
    fields = _order_fields(params)
    images = params.raw("images", [])
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        raise SimError(BAD_PARAMS, "images must be a list of strings")
    items = params.objects("room_list")
    if not items:
        raise SimError(BAD_PARAMS, "room_list must not be empty")
    reminders = [parse_reminder(r) for r in params.objects("reminder_list")]
    now = now_ts(ctx)
    order_id = conn.execute("SELECT COALESCE(MAX(order_id), 0) + 1 FROM pms_order").fetchone()[0]
    local = ctx.now.astimezone(tz)
    conn.execute(
        f"INSERT INTO pms_order (order_id, pms_id, order_no, images, created_at, created_name, "
        f"{', '.join(fields)}) VALUES (?, ?, ?, ?, ?, ?{', ?' * len(fields)})",
        (
            order_id,
            pms_id,
            f"{local:%Y%m%d%H%M%S}{order_id % 10000:04d}",
            json.dumps(images),
            now,
            CREATOR,
            *fields.values(),
        ),
    )
    stays = [
        _insert_stay(conn, ctx, tz, order_id, item, f"room_list[{i}]")
        for i, item in enumerate(items)
    ]
    for remind_date, content in reminders:
        conn.execute(
            "INSERT INTO pms_reminder (order_id, remind_date, content) VALUES (?, ?, ?)",
            (order_id, remind_date, content),
        )
    walk_in = any(s["accom_status"] == CHECKED_IN for s in stays)
    logs.add_log(
        conn,
        ctx,
        order_id,
        logs.DIRECT_CHECK_IN_CREATED if walk_in else logs.BOOKING_CREATED,
        {
            "name": fields["name"],
            "phone": fields["phone"],
            "total_amount": fmt(sum((money(s["amount"]) for s in stays), money("0"))),
            "accommodations": [
                {
                    "amount": s["amount"],
                    "room_name": full_name(conn, s["room_type_id"], s["room_id"]),
                    "consumption": "0.00",
                    "checkin_start_time": s["start_time"],
                    "checkin_end_time": s["end_time"],
                    "checkin_type_name": ACCOM_TYPE_NAMES[s["accom_type"]],
                }
                for s in stays
            ],
        },
    )
    return {"order_id": order_id}


def update(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    """Change the order's details; edit stays (by ``accom_id``) or add new ones."""
    order = require_order(conn, params.integer("order_id"))
    order_id = order["order_id"]
    require_unsettled(order, "update")
    tz = order_zone(conn, order_id)
    fields = _order_fields(params)
    assignments = ", ".join(f"{column} = ?" for column in fields)
    conn.execute(
        f"UPDATE pms_order SET {assignments} WHERE order_id = ?", (*fields.values(), order_id)
    )
    logs.add_log(conn, ctx, order_id, logs.ORDER_CHANGED, {"fields": sorted(fields)})
    for i, item in enumerate(params.objects("room_list", [])):
        where = f"room_list[{i}]"
        if "accom_id" not in item:
            stay = _insert_stay(conn, ctx, tz, order_id, item, where)
            logs.add_log(conn, ctx, order_id, logs.STAYS_CHANGED, {"added": True}, stay["accom_id"])
            continue
        accom = stay_of_order(conn, order_id, item.integer("accom_id"))
        stay = _stay_fields(conn, order["pms_id"], item, where)
        if stay["accom_status"] != accom["accom_status"]:
            raise SimError(
                CONFLICT,
                f"{where}: stay {accom['accom_id']} is {accom['accom_status']}; "
                "update does not change a stay's status (checkIn, cancelBook, checkOut do)",
            )
        if accom["accom_status"] not in (BOOKED, CHECKED_IN):
            raise SimError(CONFLICT, f"{where}: stay {accom['accom_id']} can no longer change")
        _check_stay(conn, ctx, tz, stay, old=accom)
        assignments = ", ".join(f"{column} = ?" for column in stay)
        conn.execute(
            f"UPDATE pms_accom SET {assignments} WHERE accom_id = ?",
            (*stay.values(), accom["accom_id"]),
        )
        _write_items(conn, ctx, accom["accom_id"], item, where)
        logs.add_log(conn, ctx, order_id, logs.STAYS_CHANGED, {"updated": True}, accom["accom_id"])
    return {}


# --- queries --------------------------------------------------------------------------------


def get_accom_list(conn: sqlite3.Connection, params: Params, ctx: Any) -> list[dict[str, Any]]:
    """The room calendar: every room of the property with the stays overlapping the range."""
    pms_id = params.integer("pms_id")
    zone(conn, pms_id)
    start, end = interval(params)
    rooms = conn.execute(
        "SELECT r.*, t.name AS type_name FROM pms_room r JOIN pms_room_type t USING "
        "(room_type_id) WHERE r.pms_id = ? ORDER BY r.room_type_id, r.sort, r.room_id",
        (pms_id,),
    ).fetchall()
    result = []
    for room in rooms:
        stays = conn.execute(
            "SELECT a.*, o.name, o.phone, o.remark FROM pms_accom a JOIN pms_order o "
            "USING (order_id) WHERE a.room_id = ? AND a.start_time < ? AND a.end_time > ? "
            "ORDER BY a.start_time",
            (room["room_id"], end, start),
        ).fetchall()
        order_list = []
        for s in stays:
            f = folio(conn, s["order_id"])
            order_list.append(
                {
                    "order_id": s["order_id"],
                    "name": s["name"],
                    "phone": s["phone"],
                    "remark": s["remark"],
                    "accom_type": s["accom_type"],
                    "is_custom_price": s["is_custom_price"],
                    "checkin_start_time": s["start_time"],
                    "checkin_end_time": s["end_time"],
                    "total_amount": s["amount"],
                    "total_payed_amount": fmt(f.paid),
                    "accom_status": s["accom_status"],
                    "is_arrears": flag(f.need_pay > 0),
                }
            )
        result.append(
            {
                "room_id": room["room_id"],
                "room_name": room["name"],
                "room_full_name": f"{room['type_name']}-{room['name']}",
                "order_list": order_list,
            }
        )
    return result


def _accom_view(conn: sqlite3.Connection, accom: sqlite3.Row, settled: bool) -> dict[str, Any]:
    room = require_room(conn, accom["room_id"]) if accom["room_id"] else None
    room_type = require_room_type(conn, accom["room_type_id"])
    bills = conn.execute(
        "SELECT * FROM pms_bill WHERE accom_id = ? AND kind = 'consume' AND status != ? "
        "ORDER BY bill_id",
        (accom["accom_id"], REVERSED),
    ).fetchall()
    return {
        "accom_id": accom["accom_id"],
        "room_id": accom["room_id"] or 0,
        "room_name": room["name"] if room else "",
        "room_type_id": accom["room_type_id"],
        "room_type_name": room_type["name"],
        "room_full_name": full_name(conn, accom["room_type_id"], accom["room_id"]),
        "checkin_start_time": accom["start_time"],
        "checkin_end_time": accom["end_time"],
        "amount": accom["amount"],
        "accom_type": accom["accom_type"],
        "accom_status": accom["accom_status"],
        "checkout_status": 20 if settled else 10,
        "is_custom_price": accom["is_custom_price"],
        "penalty_amount": accom["penalty_amount"],
        "tenant_list": tenant_views(conn, accom["accom_id"]),
        "bill_list": [
            {
                "bill_id": b["bill_id"],
                "customer_id": b["consume_id"],  # the seed's name for consume_id in replies
                "name": b["name"],
                "price": b["price"],
                "num": b["num"],
                "amount": b["amount"],
                "date": b["bill_date"],
            }
            for b in bills
        ],
        "room_location": None
        if room is None
        else {
            "building_id": room["building"],
            "floor_id": room["floor"],
            "child_room_no": room["child_room_no"],
            "area_id": room["area_id"],
        },
        "device_lock": None
        if room is None or room["lock_type"] is None
        else {
            "lock_type": room["lock_type"],
            "device_no": room["device_no"],
            "has_gateway": flag(bool(room["has_gateway"])),
        },
    }


def _status_control(statuses: set[int], settled: bool) -> dict[str, int]:
    """Which desk actions the order's state allows (the PMS's own buttons)."""
    open_ = not settled
    return {
        "is_show_checkin": flag(open_ and BOOKED in statuses),
        "is_show_extend": flag(open_ and CHECKED_IN in statuses),
        "is_show_settle": flag(
            open_ and BOOKED not in statuses and bool(statuses & {CHECKED_IN, CHECKED_OUT})
        ),
        "is_show_cashier": flag(open_),
        "is_show_cancel_book": flag(open_ and BOOKED in statuses),
        "is_show_status_revoke": flag(open_ and bool(statuses & {CHECKED_IN, CHECKED_OUT})),
        "is_show_more_operation": flag(open_),
        "is_show_modify_order": flag(open_ and statuses != {CANCELLED}),
        "is_show_change_room": flag(open_ and bool(statuses & {BOOKED, CHECKED_IN})),
        "is_show_restore_book": flag(False),  # no operation of the seed restores a booking
        "is_show_cancel_checkin": flag(open_ and CHECKED_IN in statuses),
    }


def get_accom_detail(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    order = require_order(conn, params.integer("order_id"))
    order_id = order["order_id"]
    raw_ids = params.raw("accom_ids")
    # the table types accom_ids as int although it is plural: one id or a list
    wanted = params.integers("accom_ids") if isinstance(raw_ids, list) else None
    if raw_ids is not None and wanted is None:
        wanted = [params.integer("accom_ids")]
    stays = order_stays(conn, order_id)
    for accom_id in wanted or ():
        stay_of_order(conn, order_id, accom_id)
    settled = bool(order["settled"])
    f = folio(conn, order_id)
    reminders = conn.execute(
        "SELECT * FROM pms_reminder WHERE order_id = ? ORDER BY remind_date, remind_id",
        (order_id,),
    ).fetchall()
    return {
        "order_id": order_id,
        "order_no": order["order_no"],
        "name": order["name"],
        "phone": order["phone"],
        "remark": order["remark"],
        "total_amount": fmt(f.total),
        "total_payed_amount": fmt(f.paid),
        "consumed_amount": fmt(f.confirmed),
        "unchecked_amount": fmt(f.total - f.confirmed),
        "balance": fmt(f.overpaid),
        "created_date": order["created_at"],
        "created_name": order["created_name"],
        "color": order["color"],
        "images": json.loads(order["images"]),
        "order_status": order_status(conn, order),
        "accom_list": [
            _accom_view(conn, s, settled)
            for s in stays
            if wanted is None or s["accom_id"] in wanted
        ],
        "reminder_list": [
            {"remind_id": r["remind_id"], "remind_date": r["remind_date"], "content": r["content"]}
            for r in reminders
        ],
        "status_control": _status_control({s["accom_status"] for s in stays}, settled),
        "bill_summary": detail_summary(f),
    }


ROUTES = {
    "/api/v1/pmsOrder/create": create,
    "/api/v1/pmsOrder/update": update,
    "/api/v1/pmsOrder/getAccomlist": get_accom_list,
    "/api/v1/pmsOrder/getAccomDetail": get_accom_detail,
}
