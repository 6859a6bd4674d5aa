"""A check-in journey assembled for the tests and benchmarks (the real parts, over the
simulator), so each test names only what it changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kiosk.api.pms import PmsClient
from kiosk.backends.base import PropertyBackend
from kiosk.backends.pms import PmsBackend
from kiosk.i18n import Catalogue
from kiosk.journeys.checkin import CheckinJourney
from kiosk.journeys.devices import Devices
from kiosk.journeys.payment import PaymentLog
from kiosk.journeys.settings import JourneySettings
from kiosk.outbox import DirectOutbox


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
    """The journey over the PMS adapter, its writes through a direct outbox on ``client``."""
    backend = PmsBackend(client, DirectOutbox.for_clients(pms=client))
    return journey_over(backend, devices, settings, payment_log, signing_key=signing_key, now=now)
