"""kill -9 of a real ``kiosk play`` process in the middle of an extension's payment (extend
stay), with an external ``kiosk sim`` that keeps running: the kiosk starts again, the
outbox is drained, and the books must be exactly right.

- the payment is either voided and the stay ends when it did, or kept: on the folio once,
  and the stay extended by exactly the night paid for (a replayed ``extendCheckIn`` is
  applied once);
- nothing is left open in the kiosk's books.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kiosk.api.pms import PmsClient
from kiosk.api.pms_types import AccomDetailRequest, BillListRequest, BillListType
from tests.crash.test_kill9 import (
    TOKEN,
    Probe,
    drain,
    finish,
    kill_after,
    kill_when,
    payment_is,
    play,
    script,
    sim,  # noqa: F401 - the external simulator fixture
    step_is,
    write_config,
)

pytestmark = pytest.mark.timeout(120)

NIGHT = Decimal("388.00")  # the King room's rate: the stay's amount over its nights
GUEST = [
    {"on": "attract", "tap": "extend"},
    {"on": "extend_start", "insert_card": "@extend_card.card"},
    {"on": "extend_nights", "tap": "1"},
    {"on": "payment", "pay": "approve"},
    {"on": "receipt", "tap": "continue"},
    {"on": "extend_done", "tap": "finish"},
]
# The kiosk starts again (its start-up resolves what the crash left open); nobody comes.
RESTART = [{"on": "attract", "cancel": True}]

BOUNDARIES: dict[str, Probe] = {
    "terminal_asked": payment_is("requested"),
    "paid_before_extension": payment_is("approved"),
    "extension_stored": step_is("extendCheckIn"),
    "folio_entry": step_is("cashier"),
}


async def _pms_books(books_of: dict[str, Any]) -> tuple[datetime, list[Any]]:
    order_id = next(h["order_id"] for h in books_of["in_house"] if h["case"] == "extend_card")
    async with PmsClient(books_of["base_url"], TOKEN) as client:
        detail = await client.get_accom_detail(AccomDetailRequest(order_id=order_id))
        bills = await client.get_bill_list(
            BillListRequest(
                order_id=order_id, list_type=BillListType.CASHIER, page_no=1, page_size=100
            )
        )
    return detail.accom_list[0].checkin_end_time, [
        b for b in bills.bills if "kiosk-ref:" in b.remark
    ]


def check_books(external: dict[str, Any], state: Path, ended: datetime) -> None:
    end, bills = asyncio.run(_pms_books(external))
    terminal = sqlite3.connect(state / "payment-sim.sqlite")
    sales = terminal.execute("SELECT reference, outcome, amount FROM transactions").fetchall()
    terminal.close()
    kiosk = sqlite3.connect(state / "kiosk.sqlite")
    payments = dict(kiosk.execute("SELECT reference, state FROM payments").fetchall())
    outbox = dict(kiosk.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())
    extensions = kiosk.execute(
        "SELECT state FROM outbox WHERE operation = 'extendCheckIn'"
    ).fetchall()
    kiosk.close()
    approved = [ref for ref, outcome, _ in sales if outcome == "approved"]
    remarks = [b.remark for b in bills]
    if approved:  # kept: paid once, on the folio once, extended by exactly that night
        (reference,) = approved
        assert sum(reference in r for r in remarks) == 1, remarks
        assert [b.amount for b in bills] == [NIGHT]
        assert end == ended + timedelta(days=1), (end, ended)
        assert extensions == [("delivered",)]
    else:  # voided (or never charged): nothing on the folio, the stay as it was
        assert bills == [], remarks
        assert end == ended, (end, ended)
        assert extensions == []
    settled = {"recorded", "voided", "declined", "cancelled", "unknown_reference"}
    assert set(payments.values()) <= settled, payments
    assert outbox.get("pending", 0) == outbox.get("dead", 0) == outbox.get("in_flight", 0) == 0


def crash_and_restart(external: dict[str, Any], folder: Path, kill: Any) -> None:
    config = write_config(folder, external["base_url"])
    state = folder / "state"
    ended, _ = asyncio.run(_pms_books(external))
    first = play(config, script(folder, "guest", GUEST, "extended"), external["path"])
    if not kill(first):  # the run ended before the kill point: it must have extended
        assert finish(first)["outcome"] == "extended"
    restart = script(folder, "restart", RESTART, "cancelled_by_guest")
    again = finish(play(config, restart, external["path"]))
    assert again["outcome"] == "cancelled_by_guest", again
    drain(config)
    check_books(external, state, ended)


@pytest.mark.parametrize("boundary", list(BOUNDARIES))
def test_kill_9_in_an_extension_at_a_step_boundary(
    sim: dict[str, Any],  # noqa: F811
    tmp_path: Path,
    boundary: str,
) -> None:
    state_db = tmp_path / "state" / "kiosk.sqlite"
    crash_and_restart(sim, tmp_path, lambda p: kill_when(p, state_db, BOUNDARIES[boundary]))


def test_kill_9_in_an_extension_at_a_random_moment(
    sim: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    crash_and_restart(sim, tmp_path, kill_after(random.Random(11).uniform(2.0, 8.0)))
