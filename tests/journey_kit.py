"""A check-in journey assembled for the tests and benchmarks (the real parts, over the
simulator), so each test names only what it changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from kiosk.api.openability import OpenAbilityClient
from kiosk.api.pms import PmsClient
from kiosk.backends.base import PropertyBackend
from kiosk.backends.factory import open_backend
from kiosk.backends.pms import PmsBackend
from kiosk.config import BackendConfig
from kiosk.i18n import Catalogue
from kiosk.journeys.checkin import CheckinJourney
from kiosk.journeys.devices import Devices
from kiosk.journeys.payment import PaymentLog
from kiosk.journeys.settings import JourneySettings
from kiosk.outbox import Backoff, DurableOutbox
from kiosk.sealing import Sealer
from kiosk.state import StateDb

# A journey for tests: the property's zone, every wait shrunk to what a scripted guest needs.
FAST = JourneySettings(
    timezone="Asia/Shanghai",
    view_timeout_s=5,
    done_timeout_s=1,
    timeout_grace_s=0.2,
    payment_status_interval_s=0.02,
    payment_status_deadline_s=2,
    card_take_timeout_s=0.3,
    backend_timeout_s=5,
)


def pms_backend(client: PmsClient, outbox: DurableOutbox) -> PmsBackend:
    """The PMS adapter as the kiosk makes it, on the schema's ``[backend]`` defaults."""
    backend = open_backend(BackendConfig(), outbox, client=client)
    assert isinstance(backend, PmsBackend)
    return backend


def state_db(folder: Path) -> StateDb:
    """The kiosk's state database in ``folder`` (a test's tmp_path)."""
    return StateDb.in_dir(folder)


def durable_outbox(
    folder: Path,
    *,
    pms: PmsClient | None = None,
    openability: OpenAbilityClient | None = None,
    db: StateDb | None = None,
) -> DurableOutbox:
    """The durable outbox in ``folder`` over the given client, retrying fast (tests)."""
    return DurableOutbox.for_clients(
        db or state_db(folder),
        Sealer.for_state_dir(folder),
        pms=pms,
        openability=openability,
        backoff=Backoff(base_s=0.05, cap_s=0.5),
    )


def journey_over(
    backend: PropertyBackend,
    devices: Devices,
    settings: JourneySettings,
    payment_log: PaymentLog,
    *,
    signing_key: bytes,
    now: Callable[[], datetime],
) -> CheckinJourney:
    return CheckinJourney(
        backend,
        devices,
        settings,
        payment_log,
        Catalogue.load(tz=settings.timezone),
        signing_key=signing_key,
        now=now,
    )


def pms_journey(
    client: PmsClient,
    devices: Devices,
    settings: JourneySettings,
    payment_log: PaymentLog,
    *,
    signing_key: bytes,
    now: Callable[[], datetime],
) -> CheckinJourney:
    """The journey over the PMS adapter, its writes through a durable outbox on ``client``
    in the payment log's state database."""
    folder = payment_log.db.path.parent
    backend = pms_backend(client, durable_outbox(folder, pms=client, db=payment_log.db))
    return journey_over(backend, devices, settings, payment_log, signing_key=signing_key, now=now)
