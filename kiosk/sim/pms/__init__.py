"""Simulated PMS (seed 004): handlers by path in ``ROUTES``, state in SQLite (schema.sql).

Modules by domain: rooms (calendar, occupancy), orders (create, update, detail),
tenants, stays (check-in, cancel, extend, revoke), bills and folio, checkout
(check-out, settle), reminders, logs, keys (cards, passwords, e-keys, unlock);
property seeds what no API creates (room types, rooms, locks, housekeeping).
"""

from collections.abc import Callable
from typing import Any

from kiosk.sim.pms import bills, checkout, keys, logs, orders, reminders, rooms, stays, tenants

ROUTES: dict[str, Callable[..., Any]] = {
    path: handler
    for module in (rooms, orders, tenants, stays, bills, checkout, reminders, logs, keys)
    for path, handler in module.ROUTES.items()
}
