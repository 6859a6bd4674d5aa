"""The kiosk's files stay bounded: settled records of the state database older than
``keep_delivered_days`` are purged at start-up and periodically after it (open payments
and undelivered writes are kept whatever their age); the simulated terminal's journal
keeps its last 90 days."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from hardware.payment.protocol import Kind, Outcome, PaymentResult
from hardware.payment.sim_journal import SimJournal
from kiosk import housekeeping
from kiosk.config import KioskConfig
from kiosk.demo import DEMO_QR_KEY, builtin_scripts, demo_config
from kiosk.demo.script import GuestScript, run_script, values_from_manifest
from kiosk.runtime import Runtime, start_runtime
from kiosk.sim.demo import write_manifest
from kiosk.state import now_text

pytestmark = pytest.mark.timeout(60)
BALANCE_DUE = next(path for path in builtin_scripts() if path.stem == "balance_due")


def counts(runtime: Runtime) -> dict[str, int]:
    db = runtime.outbox.db
    return {
        table: db.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"]
        for table in ("outbox", "journeys", "payments", "audit")
    }


def instant_dispenser() -> KioskConfig:
    """The defaults with the simulated dispenser at no delay (the demo's guests, fast)."""
    base = KioskConfig()
    devices = base.devices.model_copy(
        update={"dispenser": base.devices.dispenser.model_copy(update={"sim_delay_scale": 0})}
    )
    return base.model_copy(update={"devices": devices})


async def checked_in_guest(tmp_path: Path) -> Runtime:
    runtime = await start_runtime(demo_config(tmp_path, instant_dispenser()))
    assert runtime.sim is not None and runtime.demo is not None
    manifest = write_manifest(
        tmp_path / "manifest.json", runtime.sim, runtime.demo, DEMO_QR_KEY.encode()
    )
    report = await run_script(
        runtime.journey, GuestScript.load(BALANCE_DUE), values_from_manifest(manifest)
    )
    assert report.passed, report.failures
    return runtime


async def test_settled_records_are_purged_and_open_ones_kept(tmp_path: Path) -> None:
    runtime = await checked_in_guest(tmp_path)
    try:
        db = runtime.outbox.db
        with db.transaction() as conn:  # a payment a crash left open: resolved at start-up
            conn.execute(
                "INSERT INTO payments (reference, journey, kind, amount, currency, state,"
                " updated_at) VALUES ('pay-open', 'j-open', 'sale', '1.00', 'CNY',"
                " 'requested', '2000-01-01T00:00:00+00:00')"
            )
            conn.execute(
                "INSERT INTO journeys (id, step, started_at, updated_at) VALUES"
                " ('j-open', 'pay:balance', '2000-01-01T00:00:00+00:00',"
                " '2000-01-01T00:00:00+00:00')"
            )
        before = counts(runtime)
        assert before["outbox"] >= 4 and before["payments"] >= 2, before

        assert housekeeping.purge_settled(runtime.outbox, older_than_s=3600) == {
            "outbox": 0, "payments": 0, "audit": 0,
        }  # fmt: skip
        assert counts(runtime) == before  # nothing is old enough yet

        removed = housekeeping.purge_settled(runtime.outbox, older_than_s=0)
        assert removed["outbox"] == before["outbox"] and removed["payments"] >= 1, removed
        states = [row["state"] for row in db.query("SELECT state FROM payments")]
        assert states == ["requested"]  # the open payment stays, and its journey
        assert [row["id"] for row in db.query("SELECT id FROM journeys")] == ["j-open"]
    finally:
        await runtime.aclose()


async def test_the_audit_keeps_its_newest_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(housekeeping, "AUDIT_ROWS", 5)
    runtime = await start_runtime(demo_config(tmp_path))
    try:
        with runtime.outbox.db.transaction() as conn:
            conn.executemany(
                "INSERT INTO audit (at, actor, action, detail) VALUES (?, 'staff', 'test', ?)",
                [(now_text(), str(n)) for n in range(12)],
            )
        assert housekeeping.purge_settled(runtime.outbox, older_than_s=3600)["audit"] == 7
        details = [r["detail"] for r in runtime.outbox.db.query("SELECT detail FROM audit")]
        assert details == ["7", "8", "9", "10", "11"]
    finally:
        await runtime.aclose()


async def test_housekeeping_runs_again_while_the_kiosk_runs(tmp_path: Path) -> None:
    runtime = await checked_in_guest(tmp_path)
    try:
        task = asyncio.create_task(
            housekeeping.run_housekeeping(runtime.outbox, older_than_s=0.2, every_s=0.1)
        )
        try:
            assert counts(runtime)["payments"] >= 1
            for _ in range(50):  # the records of the guest age past 0.2 s, then go
                await asyncio.sleep(0.05)
                if counts(runtime)["payments"] == 0 and counts(runtime)["outbox"] == 0:
                    break
            assert counts(runtime)["payments"] == counts(runtime)["outbox"] == 0
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    finally:
        await runtime.aclose()


async def test_start_up_runs_housekeeping(tmp_path: Path) -> None:
    runtime = await start_runtime(demo_config(tmp_path))
    try:
        await runtime.start_background()
        names = {task.get_name() for task in asyncio.all_tasks()}
        assert {"housekeeping", "outbox-relay"} <= names
    finally:
        await runtime.aclose()
    assert "housekeeping" not in {task.get_name() for task in asyncio.all_tasks()}


def test_the_simulated_terminal_forgets_what_is_older_than_its_history(tmp_path: Path) -> None:
    path = tmp_path / "payment-sim.sqlite"
    journal = SimJournal(path)
    day = datetime(2026, 1, 1, tzinfo=UTC)

    def sale(reference: str, at: datetime, outcome: Outcome) -> None:
        started = PaymentResult(
            reference, Outcome.IN_PROGRESS, Kind.SALE, Decimal("1.00"), "CNY", at=at
        )
        journal.begin(started)
        if outcome is not Outcome.IN_PROGRESS:
            journal.settle(replace(started, outcome=outcome))

    sale("old", day, Outcome.APPROVED)
    sale("old-open", day, Outcome.IN_PROGRESS)  # never answered: a restart asks about it
    sale("recent", day + timedelta(days=100), Outcome.APPROVED)
    journal.close()

    journal = SimJournal(path, keep_days=90)
    try:
        assert journal.get("old") is None
        assert journal.get("old-open") is not None and journal.get("recent") is not None
        assert {entry.reference for entry in journal.entries()} == {"recent"}
    finally:
        journal.close()
