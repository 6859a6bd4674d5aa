"""A stay's life after booking: check-in, cancellation, extension and revocation.

A booked stay can be checked in from its arrival day (the property's calendar) until
its end, into a clean room of its type that is free over the stay. Check-out is in
:mod:`kiosk.sim.pms.checkout`.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.sim.params import BAD_PARAMS, CONFLICT, Params, SimError
from kiosk.sim.pms import logs
from kiosk.sim.pms.rooms import (
    conflicts,
    free_rooms,
    held_until,
    require_room_free,
    stay_view,
    taken_until,
)
from kiosk.sim.pms.store import (
    BOOKED,
    CANCELLED,
    CHECKED_IN,
    CHECKED_OUT,
    choice,
    end_of_day,
    flag,
    fmt,
    local_date,
    money,
    nights,
    now_ts,
    order_stays,
    order_zone,
    require_accom,
    require_order,
    require_room,
    require_status,
    require_unsettled,
    stay_of_order,
    today,
    unique_ids,
    unix,
)

MAX_RENEW_DAYS = 30  # how far ahead an extension may be offered


def check_in_problem(
    conn: sqlite3.Connection, ctx: Any, tz: ZoneInfo, room_id: int | None, start: int, end: int
) -> str | None:
    """Why a stay over ``[start, end)`` cannot be checked in now into ``room_id`` (None: it can).

    Room availability is checked by the caller, which knows which stay to leave out.
    """
    if room_id is None:
        return "it has no room assigned"
    if local_date(start, tz) > today(ctx, tz):
        return f"it starts on {local_date(start, tz)}, not today"
    if end <= now_ts(ctx):
        return "it has already ended"
    room = require_room(conn, room_id)
    if room["is_dirty"]:
        return f"room {room['name']} is dirty"
    return None


def require_check_in_ready(
    conn: sqlite3.Connection, ctx: Any, tz: ZoneInfo, room_id: int | None, start: int, end: int
) -> None:
    problem = check_in_problem(conn, ctx, tz, room_id, start, end)
    if problem:
        raise SimError(CONFLICT, f"cannot check in: {problem}")


def _checkable_today(conn: sqlite3.Connection, ctx: Any, accom: sqlite3.Row, tz: Any) -> bool:
    return (
        accom["accom_status"] == BOOKED
        and accom["room_id"] is not None
        and local_date(accom["start_time"], tz) <= today(ctx, tz)
        and accom["end_time"] > now_ts(ctx)
    )


def get_check_in_accom(conn: sqlite3.Connection, params: Params, ctx: Any) -> list[dict]:
    """Booked stays with a room whose arrival day has come (and that have not ended)."""
    order_id = params.integer("order_id")
    tz = order_zone(conn, order_id)
    return [
        stay_view(conn, s)
        for s in order_stays(conn, order_id)
        if _checkable_today(conn, ctx, s, tz)
    ]


def check_in(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    """Check in booked stays; ``room_id`` assigns (or changes to) a room of the stay's type."""
    order = require_order(conn, params.integer("order_id"))
    require_unsettled(order, "checkIn")
    tz = order_zone(conn, order["order_id"])
    rooms = params.objects("checkin_rooms")
    unique_ids([r.integer("accom_id") for r in rooms], "checkin_rooms")
    now = now_ts(ctx)
    for item in rooms:
        accom = stay_of_order(conn, order["order_id"], item.integer("accom_id"))
        require_status(accom, (BOOKED,), "checkIn")
        room = require_room(conn, item.integer("room_id"))
        if room["room_type_id"] != accom["room_type_id"]:
            raise SimError(CONFLICT, f"room {room['name']} is not of the stay's room type")
        start, end = accom["start_time"], accom["end_time"]
        require_check_in_ready(conn, ctx, tz, room["room_id"], start, end)
        require_room_free(conn, room["room_id"], start, end, now, accom["accom_id"])
        conn.execute(
            "UPDATE pms_accom SET accom_status = ?, room_id = ?, checked_in_at = ? "
            "WHERE accom_id = ?",
            (CHECKED_IN, room["room_id"], now, accom["accom_id"]),
        )
        logs.add_log(
            conn,
            ctx,
            order["order_id"],
            logs.CHECKED_IN,
            {"room_name": room["name"]},
            accom["accom_id"],
        )
    return {}


def cancel_book(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    """Cancel booked stays of one order (40 -> 50); the penalty is charged once, on the first."""
    accom_ids = unique_ids(params.integers("accom_ids"), "accom_ids")
    penalty = params.money("penalty_amount")
    stays = [require_accom(conn, accom_id) for accom_id in accom_ids]
    order_id = stays[0]["order_id"]
    if any(s["order_id"] != order_id for s in stays):
        raise SimError(BAD_PARAMS, "accom_ids must be stays of one order")
    require_unsettled(require_order(conn, order_id), "cancelBook")
    for i, accom in enumerate(stays):
        require_status(accom, (BOOKED,), "cancelBook")
        conn.execute(
            "UPDATE pms_accom SET accom_status = ?, penalty_amount = ? WHERE accom_id = ?",
            (CANCELLED, fmt(penalty if i == 0 else money("0")), accom["accom_id"]),
        )
    logs.add_log(
        conn,
        ctx,
        order_id,
        logs.BOOKING_CANCELLED,
        {"accom_ids": accom_ids, "penalty_amount": fmt(penalty)},
    )
    return {}


def list_check_in_room(conn: sqlite3.Connection, params: Params, ctx: Any) -> list[dict]:
    """Booked stays, all / without a room (10) / with one (20), and whether each can go in now."""
    order_id = params.integer("order_id")
    arrange = choice(params, "arrange_status", (0, 10, 20))
    tz = order_zone(conn, order_id)
    now = now_ts(ctx)
    result = []
    for accom in order_stays(conn, order_id):
        assigned = accom["room_id"] is not None
        if accom["accom_status"] != BOOKED or (arrange == 10 and assigned):
            continue
        if arrange == 20 and not assigned:
            continue
        start, end = accom["start_time"], accom["end_time"]
        if assigned:
            available = check_in_problem(
                conn, ctx, tz, accom["room_id"], start, end
            ) is None and not conflicts(conn, accom["room_id"], start, end, now, accom["accom_id"])
        else:  # can go in once a room is picked: the type still has one for this stay
            available = (
                local_date(start, tz) <= today(ctx, tz)
                and end > now
                and free_rooms(conn, accom["room_type_id"], start, end, now, accom["accom_id"]) > 0
            )
        result.append(
            {
                **stay_view(conn, accom),
                "amount": accom["amount"],
                "total_days": nights(start, end, tz),
                "is_available": flag(available),
            }
        )
    return result


def _extension_clash(
    conn: sqlite3.Connection, accom: sqlite3.Row, new_end: int, now: int
) -> list[sqlite3.Row]:
    if accom["room_id"] is None or new_end <= accom["end_time"]:
        return []
    return conflicts(conn, accom["room_id"], accom["end_time"], new_end, now, accom["accom_id"])


def batch_get_accom_availability(conn: sqlite3.Connection, params: Params, ctx: Any) -> list:
    now = now_ts(ctx)
    result = []
    for item in params.objects("accom_list"):
        accom = require_accom(conn, item.integer("accom_id"))
        if accom["room_id"] is None:
            raise SimError(CONFLICT, f"stay {accom['accom_id']} has no room assigned")
        clash = _extension_clash(conn, accom, unix(item, "checkin_end_time"), now)
        result.append(
            {
                "is_available": flag(not clash),
                "room_id": accom["room_id"],
                "room_name": require_room(conn, accom["room_id"])["name"],
                "occupied_end_time": taken_until(clash, now),
            }
        )
    return result


def extend_check_in(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    """Move checked-in stays' ends later; ``amount`` is the charge for the added time."""
    now = now_ts(ctx)
    items = params.objects("extends")
    unique_ids([item.integer("accom_id") for item in items], "extends")
    for item in items:
        accom = require_accom(conn, item.integer("accom_id"))
        require_status(accom, (CHECKED_IN,), "extendCheckIn")
        require_unsettled(require_order(conn, accom["order_id"]), "extendCheckIn")
        new_end = unix(item, "checkin_end_time")
        if new_end <= accom["end_time"]:
            raise SimError(BAD_PARAMS, "checkin_end_time must be after the stay's current end")
        amount = item.money("amount")
        clash = _extension_clash(conn, accom, new_end, now)
        if clash:
            raise SimError(
                CONFLICT,
                f"room {require_room(conn, accom['room_id'])['name']} is booked from "
                f"{clash[0]['start_time']} (stay {clash[0]['accom_id']})",
            )
        conn.execute(
            "UPDATE pms_accom SET end_time = ?, amount = ? WHERE accom_id = ?",
            (new_end, fmt(money(accom["amount"]) + amount), accom["accom_id"]),
        )
        logs.add_log(
            conn,
            ctx,
            accom["order_id"],
            logs.STAY_EXTENDED,
            {"old_end": accom["end_time"], "new_end": new_end, "amount": fmt(amount)},
            accom["accom_id"],
        )
    return {}


def get_order_max_renew_days(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict:
    """Days each checked-in stay can be extended before its room's next booking (max 30)."""
    order_id = params.integer("order_id")
    tz = order_zone(conn, order_id)
    now = now_ts(ctx)
    counts: dict[str, int] = {}
    for accom in order_stays(conn, order_id):
        if accom["accom_status"] != CHECKED_IN:
            continue
        end_day = local_date(accom["end_time"], tz)
        horizon = end_of_day(end_day + timedelta(days=MAX_RENEW_DAYS), tz)
        clash = _extension_clash(conn, accom, horizon, now)
        days = MAX_RENEW_DAYS
        if clash:
            days = (local_date(clash[0]["start_time"], tz) - end_day).days
        counts[str(accom["accom_id"])] = max(0, min(days, MAX_RENEW_DAYS))
    return {"maxCount": max(counts.values(), default=0), "serviceCount": counts}


def cancel_accom_status(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    """Revoke the last step of a stay: check-in (70 -> 40) or check-out (80 -> 70)."""
    accom = require_accom(conn, params.integer("accom_id"))
    require_status(accom, (CHECKED_IN, CHECKED_OUT), "cancelAccomStatus")
    require_unsettled(require_order(conn, accom["order_id"]), "cancelAccomStatus")
    if accom["accom_status"] == CHECKED_IN:
        conn.execute(
            "UPDATE pms_accom SET accom_status = ?, checked_in_at = NULL WHERE accom_id = ?",
            (BOOKED, accom["accom_id"]),
        )
        revoked = CHECKED_IN
    else:  # back in the room: only if nobody has taken it since, up to now if overdue
        now = now_ts(ctx)
        end = held_until(CHECKED_IN, accom["end_time"], now)
        require_room_free(conn, accom["room_id"], accom["start_time"], end, now, accom["accom_id"])
        conn.execute(
            "UPDATE pms_accom SET accom_status = ?, checked_out_at = NULL, checkout_fee = '0.00' "
            "WHERE accom_id = ?",
            (CHECKED_IN, accom["accom_id"]),
        )
        revoked = CHECKED_OUT
    logs.add_log(
        conn,
        ctx,
        accom["order_id"],
        logs.STAYS_CHANGED,
        {"revoked_status": revoked},
        accom["accom_id"],
    )
    return {}


ROUTES = {
    "/api/v1/pmsOrder/getCheckInAccom": get_check_in_accom,
    "/api/v1/pmsOrder/checkIn": check_in,
    "/api/v1/pmsOrder/cancelBook": cancel_book,
    "/api/v1/pmsOrder/listCheckInRoom": list_check_in_room,
    "/api/v1/pmsOrder/batchGetAccomAvailability": batch_get_accom_availability,
    "/api/v1/pmsOrder/extendCheckIn": extend_check_in,
    "/api/v1/pmsOrder/getOrderMaxRenewDays": get_order_max_renew_days,
    "/api/v1/pmsOrder/cancelAccomStatus": cancel_accom_status,
}
