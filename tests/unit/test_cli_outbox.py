"""``kiosk outbox list|retry|drop|drain`` and doctor's outbox line, on a state database
whose entries were queued for real: writes through the PMS adapter and the durable outbox
while the property simulator (over loopback) was stopped, or applied with their reply
lost; then delivered, refused or parked against the running simulator."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import pwd
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import fields
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kiosk.api.pms_types import CheckInRequest, CheckInRoom
from kiosk.backends.factory import open_client
from kiosk.cli import main
from kiosk.config import load_config
from kiosk.outbox import Backoff, DurableOutbox, Mutation, OutboxEntry, Queued
from kiosk.runtime import open_state
from kiosk.sim.pms.store import BOOKED
from kiosk.sim.server import SimServer
from kiosk.state import JourneyMark, current_journey
from tests.journey_kit import pms_backend
from tests.unit.test_cli_play import (
    arrival,
    demo_property,
    kiosk,
    kiosk_bills,
    stay_states,
    write_config,
)

pytestmark = pytest.mark.timeout(60)

ENTRY_FIELDS = {f.name for f in fields(OutboxEntry)}


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[SimServer, dict[str, Any]]]:
    with demo_property(tmp_path) as property_:
        yield property_


@pytest.fixture
def config(tmp_path: Path, demo: tuple[SimServer, dict[str, Any]]) -> Path:
    return write_config(tmp_path, demo[0].url)


class Kiosk:
    """The kiosk's own outbox over the configured client, as ``kiosk run`` makes it."""

    def __init__(self, config: Path) -> None:
        settings = load_config(config)
        self.db, sealer = open_state(settings)
        self.client = open_client(settings.backend)
        self.outbox = DurableOutbox.for_clients(
            self.db, sealer, pms=self.client, backoff=Backoff(0.05, 0.5)
        )
        self.backend = pms_backend(self.client, self.outbox)

    async def pay(self, journey: str, order_id: int, amount: str) -> None:
        """The journey's cashier bill for a payment, as the journey records it."""
        token = current_journey.set(JourneyMark(journey, str(order_id)))
        try:
            await self.backend.record_payment(
                str(order_id), Decimal(amount), f"pay-{journey}", f"bill-pay-{journey}"
            )
        finally:
            current_journey.reset(token)

    async def check_in(self, journey: str, order_id: int, accom_id: int, room_id: int) -> None:
        token = current_journey.set(JourneyMark(journey, str(order_id)))
        request = CheckInRequest(
            order_id=order_id, checkin_rooms=[CheckInRoom(accom_id=accom_id, room_id=room_id)]
        )
        try:
            with pytest.raises(Queued):
                await self.outbox.send(Mutation.of("pms", "checkIn", request, f"ci-{journey}"))
        finally:
            current_journey.reset(token)

    async def aclose(self) -> None:
        await self.client.aclose()
        self.db.close()


def seed(config: Path, *writes: Any) -> None:
    """Run each write (``async (Kiosk) -> None``) through the kiosk's outbox, each in a
    kiosk of its own (a write after one that found the back-end away would only be stored)."""

    async def go() -> None:
        for write in writes:
            kiosk_ = Kiosk(config)
            try:
                await write(kiosk_)
            finally:
                await kiosk_.aclose()

    asyncio.run(go())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def listing(capsys: pytest.CaptureFixture[str], config: Path) -> dict[str, Any]:
    code, out = run(capsys, "outbox", "list", "--config", str(config), "--json")
    assert code == 0
    return json.loads(out)


def doctor_outbox(capsys: pytest.CaptureFixture[str], config: Path) -> dict[str, Any]:
    code, out = run(capsys, "doctor", "--config", str(config), "--json")
    assert code == 0  # a queued or dead entry is a warning, never a fault
    report = json.loads(out)
    return next(check for check in report["checks"] if check["name"] == "outbox")


def audit(state_db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(state_db) as db:
        return db.execute("SELECT actor, action, detail FROM audit ORDER BY id").fetchall()


def drop_on_a_terminal(config: Path, entry_id: int, typed: str) -> subprocess.CompletedProcess:
    """``kiosk outbox drop`` with a pseudo-terminal on stdin, the operator typing ``typed``."""
    controller, terminal = pty.openpty()
    try:
        os.write(controller, typed.encode() + b"\n")  # the terminal holds it until read
        return subprocess.run(
            [sys.executable, "-m", "kiosk.cli", "outbox", "drop", str(entry_id),
             "--config", str(config)],
            stdin=terminal, capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    finally:
        os.close(terminal)
        os.close(controller)


# --- queued offline, delivered once ---------------------------------------------------------


def test_drain_delivers_what_was_queued_offline_exactly_once(
    capsys: pytest.CaptureFixture[str], config: Path, demo: tuple[SimServer, dict[str, Any]]
) -> None:
    server, manifest = demo
    order_id = arrival(manifest, "balance_due")["order_id"]

    async def offline(k: Kiosk) -> None:  # the back-end is down: queued, not attempted again
        server.stop()
        await k.pay("j-offline", order_id, "300.00")
        server.start()

    async def reply_lost(k: Kiosk) -> None:  # applied, but the kiosk never heard: ambiguous
        server.faults.update({"lose_next": 1})
        await k.pay("j-lost", order_id, "376.00")

    seed(config, offline, reply_lost)
    assert [b["amount"] for b in kiosk_bills(server, order_id)] == ["376.00"]

    body = listing(capsys, config)
    assert body["counts"] | {"pending": 2, "in_flight": 0, "dead": 0} == body["counts"]
    entries = body["entries"]
    assert [(e["operation"], e["state"], e["ambiguous"]) for e in entries] == [
        ("cashier", "pending", False),
        ("cashier", "pending", True),
    ]
    assert [e["reference"] for e in entries] == ["bill-pay-j-offline", "bill-pay-j-lost"]
    assert all(set(e) == ENTRY_FIELDS for e in entries)  # never the request
    assert all(e["attempts"] == 1 and e["error"] for e in entries)
    code, text = run(capsys, "outbox", "list", "--config", str(config))
    assert code == 0
    assert text.splitlines()[0] == "outbox: pending 2, in flight 0, dead 0"
    assert "(ambiguous)" in text and "bill-pay-j-lost" in text
    check = doctor_outbox(capsys, config)
    assert (check["level"], check["detail"]) == ("warning", "2 queued, 0 dead")

    done = kiosk("outbox", "drain", "--config", str(config), "--json")

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["drained"] is True and report["delivered"] == 2
    assert report["counts"]["pending"] == 0 and report["entries"] == []
    # The lost reply had landed: reconciled, not sent again. The other one went once.
    bills = kiosk_bills(server, order_id)
    assert sorted(b["amount"] for b in bills) == ["300.00", "376.00"]
    assert sum("bill-pay-j-offline" in b["remark"] for b in bills) == 1
    # Nothing left: a second drain sends nothing.
    again = kiosk("outbox", "drain", "--config", str(config))
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("delivered 0; outbox: pending 0, in flight 0, dead 0")
    assert len(kiosk_bills(server, order_id)) == 2
    assert doctor_outbox(capsys, config)["detail"] == "0 queued, 0 dead"


def test_drain_gives_up_at_its_deadline_and_drop_yes_audits(
    capsys: pytest.CaptureFixture[str], config: Path, demo: tuple[SimServer, dict[str, Any]]
) -> None:
    server, manifest = demo
    order_id = arrival(manifest, "balance_due")["order_id"]
    server.stop()  # and it stays down

    async def offline(k: Kiosk) -> None:
        await k.pay("j-down", order_id, "676.00")

    seed(config, offline)
    code, out = run(capsys, "outbox", "drain", "--config", str(config), "--deadline", "0.5")
    assert code == 3
    assert "deadline of 0.5 s passed with entries still pending" in out
    (entry,) = listing(capsys, config)["entries"]
    assert entry["state"] == "pending" and entry["attempts"] > 1  # drain did try

    # Staff settled it at the desk: drop it without a question (a script).
    code, out = run(capsys, "outbox", "drop", str(entry["id"]), "--yes", "--config", str(config),
                    "--json")  # fmt: skip
    assert code == 0
    dropped = json.loads(out)
    user = pwd.getpwuid(os.geteuid()).pw_name
    assert dropped["dropped"]["id"] == entry["id"] and dropped["actor"].endswith(user)
    assert listing(capsys, config)["entries"] == []
    ((actor, action, detail),) = audit(config.parent / "state" / "kiosk.sqlite")
    assert (actor, action) == (dropped["actor"], "outbox drop")
    assert detail == f"entry {entry['id']} cashier bill-pay-j-down was pending"


# --- refused on a replay: dead, retried, dropped --------------------------------------------


def test_a_refused_replay_is_dead_until_staff_retry_or_drop_it(
    capsys: pytest.CaptureFixture[str], config: Path, demo: tuple[SimServer, dict[str, Any]]
) -> None:
    server, manifest = demo
    order_id = arrival(manifest, "dirty_room")["order_id"]
    with server.db.transaction() as conn:
        accom_id, room_id = conn.execute(
            "SELECT accom_id, room_id FROM pms_accom WHERE order_id = ?", (order_id,)
        ).fetchone()

    async def offline(k: Kiosk) -> None:  # into the dirty room: the PMS will refuse it
        server.stop()
        await k.check_in("j-dirty", order_id, accom_id, room_id)
        server.start()

    seed(config, offline)
    state_db = config.parent / "state" / "kiosk.sqlite"

    code, out = run(capsys, "outbox", "drain", "--config", str(config), "--json")
    assert code == 1
    (entry,) = json.loads(out)["entries"]
    assert (entry["operation"], entry["state"]) == ("checkIn", "dead")
    assert entry["error"].startswith("PmsError")
    assert stay_states(server, order_id) == [BOOKED]
    check = doctor_outbox(capsys, config)
    assert (check["level"], check["detail"]) == ("warning", "0 queued, 1 dead")

    # retry: due again, and refused again on the next replay.
    assert run(capsys, "outbox", "retry", "12345", "--config", str(config))[0] == 1
    code, out = run(capsys, "outbox", "retry", str(entry["id"]), "--config", str(config))
    assert code == 0 and out.startswith("1 entry due now")
    (pending,) = listing(capsys, config)["entries"]
    assert pending["state"] == "pending"
    code, out = run(capsys, "outbox", "drain", "--config", str(config))
    assert code == 1 and "dead entries need staff" in out
    (dead,) = listing(capsys, config)["entries"]
    assert dead["state"] == "dead" and dead["attempts"] == entry["attempts"] + 1

    # drop: never without a terminal to ask on (or --yes) ...
    blind = kiosk("outbox", "drop", str(dead["id"]), "--config", str(config),
                  stdin=subprocess.DEVNULL)  # fmt: skip
    assert blind.returncode == 2 and "--yes" in blind.stderr
    # ... not when the operator types another id ...
    wrong = drop_on_a_terminal(config, dead["id"], str(dead["id"] + 1))
    assert wrong.returncode == 1, wrong.stderr
    assert "type the entry id to confirm" in wrong.stderr and "not dropped" in wrong.stderr
    assert [e["id"] for e in listing(capsys, config)["entries"]] == [dead["id"]]
    assert audit(state_db) == []
    # ... and for good, audited, when they type its id.
    confirmed = drop_on_a_terminal(config, dead["id"], str(dead["id"]))
    assert confirmed.returncode == 0, confirmed.stderr
    assert f"dropped entry {dead['id']} (checkIn ci-j-dirty, was dead)" in confirmed.stdout
    assert listing(capsys, config)["entries"] == []
    ((actor, action, detail),) = audit(state_db)
    assert actor.endswith(pwd.getpwuid(os.geteuid()).pw_name) and action == "outbox drop"
    assert detail == f"entry {dead['id']} checkIn ci-j-dirty was dead"
    assert run(capsys, "outbox", "drain", "--config", str(config))[0] == 0
    assert stay_states(server, order_id) == [BOOKED]  # a dead write is never applied


# --- no back-end URL, no state yet ----------------------------------------------------------


def test_drain_needs_a_backend_url_and_nothing_is_created_without_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    embedded = write_config(tmp_path, "")
    code = main(["outbox", "drain", "--config", str(embedded)])
    assert code == 2
    assert "drain needs a back-end URL" in capsys.readouterr().err

    code, out = run(capsys, "outbox", "list", "--config", str(embedded), "--json")
    assert code == 0 and json.loads(out) == {
        "counts": {"pending": 0, "in_flight": 0, "dead": 0},
        "entries": [],
    }
    assert not (tmp_path / "state").exists()  # a read creates no state directory
    assert main(["outbox", "drop", "1", "--yes", "--config", str(embedded)]) == 1
    assert main(["outbox", "list", "--config", str(tmp_path / "none.toml")]) == 2
    assert "no config file" in capsys.readouterr().err
