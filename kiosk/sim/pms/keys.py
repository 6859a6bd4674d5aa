"""Keys to a room: card payloads and card records, door passwords, e-keys, remote unlock.

Only a checked-in stay gets a card, a card record or a remote unlock; passwords and
e-keys may be sent ahead for a booked stay too, valid within the stay, and need a
room with a lock (passwords a keypad lock, type 10; remote unlock a gateway).
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from kiosk.sim.params import BAD_PARAMS, CONFLICT, NOT_FOUND, Params, SimError
from kiosk.sim.pms.property import PASSWORD_LOCK
from kiosk.sim.pms.rooms import full_name, stay_view
from kiosk.sim.pms.store import (
    BOOKED,
    CHECKED_IN,
    CREATOR,
    flag,
    local_text,
    now_ts,
    order_stays,
    order_zone,
    require_accom,
    require_room,
    require_status,
    unix,
)

CARD_UID = re.compile(r"[0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20}")  # 4-, 7- or 10-byte UIDs
ROOM_CARD, ROOM_CARD_NAME = 4, "房卡"
_COUNTRY_CODE = re.compile(r"\+[0-9]{1,4}")  # ASCII digits: \d would take fullwidth ones
_PHONE = re.compile(r"[0-9]{4,15}")


def room_card_payload(accom: sqlite3.Row) -> bytes:
    """The bytes of a room card: compact JSON in the seed's key order."""
    payload = {
        "room_id": accom["room_id"],
        "check_in_time": accom["start_time"],
        "check_out_time": accom["end_time"],
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def _locked_room(conn: sqlite3.Connection, accom: sqlite3.Row) -> sqlite3.Row:
    room = require_room(conn, accom["room_id"]) if accom["room_id"] else None
    if room is None or room["lock_type"] is None:
        raise SimError(CONFLICT, f"stay {accom['accom_id']}'s room has no lock")
    return room


def _validity(params: Params, accom: sqlite3.Row) -> tuple[int, int]:
    start, end = unix(params, "start_time"), unix(params, "end_time")
    if end <= start:
        raise SimError(BAD_PARAMS, "end_time must be after start_time")
    if start < accom["start_time"] or end > accom["end_time"]:
        raise SimError(BAD_PARAMS, "start_time and end_time must lie within the stay")
    return start, end


def _contact(item: Params, code_name: str, phone_name: str) -> dict[str, str]:
    country_code = item.text(code_name, max_len=5)
    phone = item.text(phone_name, max_len=15)
    if not _COUNTRY_CODE.fullmatch(country_code):
        raise SimError(BAD_PARAMS, f'{code_name} must look like "+86"')
    if not _PHONE.fullmatch(phone):
        raise SimError(BAD_PARAMS, f"{phone_name} must be 4 to 15 digits")
    return {"country_code": country_code, "phone": phone}


def _device_lock(room: sqlite3.Row | None) -> dict[str, Any] | None:
    if room is None or room["lock_type"] is None:
        return None
    return {
        "lock_type": room["lock_type"],
        "device_no": room["device_no"],
        "has_gateway": flag(bool(room["has_gateway"])),
    }


def _stays_with_locks(
    conn: sqlite3.Connection, order_id: int, table: str, view: Any, key: str
) -> list[dict[str, Any]]:
    """Each stay of the order that has a room, with its lock and its rows of ``table``."""
    result = []
    for accom in order_stays(conn, order_id):
        if accom["room_id"] is None:
            continue
        rows = conn.execute(
            f"SELECT * FROM {table} WHERE accom_id = ? ORDER BY rowid", (accom["accom_id"],)
        ).fetchall()
        result.append(
            {
                **stay_view(conn, accom),
                "device_lock": _device_lock(require_room(conn, accom["room_id"])),
                key: [view(row) for row in rows],
            }
        )
    return result


def _delete_own(conn: sqlite3.Connection, table: str, id_column: str, key: int, accom_id: int):
    deleted = conn.execute(
        f"DELETE FROM {table} WHERE {id_column} = ? AND accom_id = ?", (key, accom_id)
    ).rowcount
    if not deleted:
        raise SimError(NOT_FOUND, f"{id_column} {key} not found for stay {accom_id}")


# --- room cards -----------------------------------------------------------------------------


def generate_room_card(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    accom = require_accom(conn, params.integer("accom_id"))
    require_status(accom, (CHECKED_IN,), "generateRoomCard")
    return {"ic_card_string": room_card_payload(accom).hex()}


def add_accom_card(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    """Record a card issued for a checked-in stay; the same UID again is not a second card."""
    accom = require_accom(conn, params.integer("accom_id"))
    uid = params.text("card_uid", max_len=20).upper()
    if not CARD_UID.fullmatch(uid):
        raise SimError(BAD_PARAMS, "card_uid must be 8, 14 or 20 hex digits")
    require_status(accom, (CHECKED_IN,), "addAccomCard")
    conn.execute(
        "INSERT OR IGNORE INTO pms_card (accom_id, card_uid, created_at) VALUES (?, ?, ?)",
        (accom["accom_id"], uid, now_ts(ctx)),
    )
    return {}


def get_all_accom_card(conn: sqlite3.Connection, params: Params, ctx: Any) -> list[dict]:
    accom = require_accom(conn, params.integer("accom_id"))
    tz = order_zone(conn, accom["order_id"])
    rows = conn.execute(
        "SELECT * FROM pms_card WHERE accom_id = ? ORDER BY card_id", (accom["accom_id"],)
    ).fetchall()
    name = full_name(conn, accom["room_type_id"], accom["room_id"])
    return [
        {
            "card_uid": row["card_uid"],
            "card_name": name,
            "card_type": ROOM_CARD,
            "card_type_name": ROOM_CARD_NAME,
            "start_date": accom["start_time"],
            "end_date": accom["end_time"],
            "create_time": local_text(row["created_at"], tz),
        }
        for row in rows
    ]


def remote_unlock(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    accom = require_accom(conn, params.integer("accom_id"))
    require_status(accom, (CHECKED_IN,), "remoteUnlock")
    room = _locked_room(conn, accom)
    if not room["has_gateway"]:
        raise SimError(CONFLICT, f"the lock of room {room['name']} has no gateway")
    conn.execute(
        "INSERT INTO pms_unlock (accom_id, unlocked_at) VALUES (?, ?)",
        (accom["accom_id"], now_ts(ctx)),
    )
    return {}


# --- door passwords -------------------------------------------------------------------------


def send_offline_password(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    """A new 10-digit keypad password for the stay's lock, sent to ``phone_list``."""
    accom = require_accom(conn, params.integer("accom_id"))
    require_status(accom, (BOOKED, CHECKED_IN), "sendOfflinePassword")
    start, end = _validity(params, accom)
    phones = [_contact(p, "country_code", "phone") for p in params.objects("phone_list")]
    if not phones:
        raise SimError(BAD_PARAMS, "phone_list must not be empty")
    room = _locked_room(conn, accom)
    if room["lock_type"] != PASSWORD_LOCK:
        raise SimError(CONFLICT, f"the lock of room {room['name']} has no keypad")
    password = "".join(ctx.rng.choice("0123456789") for _ in range(10))
    conn.execute(
        "INSERT INTO pms_password (accom_id, keyboard_pwd, start_time, end_time, phone_list) "
        "VALUES (?, ?, ?, ?, ?)",
        (accom["accom_id"], password, start, end, json.dumps(phones)),
    )
    return {}


def _password_view(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "pwd_id": row["pwd_id"],
        "keyboard_pwd": row["keyboard_pwd"],
        "start_date": row["start_time"],
        "end_date": row["end_time"],
        "creator_name": CREATOR,
        "phone_list": json.loads(row["phone_list"]),
    }


def get_accom_all_lock_password(conn: sqlite3.Connection, params: Params, ctx: Any) -> list:
    order_id = params.integer("order_id")
    order_zone(conn, order_id)  # NOT_FOUND for an unknown order
    return _stays_with_locks(conn, order_id, "pms_password", _password_view, "password_list")


def delete_offline_password(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict:
    accom = require_accom(conn, params.integer("accom_id"))
    _delete_own(conn, "pms_password", "pwd_id", params.integer("pwd_id"), accom["accom_id"])
    return {}


# --- e-keys ---------------------------------------------------------------------------------


def send_access_lock_key(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    accom = require_accom(conn, params.integer("accom_id"))
    require_status(accom, (BOOKED, CHECKED_IN), "sendAccessLockKey")
    start, end = _validity(params, accom)
    receiver = params.text("receiver_name", max_len=100)
    if not receiver.strip():
        raise SimError(BAD_PARAMS, "receiver_name must not be empty")
    contact = _contact(params, "country_code", "receiver_account")
    _locked_room(conn, accom)
    conn.execute(
        "INSERT INTO pms_access_key (accom_id, receiver_name, receiver_account, country_code, "
        "start_time, end_time) VALUES (?, ?, ?, ?, ?, ?)",
        (accom["accom_id"], receiver, contact["phone"], contact["country_code"], start, end),
    )
    return {}


def _key_view(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "key_id": row["key_id"],
        "receiver_account": row["receiver_account"],
        "start_date": row["start_time"],
        "end_date": row["end_time"],
        "creator_name": CREATOR,
    }


def get_accom_all_access_keys(conn: sqlite3.Connection, params: Params, ctx: Any) -> list:
    order_id = params.integer("order_id")
    order_zone(conn, order_id)  # NOT_FOUND for an unknown order
    return _stays_with_locks(conn, order_id, "pms_access_key", _key_view, "key_list")


def delete_access_key(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    accom = require_accom(conn, params.integer("accom_id"))
    _delete_own(conn, "pms_access_key", "key_id", params.integer("id"), accom["accom_id"])
    return {}


ROUTES = {
    "/api/v1/pmsOrder/generateRoomCard": generate_room_card,
    "/api/v1/pmsOrder/addAccomCard": add_accom_card,
    "/api/v1/pmsOrder/getAllAccomCard": get_all_accom_card,
    "/api/v1/pmsDevice/remoteUnlock": remote_unlock,
    "/api/v1/pmsDevice/sendOfflinePassword": send_offline_password,
    "/api/v1/pmsOrder/getAccomAllLockPassword": get_accom_all_lock_password,
    "/api/v1/pmsDevice/deleteOfflinePassword": delete_offline_password,
    "/api/v1/pmsOrder/getAccomAllAccessKeys": get_accom_all_access_keys,
    "/api/v1/pmsDevice/sendAccessLockKey": send_access_lock_key,
    "/api/v1/pmsDevice/deleteAccessKey": delete_access_key,
}
