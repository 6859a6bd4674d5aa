"""Keeping the state database bounded on a kiosk that runs for months without a restart.

What grows with every guest is purged once it is settled and older than
``[state] keep_delivered_days``: delivered outbox entries and their journeys
(``DurableOutbox.purge_delivered``) and settled payment records. The audit table keeps
its newest ``AUDIT_ROWS`` rows. SQLite reuses the freed pages, so the file stops growing
at its high-water mark. Open payments, undelivered or dead entries are never touched.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from kiosk.outbox import DurableOutbox

log = logging.getLogger("kiosk.housekeeping")

# A payment in one of these states is settled: the money is on the folio or never moved.
SETTLED_PAYMENTS = ("recorded", "voided", "declined", "cancelled", "unknown_reference")
AUDIT_ROWS = 10_000  # staff actions: a few a week; the bound is only a safety net
EVERY_S = 6 * 3600.0


def purge_settled(outbox: DurableOutbox, older_than_s: float) -> dict[str, int]:
    """Purge what is settled and older than ``older_than_s``; rows removed per table."""
    cutoff = (datetime.now(UTC) - timedelta(seconds=older_than_s)).isoformat()
    marks = ", ".join("?" * len(SETTLED_PAYMENTS))
    with outbox.db.transaction() as conn:
        payments = conn.execute(
            f"DELETE FROM payments WHERE state IN ({marks}) AND updated_at < ?",
            (*SETTLED_PAYMENTS, cutoff),
        ).rowcount
        audit = conn.execute(
            "DELETE FROM audit WHERE id <= (SELECT MAX(id) FROM audit) - ?", (AUDIT_ROWS,)
        ).rowcount
    # After the payments: a journey goes with its entries once no open payment holds it.
    entries = outbox.purge_delivered(older_than_s)
    return {"outbox": entries, "payments": payments, "audit": audit}


async def run_housekeeping(
    outbox: DurableOutbox, older_than_s: float, every_s: float = EVERY_S
) -> None:
    """Purge at start-up and every ``every_s`` after, until cancelled."""
    while True:
        removed = purge_settled(outbox, older_than_s)
        if any(removed.values()):
            log.info("purged settled records: %s", removed)
        await asyncio.sleep(every_s)
