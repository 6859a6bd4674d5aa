"""Guests of a stay ("tenants"): validation, storage, and ``updateAccomTenant``."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from kiosk.sim.params import BAD_PARAMS, NOT_FOUND, Params, SimError
from kiosk.sim.pms.logs import TENANTS_CHANGED, add_log
from kiosk.sim.pms.store import (
    BOOKED,
    CHECKED_IN,
    choice,
    require_accom,
    require_order,
    require_status,
    require_unsettled,
)

ID_TYPES = (0, 10, 20, 30, 40, 50)
GENDERS = (0, 10, 20)
_TEXT_FIELDS = ("name", "phone", "id_number", "car_number", "address", "email")


def name_or_phone(params: Params, where: str) -> tuple[str, str]:
    """The seed's rule on orders and guests: a name or a phone number, or both."""
    name = params.text("name", "", max_len=100).strip()
    phone = params.text("phone", "", max_len=30).strip()
    if not (name or phone):
        raise SimError(BAD_PARAMS, f"{where}: name or phone is required")
    return name, phone


def parse_tenant(item: Params, where: str) -> dict[str, Any]:
    """A guest's fields from a request item (``where`` names it in errors)."""
    name, phone = name_or_phone(item, where)
    birthday = item.text("birthday", "", max_len=10)
    if birthday:
        item.date("birthday")
    return {
        "name": name,
        "phone": phone,
        "id_type": choice(item, "id_type", ID_TYPES),
        "id_number": item.text("id_number", max_len=40),
        "gender": choice(item, "gender", GENDERS, 0),
        "birthday": birthday,
        "car_number": item.text("car_number", "", max_len=20),
        "area": json.dumps(item.integers("area", [])),
        "address": item.text("address", "", max_len=200),
        "email": item.text("email", "", max_len=100),
    }


def insert_tenant(conn: sqlite3.Connection, accom_id: int, tenant: dict[str, Any]) -> int:
    columns = ", ".join(tenant)
    cur = conn.execute(
        f"INSERT INTO pms_tenant (accom_id, {columns}) VALUES (?{', ?' * len(tenant)})",
        (accom_id, *tenant.values()),
    )
    return int(cur.lastrowid or 0)


def replace_tenants(
    conn: sqlite3.Connection, accom_id: int, items: list[Params], where: str
) -> None:
    """``create``/``update``: the stay's guests become exactly ``items``."""
    tenants = [parse_tenant(item, f"{where}.tenant_list[{i}]") for i, item in enumerate(items)]
    conn.execute("DELETE FROM pms_tenant WHERE accom_id = ?", (accom_id,))
    for tenant in tenants:
        insert_tenant(conn, accom_id, tenant)


def tenant_views(conn: sqlite3.Connection, accom_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT * FROM pms_tenant WHERE accom_id = ? ORDER BY tenant_id", (accom_id,)
    ).fetchall()
    return [
        {
            "tenant_id": row["tenant_id"],
            **{f: row[f] for f in _TEXT_FIELDS},
            "id_type": row["id_type"],
            "gender": row["gender"],
            "birthday": row["birthday"],
            "area": json.loads(row["area"]),
        }
        for row in rows
    ]


def update_accom_tenant(conn: sqlite3.Connection, params: Params, ctx: Any) -> dict[str, Any]:
    """Add guests (no ``tenant_id``) or update them (``tenant_id`` of this stay)."""
    accom = require_accom(conn, params.integer("accom_id"))
    require_status(accom, (BOOKED, CHECKED_IN), "updateAccomTenant")
    require_unsettled(require_order(conn, accom["order_id"]), "updateAccomTenant")
    items = params.objects("tenant_list")
    if not items:
        raise SimError(BAD_PARAMS, "tenant_list must not be empty")
    added, updated = [], []
    for i, item in enumerate(items):
        tenant = parse_tenant(item, f"tenant_list[{i}]")
        tenant_id = item.integer("tenant_id", None)
        if tenant_id is None:
            added.append(insert_tenant(conn, accom["accom_id"], tenant))
            continue
        found = conn.execute(
            "SELECT 1 FROM pms_tenant WHERE tenant_id = ? AND accom_id = ?",
            (tenant_id, accom["accom_id"]),
        ).fetchone()
        if found is None:
            raise SimError(NOT_FOUND, f"tenant_id {tenant_id} is not a guest of this stay")
        assignments = ", ".join(f"{column} = ?" for column in tenant)
        conn.execute(
            f"UPDATE pms_tenant SET {assignments} WHERE tenant_id = ?",
            (*tenant.values(), tenant_id),
        )
        updated.append(tenant_id)
    add_log(
        conn,
        ctx,
        accom["order_id"],
        TENANTS_CHANGED,
        {"added_tenant_ids": added, "updated_tenant_ids": updated},
        accom["accom_id"],
    )
    return {}


ROUTES = {"/api/v1/pmsOrder/updateAccomTenant": update_accom_tenant}
