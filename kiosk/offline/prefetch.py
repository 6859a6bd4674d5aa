"""Prefetch yesterday's, today's and tomorrow's arrivals into the cache, at start-up and on a
schedule (a stay that began yesterday is still due until its departure: a guest arriving
after midnight)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kiosk.backends.base import ArrivalsSource, BackendError
from kiosk.offline.cache import ArrivalsCache

log = logging.getLogger("kiosk.offline")


@dataclass(frozen=True)
class PrefetchReport:
    reservations: int
    rooms: int
    purged: int


async def prefetch(
    source: ArrivalsSource,
    cache: ArrivalsCache,
    zone: ZoneInfo,
    now: datetime | None = None,
) -> PrefetchReport:
    """Arrivals from the start of yesterday to the end of tomorrow (the property's days)."""
    now = now or datetime.now(UTC)
    today = now.astimezone(zone).date()
    start = datetime.combine(today - timedelta(days=1), time(0), zone).astimezone(UTC)
    end = datetime.combine(today + timedelta(days=2), time(0), zone).astimezone(UTC)
    arrivals = await source.arrivals(start, end)
    cache.store(arrivals)
    purged = cache.purge(now)
    log.info("prefetched %d arrivals, %d rooms", len(arrivals.reservations), len(arrivals.rooms))
    return PrefetchReport(len(arrivals.reservations), len(arrivals.rooms), purged)


async def run_prefetch(
    source: ArrivalsSource,
    cache: ArrivalsCache,
    zone: ZoneInfo,
    interval_s: float,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Prefetch now and every ``interval_s`` until cancelled; a failure waits for the next."""
    while True:
        try:
            await prefetch(source, cache, zone, now())
        except BackendError as exc:
            log.warning("prefetch failed (%s): the cache stays as it was", exc.reason)
        await asyncio.sleep(interval_s)
