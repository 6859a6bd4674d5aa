"""Independent back-end calls run concurrently (issue 4), and the card and money rules hold:
a key payload is asked for while the card is fed, each stay's at once; door PINs while
the folio entry and the receipt are made. Real simulator over loopback with added
latency, so that overlapping round trips are visible in their timings."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from hardware.card_encoder.simulator import SimEncoder
from hardware.dispenser.simulator import SimDispenser
from kiosk.api.pms import PmsClient
from kiosk.backends.base import BackendError, KeyGrant, Reason, Stay
from kiosk.backends.pms import PmsBackend
from kiosk.config import BackendConfig
from kiosk.demo.devices import SimCardPath, simulated_devices
from kiosk.demo.script import GuestScript, ScriptReport, run_script
from kiosk.journeys.devices import Devices
from kiosk.journeys.keys import CardIssuer
from kiosk.journeys.messages import Step, View
from kiosk.journeys.payment import PaymentLog
from kiosk.journeys.settings import JourneySettings
from kiosk.qr_payload import PmsOrderRef, encode_payload
from kiosk.sim.demo import seed_demo
from kiosk.sim.server import SimServer
from tests.benchmarks.test_checkin_benchmark import RecordingTransport, RoundTrip
from tests.conftest import SIM_TOKEN, SimClock
from tests.journey_kit import durable_outbox, journey_over, state_db

pytestmark = pytest.mark.timeout(60)

LATENCY_MS = 60
SIGNING_KEY = b"concurrency-test-key-not-a-secret"
PAYLOAD = json.dumps({"room_id": 32, "check_in_time": 1743487200}).encode()
_DEFAULTS = BackendConfig()
# The adapter's settings as the kiosk passes them (kiosk.backends.factory), for subclasses.
ADAPTER = {
    "currency": _DEFAULTS.currency,
    "pms_id": _DEFAULTS.pms_id,
    "country_code": _DEFAULTS.phone_country_code,
}
SETTINGS = JourneySettings(
    timezone="Asia/Shanghai",
    door_pins=True,
    view_timeout_s=5,
    done_timeout_s=1,
    timeout_grace_s=0.2,
    card_take_timeout_s=0.5,
    backend_timeout_s=5,
)


class KeyRefused(Exception):
    pass


# --- the card issuer with a payload still on its way ---------------------------------------


def card_path() -> tuple[SimCardPath, SimEncoder]:
    encoder = SimEncoder()
    path = SimCardPath(SimDispenser(stock=5, delay_scale=0, poll_interval=0.01), encoder)
    path.open()
    return path, encoder


async def no_progress(stage: object) -> None:
    return None


async def test_the_card_is_fed_before_its_payload_arrives() -> None:
    path, encoder = card_path()
    recorded: list[str] = []

    async def record(uid: str) -> None:
        recorded.append(uid)

    payload: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    issuer = CardIssuer(path, encoder, attempts=3, take_timeout_s=0.2)
    issuing = asyncio.create_task(issuer.issue(payload, record, no_progress))
    async with asyncio.timeout(5):
        while not path.status().card_at_rf:  # fed while the payload is still pending
            await asyncio.sleep(0.005)
    assert not payload.done() and not recorded
    payload.set_result(PAYLOAD)
    card = await issuing
    assert card.taken and recorded == [card.uid] and path.inner.issued == 1


async def test_a_payload_that_fails_captures_the_fed_card() -> None:
    path, encoder = card_path()
    payload: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    payload.set_exception(KeyRefused())
    issuer = CardIssuer(path, encoder, attempts=3, take_timeout_s=0.2)

    async def record(uid: str) -> None:
        raise AssertionError("no card may be recorded without its payload")

    with pytest.raises(KeyRefused):
        await issuer.issue(payload, record, no_progress)
    status = path.status()
    assert path.inner.rejected == 1 and path.inner.stock == 4 and path.inner.issued == 0
    assert not (status.card_at_rf or status.card_at_exit)


# --- the journey against the simulator ----------------------------------------------------


@pytest.fixture
def values(sim_server: SimServer) -> dict[str, str]:
    sim_server.faults.latency_ms = LATENCY_MS
    arrivals = seed_demo(sim_server, seed=1, timezone=SETTINGS.timezone)["arrivals"]
    return {
        a["case"]: encode_payload(
            PmsOrderRef(a["order_id"], a["order_no"]), signing_key=SIGNING_KEY
        )
        for a in arrivals
    }


@pytest.fixture
async def transport() -> AsyncIterator[RecordingTransport]:
    recording = RecordingTransport()
    yield recording  # type: ignore[misc]
    await recording.aclose()


@pytest.fixture
def devices(tmp_path: Path) -> Iterator[Devices]:
    bundle = simulated_devices(tmp_path, terminal_response_timeout_s=0.05)
    yield bundle
    bundle.terminal.close()


class KeyRefusingBackend(PmsBackend):
    """The PMS refusing card payloads: the simulator has no switch to refuse a single
    operation, so this one verb is replaced; every other call reaches the simulator."""

    async def key_grant(self, stay: Stay) -> KeyGrant:
        await asyncio.sleep(LATENCY_MS / 1000)
        raise BackendError(Reason.KEY_REFUSED, "refused by the test")


async def play(
    sim_server: SimServer,
    transport: RecordingTransport,
    devices: Devices,
    tmp_path: Path,
    values: dict[str, str],
    actions: list[dict[str, Any]],
    backend_type: type[PmsBackend] = PmsBackend,
) -> tuple[ScriptReport, list[View]]:
    views: list[View] = []

    async def seen(view: View) -> None:
        views.append(view)

    state = tmp_path / "state"
    payment_log = PaymentLog(state_db(state))
    try:
        async with PmsClient(sim_server.url, SIM_TOKEN, transport=transport) as client:
            journey = journey_over(
                backend_type(
                    client, durable_outbox(state, pms=client, db=payment_log.db), **ADAPTER
                ),
                devices,
                SETTINGS,
                payment_log,
                signing_key=SIGNING_KEY,
                now=SimClock(),
            )
            script = GuestScript.model_validate(
                {"name": "t", "actions": actions, "expect": {"outcome": "x"}, "max_seconds": 30}
            )
            report = await run_script(journey, script, values, on_view=seen)
    finally:
        payment_log.db.close()
    return report, views


def start(case: str) -> list[dict[str, Any]]:
    return [{"on": "attract", "tap": "start"}, {"on": "language", "language": "en"},
            {"on": "scan", "scan": f"@{case}"}, {"on": "summary", "tap": "continue"}]  # fmt: skip


def register(name: str, id_number: str) -> list[dict[str, Any]]:
    return [{"on": "register", "type": name}, {"on": "register", "tap": "passport"},
            {"on": "register", "type": id_number}]  # fmt: skip


def trips_of(transport: RecordingTransport, operation: str) -> list[RoundTrip]:
    return [t for t in transport.trips if t.path.endswith("/" + operation)]


def overlap(a: RoundTrip, b: RoundTrip) -> bool:
    return a.span.start < b.span.end and b.span.start < a.span.end


async def test_two_rooms_ask_for_payloads_and_pins_at_once(
    sim_server: SimServer,
    transport: RecordingTransport,
    devices: Devices,
    tmp_path: Path,
    values: dict[str, str],
) -> None:
    report, views = await play(
        sim_server,
        transport,
        devices,
        tmp_path,
        values,
        [*start("two_rooms"), *register("Wei Wang", "E1111111"),
         *register("Anna Smith", "E2222222"), {"on": "keys", "tap": "1"},
         {"on": "keys", "tap": "1"}, {"on": "receipt", "tap": "continue"},
         {"on": "done", "tap": "finish"}],
    )  # fmt: skip
    assert report.result.outcome == "checked_in" and len(report.result.cards) == 2
    first, second = trips_of(transport, "generateRoomCard")
    assert overlap(first, second)
    sends = trips_of(transport, "sendOfflinePassword")
    assert len(sends) == 2 and overlap(*sends)
    done = next(v for v in views if v.step is Step.DONE)
    pins = [room["door_pin"] for room in done.params["rooms"]]
    assert len(pins) == 2 and all(pin.isdigit() for pin in pins) and pins[0] != pins[1]


async def test_a_refused_payload_captures_the_card_and_voids_the_payment(
    sim_server: SimServer,
    transport: RecordingTransport,
    devices: Devices,
    tmp_path: Path,
    values: dict[str, str],
) -> None:
    report, _ = await play(
        sim_server,
        transport,
        devices,
        tmp_path,
        values,
        [*start("balance_due"), *register("Wei Wang", "E1234567"),
         {"on": "payment", "pay": "approve"}, {"on": "keys", "tap": "1"}],
        backend_type=KeyRefusingBackend,
    )  # fmt: skip
    result = report.result
    assert result.outcome == "refused:backend_fault"
    assert len(result.payments) == 1 and result.voided == result.payments
    assert result.cards == () and result.rejected_cards == 1
    assert not trips_of(transport, "addAccomCard") and not trips_of(transport, "cashier")
    path = devices.dispenser
    assert isinstance(path, SimCardPath)
    status = path.status()
    assert not (status.card_at_rf or status.card_at_exit)
