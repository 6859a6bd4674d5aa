"""``kiosk prefetch``: today's and tomorrow's arrivals into the state directory's cache,
sealed, from an external simulator over loopback; a stay that has ended is purged."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kiosk.config import load_config
from kiosk.offline import ArrivalsCache
from kiosk.runtime import open_state
from kiosk.sim.demo import IN_HOUSE
from kiosk.sim.server import SimServer
from tests.unit.test_cli_play import arrival, demo, kiosk, write_config

__all__ = ["demo"]  # the fixture
# The demo's bookings still to arrive from yesterday to tomorrow: six of its arrivals, and
# the booking that follows the extend_taken guest's stay (kiosk/sim/demo.py).
PREFETCHED = 7


def test_prefetch_caches_todays_and_tomorrows_arrivals_sealed(
    tmp_path: Path, demo: tuple[SimServer, dict[str, Any]]
) -> None:
    server, manifest = demo
    config = write_config(tmp_path, server.url)
    done = kiosk("prefetch", "--config", str(config), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # twelve for arrivals, the extend guests' (added), six for guests leaving (check-out)
    assert report["rooms"] == 18 + len(IN_HOUSE)
    # Booked stays with a room, arriving today or tomorrow (the demo's "tomorrow" too);
    # the cancelled, the already checked in and the unassigned one are not.
    assert report["reservations"] == PREFETCHED

    db, sealer = open_state(load_config(config))
    try:
        cache = ArrivalsCache(db, sealer)
        found = cache.reservation(str(arrival(manifest, "balance_due")["order_id"]))
        assert found is not None and found.amount_due > 0
        name, phone = found.holder_name, found.holder_phone
        assert cache.reservation(str(arrival(manifest, "cancelled")["order_id"])) is None
        later = datetime.now(UTC) + timedelta(days=4)  # every cached stay has ended by then
        assert cache.purge(later) == PREFETCHED and cache.count() == 0
    finally:
        db.close()
    raw = b"".join(p.read_bytes() for p in (tmp_path / "state").glob("kiosk.sqlite*"))
    assert len(name) > 5 and len(phone) > 8
    assert name.encode() not in raw and phone.encode() not in raw  # only sealed at rest


def test_prefetch_with_the_backend_away_keeps_the_cache(
    tmp_path: Path, demo: tuple[SimServer, dict[str, Any]]
) -> None:
    server, _ = demo
    config = write_config(tmp_path, server.url)
    assert kiosk("prefetch", "--config", str(config)).returncode == 0
    server.stop()
    failed = kiosk("prefetch", "--config", str(config))
    server.start()
    assert failed.returncode == 1 and "prefetch failed" in failed.stdout
    with sqlite3.connect(tmp_path / "state" / "kiosk.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM arrivals").fetchone()[0] == PREFETCHED
