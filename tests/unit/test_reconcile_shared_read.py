"""A payment's conflict read of its order is shared between the payments a drain replays;
the ones checked against it count against its balance, so sharing never lets a payment
through that a fresh read would stop. Against the simulator over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from kiosk.api.pms import PmsClient
from kiosk.api.pms_types import AccomDetail, AccomDetailRequest
from kiosk.backends.pms import PAYMENT_NAME, REFERENCE_TAG
from kiosk.backends.reconcile import pms_reconciler
from kiosk.outbox import Conflict, Mutation, Verdict
from kiosk.sim.demo import seed_demo
from kiosk.sim.server import SimServer
from tests.conftest import SIM_TOKEN


class CountedReads(PmsClient):
    """The real client, counting its reads of an order."""

    reads = 0

    async def get_accom_detail(self, request: AccomDetailRequest) -> AccomDetail:
        self.reads += 1
        return await super().get_accom_detail(request)


@pytest.fixture
async def client(sim_server: SimServer) -> AsyncIterator[CountedReads]:
    async with CountedReads(sim_server.url, SIM_TOKEN, timeout=2) as client:
        yield client


@pytest.fixture
def order_id(sim_server: SimServer) -> int:
    arrivals = {a["case"]: a for a in seed_demo(sim_server, seed=1)["arrivals"]}
    return int(arrivals["balance_due"]["order_id"])


def _payment(order_id: int, reference: str, amount: Decimal) -> Mutation:
    bill = {"bill_type": 10, "name": PAYMENT_NAME, "amount": str(amount),
            "remark": f"PAY-{reference} {REFERENCE_TAG}{reference}"}  # fmt: skip
    return Mutation.of("pms", "cashier", {"order_id": order_id, "bills": [bill]}, reference)


async def _due(client: PmsClient, order_id: int) -> Decimal:
    detail = await client.get_accom_detail(AccomDetailRequest(order_id=order_id))
    assert detail.bill_summary is not None
    return detail.bill_summary.need_pay_amount


async def test_payments_the_balance_covers_share_one_read(
    client: CountedReads, order_id: int
) -> None:
    due = await _due(client, order_id)
    reconcile, booking = pms_reconciler(client), str(order_id)
    client.reads = 0
    one = Decimal("1.00")
    assert await reconcile(_payment(order_id, "a", one), booking, False) is Verdict.NOT_LANDED
    assert await reconcile(_payment(order_id, "b", due - one), booking, False) is Verdict.NOT_LANDED
    assert client.reads == 1
    # The same payment checked again (a retry) does not count against itself.
    assert await reconcile(_payment(order_id, "b", due - one), booking, False) is Verdict.NOT_LANDED
    assert client.reads == 1
    # One more would pay more than the read left due: the PMS itself is asked (it still
    # has it all due, as none of them was sent).
    assert await reconcile(_payment(order_id, "c", one), booking, False) is Verdict.NOT_LANDED
    assert client.reads == 2


async def test_a_payment_the_shared_read_no_longer_covers_is_checked_afresh(
    client: CountedReads, order_id: int
) -> None:
    due = await _due(client, order_id)
    reconcile, booking = pms_reconciler(client), str(order_id)
    whole = _payment(order_id, "whole", due)
    assert await reconcile(whole, booking, False) is Verdict.NOT_LANDED
    await client.invoke("cashier", dict[str, Any](whole.request))  # the relay sends it
    # The read still says it is all due; with the payment checked against it, nothing is
    # left, so the next one is checked against the PMS, which shows the bill paid.
    with pytest.raises(Conflict, match="paid meanwhile"):
        await reconcile(_payment(order_id, "more", Decimal("1.00")), booking, False)
    assert await _due(client, order_id) == 0
