"""kill -9 of a real ``kiosk play`` process in the middle of a check-out's payment, with
an external ``kiosk sim`` that keeps running: the kiosk restarts (resolving the payment
the crash left open), the guest comes back, the outbox is drained, and the books must
be exactly right — the balance paid once, on the folio once, never voided, and the
guest checked out with the folio settled."""

from __future__ import annotations

import asyncio
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kiosk.api.pms import PmsClient
from kiosk.api.pms_types import (
    AccomDetailRequest,
    AccomStatus,
    BillListRequest,
    BillListType,
    CheckoutStatus,
)
from tests.crash.test_kill9 import (  # noqa: F401  (sim: the external simulator fixture)
    TOKEN,
    Probe,
    drain,
    finish,
    kill_when,
    payment_is,
    play,
    script,
    sim,
    step_is,
    write_config,
)

pytestmark = pytest.mark.timeout(150)

CASE = "checkout_balance_due"  # 60.00 of extras still to pay
VISIT = [
    {"on": "attract", "tap": "checkout"},
    {"on": "checkout_start", "scan": f"@{CASE}"},
    {"on": "checkout_folio", "pay": "approve", "choice": "confirm"},
    {"on": "checkout_cards", "tap": "no_more"},
    {"on": "receipt", "tap": "continue"},
    {"on": "checkout_done", "tap": "finish"},
]
# Back after the crash: whatever is still asked (nothing more to pay, if it was booked).
RETURN = [*VISIT[:2], *({**action, "optional": True} for action in VISIT[2:])]

BOUNDARIES: dict[str, Probe] = {
    "terminal_asked": payment_is("requested"),
    "approved_not_booked": payment_is("approved"),
    "folio_entry": step_is("cashier"),
}


async def _books(manifest: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    order_id = next(g["order_id"] for g in manifest["in_house"] if g["case"] == CASE)
    async with PmsClient(manifest["base_url"], TOKEN) as client:
        detail = await client.get_accom_detail(AccomDetailRequest(order_id=order_id))
        bills = await client.get_bill_list(
            BillListRequest(order_id=order_id, list_type=BillListType.CASHIER, page_size=100)
        )
    return detail.accom_list, bills.bills


@pytest.mark.parametrize("boundary", list(BOUNDARIES))
def test_kill_9_mid_checkout_payment_is_replayed_exactly_once(
    sim: dict[str, Any],  # noqa: F811  (the imported fixture)
    tmp_path: Path,
    boundary: str,
) -> None:
    config = write_config(tmp_path, sim["base_url"])
    state = tmp_path / "state"
    first = play(config, script(tmp_path, "first", VISIT, "checked_out"), sim["path"])
    assert kill_when(first, state / "kiosk.sqlite", BOUNDARIES[boundary]), "ended unkilled"
    second = finish(play(config, script(tmp_path, "again", RETURN, "checked_out"), sim["path"]))
    assert second["outcome"] == "checked_out", second
    drain(config)

    stays, bills = asyncio.run(_books(sim))
    terminal = sqlite3.connect(state / "payment-sim.sqlite")
    sales = terminal.execute("SELECT reference, outcome, amount FROM transactions").fetchall()
    terminal.close()
    kiosk = sqlite3.connect(state / "kiosk.sqlite")
    payments = dict(kiosk.execute("SELECT reference, state FROM payments").fetchall())
    outbox = dict(kiosk.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())
    kiosk.close()
    approved = [(ref, Decimal(amount)) for ref, outcome, amount in sales if outcome == "approved"]
    assert approved and all(amount == Decimal("60.00") for _, amount in approved), sales
    assert len(approved) == 1, sales  # paid once: never charged again, never voided
    remarks = [bill.remark for bill in bills if "kiosk-ref:" in bill.remark]
    assert sum(approved[0][0] in remark for remark in remarks) == 1, remarks  # booked once
    assert [s.accom_status for s in stays] == [AccomStatus.CHECKED_OUT]
    assert [s.checkout_status for s in stays] == [CheckoutStatus.SETTLED]
    assert set(payments.values()) <= {"recorded", "cancelled", "declined", "unknown_reference"}
    assert outbox.get("pending", 0) == outbox.get("dead", 0) == 0
