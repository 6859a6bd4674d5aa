"""An order's folio: what is charged, what is paid, what is settled (all ``Decimal``).

Charges are the room amounts of live stays (booked, checked in, checked out) plus
their check-out fees, the penalties of cancelled stays, and consumption bills that
are not reversed. Payments are cashier entries: payments minus refunds. Settlement
is all or nothing per order: ``settle`` marks every bill settled (status 20).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kiosk.sim.pms.rooms import full_name
from kiosk.sim.pms.store import (
    CANCELLED,
    ZERO,
    fmt,
    money,
    order_stays,
    require_order,
)

UNSETTLED, SETTLED, REVERSED = 10, 20, 70
PAYMENT, REFUND = 10, 20


def stay_charge(accom: sqlite3.Row) -> Decimal:
    """Room charges of one stay: its penalty once cancelled, else its amount and fee."""
    if accom["accom_status"] == CANCELLED:
        return money(accom["penalty_amount"])
    return money(accom["amount"]) + money(accom["checkout_fee"])


@dataclass(frozen=True)
class Folio:
    room: Decimal  # room amounts, check-out fees and penalties
    consumption: Decimal
    consumption_settled: Decimal
    consumption_count: int
    paid: Decimal  # payments minus refunds
    cash_count: int
    settled: bool
    lines: tuple[tuple[str, Decimal, int], ...]  # per stay: name, charges, charge lines

    @property
    def total(self) -> Decimal:
        return self.room + self.consumption

    @property
    def confirmed(self) -> Decimal:
        return self.total if self.settled else ZERO

    @property
    def need_pay(self) -> Decimal:
        return max(self.total - self.paid, ZERO)

    @property
    def overpaid(self) -> Decimal:
        return max(self.paid - self.total, ZERO)


def folio(conn: sqlite3.Connection, order_id: int, accom_ids: Iterable[int] | None = None) -> Folio:
    """The folio of an order, or of some of its stays (payments always count in full)."""
    order = require_order(conn, order_id)
    wanted = None if accom_ids is None else set(accom_ids)
    stays = [s for s in order_stays(conn, order_id) if wanted is None or s["accom_id"] in wanted]
    room = consumption = consumption_settled = ZERO
    count = 0
    lines = []
    for stay in stays:
        bills = conn.execute(
            "SELECT amount, status FROM pms_bill WHERE accom_id = ? AND kind = 'consume' "
            "AND status != ?",
            (stay["accom_id"], REVERSED),
        ).fetchall()
        stay_bills = sum((money(b["amount"]) for b in bills), ZERO)
        room += stay_charge(stay)
        consumption += stay_bills
        consumption_settled += sum(
            (money(b["amount"]) for b in bills if b["status"] == SETTLED), ZERO
        )
        count += len(bills)
        name = full_name(conn, stay["room_type_id"], stay["room_id"])
        lines.append((name, stay_charge(stay) + stay_bills, 1 + len(bills)))
    cash = conn.execute(
        "SELECT bill_type, amount FROM pms_bill WHERE order_id = ? AND kind = 'cash' "
        "AND status != ?",
        (order_id, REVERSED),
    ).fetchall()
    paid = sum((money(c["amount"]) * (1 if c["bill_type"] == PAYMENT else -1) for c in cash), ZERO)
    return Folio(
        room=room,
        consumption=consumption,
        consumption_settled=consumption_settled,
        consumption_count=count,
        paid=paid,
        cash_count=len(cash),
        settled=bool(order["settled"]),
        lines=tuple(lines),
    )


def detail_summary(f: Folio) -> dict[str, Any]:
    """``getAccomDetail``'s ``bill_summary``."""
    return {
        "cash_confirmed_amount": fmt(f.paid if f.settled else ZERO),
        "cash_consumed_amount": fmt(f.paid),
        "cash_unchecked_amount": fmt(ZERO if f.settled else f.paid),
        "confirmed_amount": fmt(f.confirmed),
        "need_pay_amount": fmt(f.need_pay),
        "order_amount": fmt(f.total),
        "unconfirmed_amount": fmt(f.total - f.confirmed),
        "balance": fmt(f.overpaid),
    }


def bill_summary(f: Folio) -> dict[str, Any]:
    """``getBillSummary``'s payload."""
    return {
        "order_amount": fmt(f.total),
        "order_consume_num": sum(line[2] for line in f.lines),
        "confirmed_amount": fmt(f.confirmed),
        "unconfirmed_amount": fmt(f.total - f.confirmed),
        "consumed_amount": fmt(f.consumption_settled),
        "charged_amount": fmt(ZERO),  # nothing is ever put on account (status 80) here
        "unchecked_amount": fmt(f.consumption - f.consumption_settled),
        "balance": fmt(f.overpaid),
        "cash_amount": fmt(f.paid),
        "cash_count": f.cash_count,
        "confirmed_consumed_amount": fmt(f.confirmed),
        "accom_consume_list": [
            {"name": name, "amount": fmt(amount), "count": n} for name, amount, n in f.lines
        ],
    }
