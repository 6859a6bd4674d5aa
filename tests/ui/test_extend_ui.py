"""The extend-stay journey behind the real Kivy app, driven by touch (issue 11, item 2).

The app under Xvfb, the lobby with check-in and extend, the PMS adapter against the
property simulator over loopback HTTP, the device simulators (terminal, dispenser +
encoder card path); the guest taps the widgets and pushes their own room card into the
slot. After each journey the simulator's state and the card in the guest's hand are
checked, not only the screens.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kiosk.api.pms import PmsClient
from kiosk.demo.devices import guest_card, simulated_devices
from kiosk.journeys.devices import Devices
from kiosk.journeys.extend import extend_journey
from kiosk.journeys.messages import Step
from kiosk.journeys.payment import PaymentLog
from kiosk.sim.demo import seed_demo
from kiosk.sim.server import SimServer
from tests.conftest import SIM_TOKEN, SimClock
from tests.contract.test_journey_checkin import make_journey
from tests.contract.test_journey_extend import cashier_bills, key_on, stay_end
from tests.journey_kit import state_db
from tests.ui.driver import UiDriver
from tests.ui.guest import Guest
from tests.ui.test_checkin_ui import SETTINGS

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def devices(tmp_path: Path) -> Iterator[Devices]:
    bundle = simulated_devices(tmp_path, terminal_response_timeout_s=0.05)
    yield bundle
    bundle.terminal.close()


@pytest.fixture
async def client(sim_server: SimServer) -> AsyncIterator[PmsClient]:
    async with PmsClient(sim_server.url, SIM_TOKEN, timeout=2, retry_backoff=0.01) as client:
        yield client  # type: ignore[misc]


@pytest.fixture
def in_house(sim_server: SimServer) -> dict[str, dict[str, Any]]:
    return {h["case"]: h for h in seed_demo(sim_server, seed=1)["in_house"]}


@pytest.fixture
def payment_log(tmp_path: Path) -> Iterator[PaymentLog]:
    log = PaymentLog(state_db(tmp_path / "state"))
    yield log
    log.db.close()


def lobby(client: PmsClient, devices: Devices, payment_log: PaymentLog, clock: SimClock) -> Any:
    checkin = make_journey(client, devices, payment_log, clock, SETTINGS)
    extend = extend_journey(checkin)
    assert extend is not None
    return checkin.lobby(extend)


def insert(devices: Devices, card: str) -> None:
    """The guest pushes their room card ("UID/key hex") into the card slot."""
    uid, _, key = card.partition("/")
    devices.dispenser.guest_inserts(guest_card(uid, bytes.fromhex(key)))  # type: ignore[attr-defined]


async def test_extend_by_card_two_nights_by_touch(
    ui: UiDriver, client: PmsClient, devices: Devices, payment_log: PaymentLog,
    sim_clock: SimClock, in_house: dict,
) -> None:  # fmt: skip
    guest, stay = Guest(ui), in_house["extend_card"]
    before = await stay_end(client, stay["order_id"])
    run = asyncio.ensure_future(lobby(client, devices, payment_log, sim_clock).run(ui.channel))
    attract = await guest.on(Step.ATTRACT)
    assert "Extend my stay" in [b.text for b in attract.frame.choices.children]
    await guest.start("extend")
    start = await guest.on(Step.EXTEND_START)
    assert start.frame.title.text == "Extend your stay"
    insert(devices, stay["card"])
    nights = await guest.on(Step.EXTEND_NIGHTS)
    assert nights.frame.message.text == "Room 206: check-out now 05 Mar 2026 12:00."
    labels = [b.text for b in reversed(nights.frame.choices.children)]
    assert labels[:2] == [
        "1 more night(s), until 06 Mar 2026: 388.00 CNY",
        "2 more night(s), until 07 Mar 2026: 776.00 CNY",
    ]
    assert labels[-1] == "Cancel"
    await guest.choose("2")
    pay = await guest.on(Step.PAYMENT, "extend_pay.message")
    assert pay.frame.message.text == "2 more night(s) in room 206: 776.00 CNY"
    await guest.choose("pay")  # the terminal approves
    receipt = await guest.on(Step.RECEIPT)
    assert receipt.frame.message.text == "Please take your receipt"
    await guest.choose("continue")
    done = await guest.on(Step.EXTEND_DONE)
    assert done.frame.message.text == (
        "Room 206: your new check-out is 07 Mar 2026 12:00. Your room card is updated."
    )
    await guest.choose("finish")
    result = await asyncio.wait_for(run, 10)

    assert result.journey == "extend" and result.outcome == "extended"
    after = before + timedelta(days=2)
    assert await stay_end(client, stay["order_id"]) == after
    assert await cashier_bills(client, stay["order_id"]) == [Decimal("776.00")]
    (card,) = devices.dispenser.handed_out  # type: ignore[attr-defined]
    assert key_on(card)["check_out_time"] == int(after.timestamp())
    assert Step.KEY_PROGRESS in guest.steps()  # "writing your room card", "checking the card"
    assert result.receipt == "printed" and len(devices.printer.printed) == 1  # type: ignore[attr-defined]


async def test_a_room_booked_next_night_is_refused_on_screen_and_the_card_comes_back(
    ui: UiDriver, client: PmsClient, devices: Devices, payment_log: PaymentLog,
    sim_clock: SimClock, in_house: dict,
) -> None:  # fmt: skip
    guest, stay = Guest(ui), in_house["extend_taken"]
    before = await stay_end(client, stay["order_id"])
    run = asyncio.ensure_future(lobby(client, devices, payment_log, sim_clock).run(ui.channel))
    await guest.on(Step.ATTRACT)
    await guest.start("extend")
    await guest.on(Step.EXTEND_START)
    insert(devices, stay["card"])
    refusal = await guest.on(Step.REFUSAL)
    assert refusal.frame.title.text == "Room booked after your stay"
    assert "Room 504" in refusal.frame.message.text and "Nothing was charged" in (
        refusal.frame.message.text
    )
    await guest.choose("finish")
    result = await asyncio.wait_for(run, 10)

    assert result.outcome == "refused:room_taken" and result.payments == ()
    assert await stay_end(client, stay["order_id"]) == before
    (card,) = devices.dispenser.handed_out  # type: ignore[attr-defined]
    assert key_on(card)["check_out_time"] == int(before.timestamp())
