"""The key journey and the e-key on request behind the real Kivy app, driven by touch.

The app under Xvfb, the lobby with check-in and the key journey, the PMS adapter against
the property simulator over loopback HTTP, the simulated devices. After each journey the
simulator's own records are checked: cards, door PINs, e-keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kiosk.api.pms import PmsClient
from kiosk.api.pms_types import OrderRef
from kiosk.journeys.checkin import CheckinJourney
from kiosk.journeys.devices import Devices
from kiosk.journeys.key_desk import KeyDeskJourney
from kiosk.journeys.messages import Step
from kiosk.journeys.payment import PaymentLog
from kiosk.journeys.result import JourneyResult
from kiosk.qr_payload import PmsOrderRef, encode_payload
from kiosk.sim.demo import seed_demo
from kiosk.sim.server import SimServer
from tests import journey_kit as kit
from tests.conftest import SIM_TOKEN, SimClock
from tests.contract.test_journey_keys import SIGNING_KEY, credentials
from tests.ui.driver import UiDriver
from tests.ui.guest import Guest
from tests.ui.test_checkin_ui import SETTINGS

pytestmark = pytest.mark.timeout(60)
CASE = "in_house_keys"


@dataclass
class Kiosk:
    ui: UiDriver
    guest: Guest
    client: PmsClient
    checkin: CheckinJourney
    key_desk: KeyDeskJourney
    demo: dict[str, dict[str, Any]]

    def qr(self, case: str) -> str:
        arrival = self.demo[case]
        ref = PmsOrderRef(arrival["order_id"], arrival["order_no"])
        return encode_payload(ref, signing_key=SIGNING_KEY)

    def serve_one_guest(self) -> asyncio.Task[JourneyResult]:
        return asyncio.ensure_future(self.checkin.lobby(self.key_desk).run(self.ui.channel))


@pytest.fixture
def devices(tmp_path: Path) -> Iterator[Devices]:
    with kit.fast_devices(tmp_path) as bundle:
        yield bundle


@pytest.fixture
async def kiosk(
    ui: UiDriver, sim_server: SimServer, sim_clock: SimClock, devices: Devices, tmp_path: Path
) -> AsyncIterator[Kiosk]:
    demo = {a["case"]: a for a in seed_demo(sim_server, seed=1)["arrivals"]}
    payment_log = PaymentLog(kit.state_db(tmp_path / "state"))
    settings = SETTINGS.model_copy(update={"door_pins": True, "ekeys": True})
    async with PmsClient(sim_server.url, SIM_TOKEN, timeout=2, retry_backoff=0.01) as client:
        checkin = kit.pms_journey(
            client, devices, settings, payment_log, signing_key=SIGNING_KEY, now=sim_clock
        )
        key_desk = KeyDeskJourney.beside(checkin)
        assert key_desk is not None
        yield Kiosk(ui, Guest(ui), client, checkin, key_desk, demo)
    payment_log.db.close()


def details(screen: Any) -> list[str]:
    return [w.text for w in reversed(screen.ids.details.children)]


async def test_a_lost_key_by_touch(kiosk: Kiosk) -> None:
    guest, order_id = kiosk.guest, kiosk.demo[CASE]["order_id"]
    phone_last4 = kiosk.demo[CASE]["second_factor"]["phone_last4"]
    cards_before, pins_before, keys_before = await credentials(kiosk.client, order_id)
    run = kiosk.serve_one_guest()
    await guest.on(Step.ATTRACT)
    await guest.start("key")
    menu = await guest.on(Step.KEY_MENU)
    assert menu.frame.title.text == "A room key"
    await guest.choose("lost")
    await guest.on(Step.SCAN)
    guest.scan(kiosk.qr(CASE))
    await guest.on(Step.IDENTITY)  # a signed code, and still the second factor
    await guest.type(phone_last4)
    lost = await guest.on(Step.KEY_LOST)
    assert lost.frame.title.text == "A new key for room 303"
    assert "A lost card cannot be cancelled from this kiosk" in lost.frame.message.text
    await guest.choose("continue")
    done = await guest.on(Step.KEY_DONE)
    cards, pins, keys = await credentials(kiosk.client, order_id)
    (entry,) = await kiosk.client.get_accom_all_lock_password(OrderRef(order_id=order_id))
    new_pin = entry.password_list[0].keyboard_pwd
    assert details(done) == [
        "Room 303",
        "Floor 3",
        f"New door PIN: {new_pin}",
        f"A new phone key is on its way to the phone ending {phone_last4}.",
    ]
    assert "the lost card still does until your stay ends" in done.frame.message.text
    assert [c.id for c in done.view.choices] == ["finish"]  # a new e-key went already
    await guest.choose("finish")
    result = await asyncio.wait_for(run, 10)

    assert (result.journey, result.outcome, len(result.cards)) == ("key", "key_replaced", 1)
    assert cards == [*cards_before, result.cards[0].upper()]
    assert pins and not pins & pins_before
    assert keys and not keys & keys_before
    assert kiosk.key_desk.operator_health().metrics == {"lost_cards": 1}


async def test_an_ekey_from_the_check_in_done_screen_by_touch(kiosk: Kiosk) -> None:
    guest, order_id = kiosk.guest, kiosk.demo["prepaid"]["order_id"]
    phone_last4 = kiosk.demo["prepaid"]["second_factor"]["phone_last4"]
    run = kiosk.serve_one_guest()
    await guest.on(Step.ATTRACT)
    guest.scan(kiosk.qr("prepaid"))  # straight into check-in
    await guest.on(Step.SUMMARY)
    await guest.choose("continue")
    await guest.on(Step.KEYS)
    await guest.choose("1")
    await guest.on(Step.RECEIPT)
    await guest.choose("continue")
    await guest.on(Step.DONE)
    await guest.choose("ekey")
    sent = await guest.on(Step.EKEY)
    assert sent.frame.message.text == (
        f"A key to your room is on its way to the phone ending {phone_last4}."
    )
    await guest.choose("finish")
    result = await asyncio.wait_for(run, 10)

    assert result.outcome == "checked_in"
    entries = await kiosk.client.get_accom_all_access_keys(OrderRef(order_id=order_id))
    (key,) = [k for e in entries for k in e.key_list]
    assert key.receiver_account.endswith(phone_last4)
