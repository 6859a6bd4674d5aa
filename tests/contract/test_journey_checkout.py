"""The check-out journey end to end: scripted guests through the lobby, the PMS adapter
against the property simulator over loopback HTTP, and the device simulators (terminal,
dispenser + encoder, printer). After each run the simulator's own state is checked:
stay and folio status, bills and refunds, the returned card."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

import pytest

from hardware.card_encoder.simulator import SimEncoder
from hardware.payment.protocol import Kind, Outcome
from hardware.payment.simulator import SimulatedTerminal
from kiosk.api.pms import PmsClient
from kiosk.api.pms_types import (
    AccomDetailRequest,
    AccomRef,
    AccomStatus,
    AddAccomBillRequest,
    BillListRequest,
    BillListType,
    BillType,
    CashierPayment,
    CashierRequest,
    CheckoutStatus,
)
from kiosk.backends.base import CheckoutFolio, Reservation, Stay
from kiosk.backends.pms import PmsBackend
from kiosk.demo.devices import SimCardPath, replay_kiosk_sales
from kiosk.demo.script import GuestScript, ScriptReport, SimServerBackend, run_script
from kiosk.journeys.checkin import CheckinJourney
from kiosk.journeys.checkout import CheckoutJourney
from kiosk.journeys.messages import Step, View
from kiosk.journeys.payment import PaymentLog
from kiosk.runtime import checkout_journey
from kiosk.sim.demo import seed_demo
from kiosk.sim.server import SimServer
from tests import journey_kit as kit

pytestmark = pytest.mark.timeout(60)

SIGNING_KEY = kit.SIGNING_KEY


@pytest.fixture
def demo(sim_server: SimServer) -> dict[str, dict[str, Any]]:
    seeded = seed_demo(sim_server, seed=1)
    return {g["case"]: g for g in (*seeded["arrivals"], *seeded["in_house"])}


@pytest.fixture
def values(demo: dict[str, dict[str, Any]]) -> dict[str, str]:
    return kit.script_values(demo.values(), SIGNING_KEY)


@pytest.fixture
def checkout(checkin: CheckinJourney) -> CheckoutJourney:
    assert isinstance(checkin.backend, PmsBackend)
    return checkout_journey(checkin, checkin.backend)


class Play(Protocol):
    async def __call__(
        self, actions: list[dict], on_view: Any = None, **expect: Any
    ) -> ScriptReport: ...


@pytest.fixture
def play(
    checkin: CheckinJourney,
    checkout: CheckoutJourney,
    values: dict[str, str],
    sim_server: SimServer,
) -> Play:
    """A guest script through the lobby to check-out, whose outcome must be ``expect``."""

    async def play(actions: list[dict], on_view: Any = None, **expect: Any) -> ScriptReport:
        script = GuestScript.model_validate(
            {"name": "test", "actions": actions, "expect": expect, "max_seconds": 30}
        )
        report = await run_script(
            checkin,
            script,
            values,
            lobby=checkin.lobby(checkout),
            backend=SimServerBackend(sim_server),
            on_view=on_view,
        )
        assert report.passed, (report.failures, report.transcript)
        assert report.result.journey == "checkout"
        return report

    return play


def by_card(case: str) -> list[dict]:
    return [
        {"on": "attract", "tap": "checkout"},
        {"on": "checkout_start", "insert_card": f"@{case}.card"},
    ]


def by_code(case: str) -> list[dict]:
    return [
        {"on": "attract", "tap": "checkout"},
        {"on": "checkout_start", "scan": f"@{case}"},
    ]


FINISH = [
    {"on": "checkout_cards", "tap": "no_more"},
    {"on": "receipt", "tap": "continue", "optional": True},
    {"on": "checkout_done", "tap": "finish"},
]


async def states(client: PmsClient, order_id: int) -> dict[int, tuple[AccomStatus, Any]]:
    detail = await client.get_accom_detail(AccomDetailRequest(order_id=order_id))
    return {a.accom_id or 0: (a.accom_status, a.checkout_status) for a in detail.accom_list}


async def cashier_bills(client: PmsClient, order_id: int) -> list[Any]:
    page = await client.get_bill_list(
        BillListRequest(order_id=order_id, list_type=BillListType.CASHIER)
    )
    return page.bills


def settled(found: dict[int, tuple[AccomStatus, Any]]) -> bool:
    return all(status is CheckoutStatus.SETTLED for _, status in found.values())


def card_path(devices: Any) -> SimCardPath:
    assert isinstance(devices.dispenser, SimCardPath)
    return devices.dispenser


# --- the happy paths ---------------------------------------------------------------------


async def test_card_in_the_slot_pays_the_extras_and_is_kept_erased(
    demo: dict,
    client: PmsClient,
    devices: Any,
    play: Play,
) -> None:
    guest = demo["checkout_balance_due"]
    seen: list[View] = []

    async def on_view(view: View) -> None:
        seen.append(view)

    report = await play(
        [
            *by_card("checkout_balance_due"),
            {"on": "checkout_folio", "pay": "approve", "choice": "confirm"},
            *FINISH,
        ],
        on_view,
        outcome="checked_out",
        payments=1,
        cards_returned=1,
        receipt="printed",
    )
    folio = next(v for v in seen if v.step is Step.CHECKOUT_FOLIO)
    assert folio.params["due"] == Decimal("60.00")  # the minibar: 2 x 30.00
    kinds = [line["label"] for line in folio.params["lines"]]
    assert kinds == ["checkout_folio.nights", "checkout_folio.extra", "checkout_folio.payment"]
    found = await states(client, guest["order_id"])
    assert [s for s, _ in found.values()] == [AccomStatus.CHECKED_OUT] and settled(found)
    kiosk = [b for b in await cashier_bills(client, guest["order_id"]) if "kiosk-ref:" in b.remark]
    assert [b.amount for b in kiosk] == [Decimal("60.00")]
    assert report.result.cards_returned == (guest["card_uid"],)
    chip = card_path(devices).reject_bin[-1]
    assert chip.uid.hex().upper() == guest["card_uid"]
    reader = SimEncoder()
    reader.insert(chip)
    assert reader.read_key()[1] == b""  # erased: it opens nothing any more


async def test_a_returned_card_holding_a_key_is_erased_before_the_bin(
    demo: dict,
    devices: Any,
    play: Play,
) -> None:
    guest = demo["checkout_refund"]
    replay_kiosk_sales(devices.terminal, {"in_house": [guest]}, "CNY")
    path = card_path(devices)
    held = path.pocket_card(bytes.fromhex(guest["card_uid"]), b'{"room_id":1}')  # as written
    await play(
        [*by_card("checkout_refund"), {"on": "checkout_folio", "tap": "confirm"}, *FINISH],
        outcome="checked_out",
        cards_returned=1,
    )
    assert path.reject_bin[-1] is held
    reader = SimEncoder()
    reader.insert(held)
    assert reader.read_key()[1] == b""


async def test_an_overpayment_goes_back_to_the_kiosk_sale_card(
    demo: dict,
    client: PmsClient,
    devices: Any,
    play: Play,
) -> None:
    guest = demo["checkout_refund"]
    assert replay_kiosk_sales(devices.terminal, {"in_house": [guest]}, "CNY") == 1
    report = await play(
        [*by_code("checkout_refund"), {"on": "checkout_folio", "tap": "confirm"}, *FINISH],
        outcome="checked_out",
        payments=1,
        cards_returned=0,
    )
    terminal: SimulatedTerminal = devices.terminal
    refund = terminal.status(report.result.payments[0])
    assert refund.approved and refund.kind is Kind.REFUND and refund.amount == Decimal("100.00")
    found = await states(client, guest["order_id"])
    assert [s for s, _ in found.values()] == [AccomStatus.CHECKED_OUT] and settled(found)
    bills = await cashier_bills(client, guest["order_id"])
    assert [b.amount for b in bills if b.amount < 0] == [Decimal("-100.00")]


async def test_one_room_of_two_leaves_the_other_in_the_house(
    demo: dict,
    client: PmsClient,
    play: Play,
) -> None:
    guest = demo["checkout_two_rooms"]  # an unsigned code: the second factor first
    await play(
        [
            *by_code("checkout_two_rooms"),
            {"on": "identity", "type": "@checkout_two_rooms.phone_last4"},
            {"on": "checkout_rooms", "tap": "#1"},
            {"on": "checkout_folio", "tap": "confirm"},
            *FINISH,
        ],
        outcome="checked_out",
        payments=0,
        steps_include=["identity", "checkout_rooms"],
    )
    found = await states(client, guest["order_id"])
    assert sorted(s for s, _ in found.values()) == [AccomStatus.CHECKED_IN, AccomStatus.CHECKED_OUT]
    assert not settled(found)  # the folio stays open for the room still in the house


async def test_every_room_of_the_booking_leaves_and_the_folio_closes(
    demo: dict,
    client: PmsClient,
    play: Play,
) -> None:
    guest = demo["checkout_two_rooms"]
    await play(
        [
            *by_code("checkout_two_rooms"),
            {"on": "identity", "type": "@checkout_two_rooms.phone_last4"},
            {"on": "checkout_rooms", "tap": "all"},
            {"on": "checkout_folio", "tap": "confirm"},
            *FINISH,
        ],
        outcome="checked_out",
    )
    found = await states(client, guest["order_id"])
    assert {s for s, _ in found.values()} == {AccomStatus.CHECKED_OUT} and settled(found)


# --- refusals ------------------------------------------------------------------------------


async def test_an_unknown_card_is_given_back(
    checkout: CheckoutJourney,
    devices: Any,
    play: Play,
) -> None:
    await play(
        [
            {"on": "attract", "tap": "checkout"},
            {"on": "checkout_start", "insert_card": "DEADBEEF"},
            {"on": "refusal", "tap": "finish"},
        ],
        outcome="refused:card_unknown",
    )
    path = card_path(devices)
    assert path.reject_bin == [] and path.inner.issued == 1  # presented, and the guest took it


async def test_a_booking_not_in_the_house_is_refused(play: Play) -> None:
    await play(
        [*by_code("prepaid"), {"on": "refusal", "tap": "finish"}],
        outcome="refused:not_in_house",
    )


async def test_no_kiosk_sale_to_refund_to_sends_the_guest_to_the_desk(
    demo: dict,
    client: PmsClient,
    devices: Any,
    play: Play,
) -> None:
    guest = demo["checkout_refund"]  # the terminal never saw the sale: no refund there
    await play(
        [
            *by_code("checkout_refund"),
            {"on": "checkout_folio", "tap": "confirm"},
            {"on": "checkout_cards", "tap": "no_more"},
            {"on": "receipt", "tap": "continue", "optional": True},
            {"on": "refusal", "tap": "finish"},
        ],
        outcome="refused:refund_at_desk",
    )
    found = await states(client, guest["order_id"])
    assert [s for s, _ in found.values()] == [AccomStatus.CHECKED_OUT] and not settled(found)
    refunds = [e.event for e in devices.terminal.journal() if e.kind is Kind.REFUND]
    assert refunds == ["requested", Outcome.DECLINED]


async def test_a_declined_payment_leaves_the_guest_in_the_house(
    demo: dict,
    client: PmsClient,
    devices: Any,
    play: Play,
) -> None:
    guest = demo["checkout_balance_due"]
    await play(
        [
            *by_card("checkout_balance_due"),
            {"on": "checkout_folio", "pay": "decline", "choice": "confirm"},
            {"on": "payment", "tap": "cancel"},
        ],
        outcome="cancelled_by_guest",
        payments=0,
    )
    found = await states(client, guest["order_id"])
    assert [s for s, _ in found.values()] == [AccomStatus.CHECKED_IN]
    path = card_path(devices)
    assert path.reject_bin == [] and path.inner.issued == 1  # the card went back to the guest


async def _extra_at_the_desk(client: PmsClient, accom_id: int) -> None:
    item = {"consume_id": 2, "date": "2026-03-04", "price": "20.00", "num": 1}
    request = {"accom_id": accom_id, "bill_list": [item]}
    await client.add_accom_bill(AddAccomBillRequest.model_validate(request))


def both_rooms_to_a_refusal() -> list[dict]:
    """The two-room guest checks both rooms out, and the end is a refusal screen."""
    return [
        *by_code("checkout_two_rooms"),
        {"on": "identity", "type": "@checkout_two_rooms.phone_last4"},
        {"on": "checkout_rooms", "tap": "all"},
        {"on": "checkout_folio", "tap": "confirm"},
        {"on": "checkout_cards", "tap": "no_more"},
        {"on": "receipt", "tap": "continue", "optional": True},
        {"on": "refusal", "tap": "finish"},
    ]


async def test_446_a_bill_posted_meanwhile_is_settled_at_the_desk(
    demo: dict,
    client: PmsClient,
    play: Play,
) -> None:
    guest = demo["checkout_two_rooms"]
    accom_id = next(iter(await states(client, guest["order_id"])))

    async def desk_posts_an_extra(view: View) -> None:
        if view.step is Step.CHECKOUT_FOLIO:
            await _extra_at_the_desk(client, accom_id)

    await play(
        both_rooms_to_a_refusal(),
        desk_posts_an_extra,
        outcome="refused:balance_at_desk",
    )
    found = await states(client, guest["order_id"])
    assert {s for s, _ in found.values()} == {AccomStatus.CHECKED_OUT} and not settled(found)


async def test_447_a_payment_taken_meanwhile_is_refunded_at_the_desk(
    demo: dict,
    client: PmsClient,
    play: Play,
) -> None:
    guest = demo["checkout_two_rooms"]

    async def desk_takes_money(view: View) -> None:
        if view.step is Step.CHECKOUT_FOLIO:
            bill = CashierPayment(bill_type=BillType.PAYMENT, name="Desk", amount=Decimal("50"))
            await client.cashier(CashierRequest(order_id=guest["order_id"], bills=[bill]))

    await play(
        both_rooms_to_a_refusal(),
        desk_takes_money,
        outcome="refused:refund_at_desk",
    )
    found = await states(client, guest["order_id"])
    assert {s for s, _ in found.values()} == {AccomStatus.CHECKED_OUT} and not settled(found)


class _LastOut(PmsBackend):
    """The adapter believing the leaving rooms are the booking's last (a PMS whose other
    rooms changed meanwhile): ``settle`` meets the PMS's own 444 / 445."""

    async def checkout_folio(self, reservation: Reservation, stays: list[Stay]) -> CheckoutFolio:
        folio = await super().checkout_folio(reservation, stays)
        return CheckoutFolio(**{**folio.__dict__, "last_out": True})


@pytest.mark.parametrize("code", [444, 445])
async def test_444_445_leave_the_rooms_out_and_the_folio_open(
    code: int,
    checkout: CheckoutJourney,
    demo: dict,
    client: PmsClient,
    play: Play,
) -> None:
    guest = demo["checkout_two_rooms"]
    first, second = list(await states(client, guest["order_id"]))
    if code == 444:  # the desk takes the second room back to booked
        await client.cancel_accom_status(AccomRef(accom_id=second))
    checkout.backend.__class__ = _LastOut
    actions = [
        *by_code("checkout_two_rooms"),
        {"on": "identity", "type": "@checkout_two_rooms.phone_last4"},
        {"on": "checkout_rooms", "tap": str(first), "optional": True},
        {"on": "checkout_folio", "tap": "confirm"},
        *FINISH,
    ]
    report = await play(actions, outcome="checked_out", payments=0)
    done = [t for t in report.transcript if t.startswith("checkout_done")]
    assert done == ["checkout_done: checkout_done.title / checkout_done.folio_open"]
    found = await states(client, guest["order_id"])
    assert found[first][0] is AccomStatus.CHECKED_OUT and not settled(found)
    assert found[second][0] is (AccomStatus.BOOKED if code == 444 else AccomStatus.CHECKED_IN)


async def test_a_card_left_in_the_slot_is_kept_for_staff_to_destroy(
    demo: dict,
    client: PmsClient,
    devices: Any,
    payment_log: PaymentLog,
    play: Play,
) -> None:
    guest = demo["checkout_balance_due"]
    report = await play(
        [
            *by_card("checkout_balance_due"),
            {"take_card": False},  # the guest cancels and walks away from their card
            {"on": "checkout_folio", "tap": "cancel"},
        ],
        outcome="cancelled_by_guest",
    )
    assert report.result.unerased_cards == (guest["card_uid"],)
    assert [c.uid.hex().upper() for c in card_path(devices).reject_bin] == [guest["card_uid"]]
    audit = payment_log.db.query("SELECT action, detail FROM audit")
    assert [row["action"] for row in audit] == ["card unerased"]
    assert guest["card_uid"] in audit[0]["detail"]
    found = await states(client, guest["order_id"])
    assert [s for s, _ in found.values()] == [AccomStatus.CHECKED_IN]  # nothing changed


async def test_without_paper_the_invoice_is_shown_with_a_qr(
    play: Play,
) -> None:
    shown: list[View] = []

    async def on_view(view: View) -> None:
        if view.step is Step.RECEIPT:
            shown.append(view)

    await play(
        [
            {"paper": "out"},
            *by_card("checkout_balance_due"),
            {"on": "checkout_folio", "pay": "approve", "choice": "confirm"},
            *FINISH,
        ],
        on_view,
        outcome="checked_out",
        receipt="on_screen",
    )
    (receipt,) = shown
    rows = "\n".join(receipt.params["receipt_rows"])
    assert "INVOICE - CHECK-OUT" in rows and "60.00 CNY" in rows and "Paid now" in rows
    assert "Minibar" in receipt.params["receipt_qr"]


async def test_a_refund_left_open_by_a_crash_is_booked_once_at_start_up(
    checkin: CheckinJourney,
    demo: dict,
    client: PmsClient,
    devices: Any,
    payment_log: PaymentLog,
) -> None:
    from kiosk.journeys.payment import Payments
    from kiosk.journeys.settlement import resolve_unsettled
    from kiosk.state import JourneyMark, current_journey

    guest = demo["checkout_refund"]
    replay_kiosk_sales(devices.terminal, {"in_house": [guest]}, "CNY")
    token = current_journey.set(JourneyMark("journey-crashed", str(guest["order_id"])))
    try:  # the journey's refund, approved at the terminal; the kiosk dies before the folio
        refund = await Payments(devices.terminal, payment_log).refund(
            Decimal("100.00"), "CNY", guest["kiosk_sale"]["reference"]
        )
    finally:
        current_journey.reset(token)
    assert refund.approved and payment_log.state(refund.reference) == "approved"
    for _restart in range(2):
        await resolve_unsettled(payment_log, devices.terminal, checkin.backend)
    assert payment_log.state(refund.reference) == "recorded"
    bills = await cashier_bills(client, guest["order_id"])
    assert [b.amount for b in bills if refund.reference in b.remark] == [Decimal("-100.00")]
    assert devices.terminal.status(refund.reference).approved  # never voided
