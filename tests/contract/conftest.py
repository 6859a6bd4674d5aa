"""The parts every journey test against the simulator starts from: a PMS client on the
simulator, every device simulated, a payment log in the test's state directory, and the
check-in journey over them. A module that needs one otherwise (a client that never
retries) defines its own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from kiosk.api.pms import PmsClient
from kiosk.journeys.checkin import CheckinJourney
from kiosk.journeys.devices import Devices
from kiosk.journeys.payment import PaymentLog
from kiosk.sim.server import SimServer
from tests import journey_kit as kit
from tests.conftest import SIM_TOKEN, SimClock


@pytest.fixture
async def client(sim_server: SimServer) -> AsyncIterator[PmsClient]:
    async with PmsClient(sim_server.url, SIM_TOKEN, timeout=2, retry_backoff=0.01) as client:
        yield client  # type: ignore[misc]


@pytest.fixture
def devices(tmp_path: Path) -> Iterator[Devices]:
    with kit.fast_devices(tmp_path) as bundle:
        yield bundle


@pytest.fixture
def payment_log(tmp_path: Path) -> Iterator[PaymentLog]:
    log = PaymentLog(kit.state_db(tmp_path / "state"))
    yield log
    log.db.close()


@pytest.fixture
def checkin(
    client: PmsClient, devices: Devices, payment_log: PaymentLog, sim_clock: SimClock
) -> CheckinJourney:
    """Check-in over the PMS, its writes through a durable outbox, on the simulator's clock."""
    return kit.pms_journey(
        client, devices, kit.FAST, payment_log, signing_key=kit.SIGNING_KEY, now=sim_clock
    )
