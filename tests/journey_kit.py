"""A check-in journey assembled for the tests and benchmarks (the real parts, over the
simulator), so each test names only what it changes."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.api.openability import OpenAbilityClient
from kiosk.api.pms import PmsClient
from kiosk.backends.base import PropertyBackend
from kiosk.backends.factory import open_backend
from kiosk.backends.pms import PmsBackend
from kiosk.config import BackendConfig
from kiosk.demo.devices import simulated_devices
from kiosk.demo.script import values_from_manifest
from kiosk.i18n import Catalogue
from kiosk.journeys.checkin import CheckinJourney
from kiosk.journeys.devices import Devices
from kiosk.journeys.payment import PaymentLog
from kiosk.journeys.settings import JourneySettings
from kiosk.outbox import Backoff, DurableOutbox
from kiosk.qr_payload import PmsOrderRef, encode_payload
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


# The QR codes' signing key of the journey tests (a test value, not a secret).
SIGNING_KEY = b"journey-test-key-not-a-secret"


def script_values(guests: Iterable[Mapping[str, Any]], signing_key: bytes) -> dict[str, str]:
    """A script's "@" values for seeded guests, as the demo manifest gives them (the QR
    payload, second factors, a room card), the QR payloads of signed cases signed with
    ``signing_key``."""
    entries = [
        {
            **guest,
            "qr_payload": encode_payload(
                PmsOrderRef(guest["order_id"], guest["order_no"]),
                signing_key=signing_key if guest["signed"] else None,
            ),
        }
        for guest in guests
    ]
    return values_from_manifest({"in_house": entries})


def any_guest(*more_guests: tuple[str, str]) -> list[dict[str, Any]]:
    """A scripted guest who goes through whatever the journey asks (each step optional past
    the scan), registering as Wei Wang and then each of ``more_guests`` (name, passport)."""
    guests = [("Wei Wang", "E12345678"), *more_guests]
    register = [
        move
        for name, passport in guests
        for move in (
            {"on": "register", "type": name, "optional": True},
            {"on": "register", "tap": "passport", "optional": True},
            {"on": "register", "type": passport, "optional": True},
        )
    ]
    return [
        {"on": "attract", "tap": "start"},
        {"on": "language", "language": "en"},
        {"on": "scan", "scan": "@code"},
        {"on": "summary", "tap": "continue", "optional": True},
        *register,
        {"on": "room", "tap": "#0", "optional": True},
        {"on": "payment", "pay": "approve", "optional": True},
        {"on": "receipt", "tap": "continue", "optional": True},
        {"on": "done", "tap": "finish", "optional": True},
    ]


@contextlib.contextmanager
def fast_devices(folder: Path) -> Iterator[Devices]:
    """Every device simulated, the terminal answering at once; its journal closed after."""
    bundle = simulated_devices(folder, terminal_response_timeout_s=0.05)
    try:
        yield bundle
    finally:
        bundle.terminal.close()
