"""kill -9 of a real ``kiosk play`` process at every step boundary of a check-in (and at
random moments), with an external ``kiosk sim`` that keeps running: the guest comes back,
the outbox is drained, and the books must be exactly right.

- each approved payment is either voided or on the folio, and on the folio once;
- the guest paid once (net) and holds a key, or paid nothing and holds none;
- the stay is checked in once, each card on record once, nothing left unsettled.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from kiosk.api.pms import PmsClient
from kiosk.api.pms_types import (
    AccomDetailRequest,
    AccomRef,
    AccomStatus,
    BillListRequest,
    BillListType,
)
from tests.unit.test_cli_play import BALANCE_DUE

pytestmark = pytest.mark.timeout(120)

KIOSK = [sys.executable, "-m", "kiosk.cli"]
TOKEN = "crash-test-token"
QR_KEY = "crash-qr-key"

# The balance_due guest of the play tests; one card a room here, so no card count asked.
FIRST_VISIT = [a for a in BALANCE_DUE["actions"] if a.get("on") != "keys"]
# The guest comes back and answers only what is still asked.
SECOND_VISIT = [
    *FIRST_VISIT[:3],  # attract, language, scan
    *({**action, "optional": True} for action in FIRST_VISIT[3:]),
    {"on": "refusal", "tap": "finish", "optional": True},
]

PRESENTED = "SELECT COALESCE(SUM(cards_presented), 0) FROM journeys"

# A kill point: the moment the kiosk's own state database shows this.
Probe = Callable[[sqlite3.Connection], bool]


def step_is(step: str) -> Probe:
    return lambda db: bool(db.execute("SELECT 1 FROM journeys WHERE step = ?", (step,)).fetchone())


def payment_is(state: str) -> Probe:
    return lambda db: bool(
        db.execute("SELECT 1 FROM payments WHERE state = ?", (state,)).fetchone()
    )


BOUNDARIES: dict[str, Probe] = {
    "registered": step_is("updateAccomTenant"),
    "terminal_asked": payment_is("requested"),
    "paid_before_check_in": payment_is("approved"),
    "checked_in": step_is("checkIn"),
    "card_recorded": step_is("addAccomCard"),
    "card_presented": step_is("card_presented"),
    "folio_entry": step_is("cashier"),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """An external property simulator (a real process), the manifest of its demo property."""
    manifest = tmp_path / "manifest.json"
    process = subprocess.Popen(
        [*KIOSK, "sim", "--port", str(free_port()), "--db", str(tmp_path / "sim.sqlite"),
         "--token", TOKEN, "--qr-key", QR_KEY, "--timezone", "Asia/Shanghai",
         "--manifest", str(manifest),
         "--latency-ms", "60"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not manifest.exists():
            assert process.poll() is None, process.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the simulator did not start"
            time.sleep(0.05)
        time.sleep(0.1)  # the manifest is written whole before it appears
        yield json.loads(manifest.read_text()) | {"path": str(manifest)}
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)


def write_config(folder: Path, base_url: str) -> Path:
    config = folder / "kiosk.toml"
    config.write_text(
        f"""
[backend]
base_url = "{base_url}"
token = "{TOKEN}"
timeout_s = 2.0
read_retries = 1

[state]
dir = "{folder / "state"}"
retry_base_s = 0.1
retry_cap_s = 0.5
relay_idle_s = 0.2

[qr]
signing_key = "{QR_KEY}"

[journey]
timezone = "Asia/Shanghai"
max_cards_per_room = 1
view_timeout_s = 10
done_timeout_s = 1
card_take_timeout_s = 2
payment_status_interval_s = 0.05

[devices.payment]
sim_delay_factor = 0.3

[devices.dispenser]
sim_delay_scale = 1.0
"""
    )
    return config


def script(folder: Path, name: str, actions: list[dict], outcome: str) -> Path:
    path = folder / f"{name}.json"
    body = {"name": name, "actions": actions, "expect": {"outcome": outcome}, "max_seconds": 60}
    path.write_text(json.dumps(body))
    return path


def play(config: Path, guest: Path, manifest: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*KIOSK, "play", "--config", str(config), "--script", str(guest),
         "--manifest", manifest, "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def kill_when(process: subprocess.Popen[bytes], db_path: Path, probe: Probe) -> bool:
    """kill -9 ``process`` as soon as its state database satisfies ``probe``; False if the
    run ended first."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if db_path.exists():
            try:
                db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=0.2)
                try:
                    hit = probe(db)
                finally:
                    db.close()
            except sqlite3.Error:
                hit = False  # the schema is still being made
            if hit:
                process.kill()
                process.wait(10)
                return True
        time.sleep(0.005)
    process.kill()
    raise AssertionError("the kill point was never reached")


def kill_after(seconds: float) -> Callable[[subprocess.Popen[bytes]], bool]:
    """A killer that kill -9s the process ``seconds`` after it started, wherever it is then;
    False if the run ended first."""

    def kill(process: subprocess.Popen[bytes]) -> bool:
        try:
            process.wait(seconds)
            return False
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
            return True

    return kill


def finish(process: subprocess.Popen[bytes]) -> dict[str, Any]:
    out, err = process.communicate(timeout=90)
    assert process.returncode in (0, 1), err.decode()[-3000:]
    text = out.decode()
    return json.loads(text[text.index("{") :])


async def _pms_books(sim: dict[str, Any]) -> tuple[Any, list[str], list[Any]]:
    order_id = next(a["order_id"] for a in sim["arrivals"] if a["case"] == "balance_due")
    async with PmsClient(sim["base_url"], TOKEN) as client:
        detail = await client.get_accom_detail(AccomDetailRequest(order_id=order_id))
        accom = detail.accom_list[0]
        cards = await client.get_all_accom_card(AccomRef(accom_id=accom.accom_id))
        bills = await client.get_bill_list(
            BillListRequest(
                order_id=order_id, list_type=BillListType.CASHIER, page_no=1, page_size=100
            )
        )
    return accom, [c.card_uid for c in cards], bills.bills


def books(sim: dict[str, Any], state: Path) -> dict[str, Any]:
    """What the hotel's books and the kiosk's own records say, after everything settled."""
    accom, cards, bills = asyncio.run(_pms_books(sim))
    terminal = sqlite3.connect(state / "payment-sim.sqlite")
    sales = terminal.execute("SELECT reference, outcome, amount FROM transactions").fetchall()
    terminal.close()
    kiosk = sqlite3.connect(state / "kiosk.sqlite")
    payments = kiosk.execute("SELECT reference, state FROM payments").fetchall()
    presented = kiosk.execute("SELECT COALESCE(SUM(cards_presented), 0) FROM journeys").fetchone()[
        0
    ]
    outbox = dict(kiosk.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())
    kiosk.close()
    return {
        "status": accom.accom_status,
        "cards": cards,
        "kiosk_bills": [b for b in bills if "kiosk-ref:" in b.remark],
        "sales": sales,
        "payments": dict(payments),
        "presented": presented,
        "outbox": outbox,
    }


def check_books(found: dict[str, Any]) -> None:
    approved = [ref for ref, outcome, _ in found["sales"] if outcome == "approved"]
    voided = [ref for ref, outcome, _ in found["sales"] if outcome == "voided"]
    bills = found["kiosk_bills"]
    # Never money without a key, never a key without money: the guest paid once, net.
    assert len(approved) == 1, found["sales"]
    assert found["presented"] >= 1
    # The one kept payment is on the folio exactly once; no voided one is.
    remarks = [b.remark for b in bills]
    assert sum(approved[0] in r for r in remarks) == 1, remarks
    assert not any(ref in r for ref in voided for r in remarks), remarks
    assert bills[0].amount.copy_abs() == Decimal(
        next(amount for ref, _, amount in found["sales"] if ref == approved[0])
    )
    # Checked in once, each card on record once, nothing open in the kiosk's books.
    assert found["status"] is AccomStatus.CHECKED_IN
    assert len(found["cards"]) == len({c.upper() for c in found["cards"]}) >= 1
    settled = {"recorded", "voided", "declined", "cancelled", "unknown_reference"}
    assert set(found["payments"].values()) <= settled  # unknown: it never reached the terminal
    assert found["outbox"].get("pending", 0) == found["outbox"].get("dead", 0) == 0


def drain(config: Path) -> None:
    done = subprocess.run(
        [*KIOSK, "outbox", "drain", "--config", str(config), "--deadline", "30"],
        capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout.decode(), done.stderr.decode())


def crash_and_return(sim: dict[str, Any], folder: Path, kill: Callable[[Any], bool]) -> None:
    config = write_config(folder, sim["base_url"])
    state = folder / "state"
    first = play(config, script(folder, "first", FIRST_VISIT, "checked_in"), sim["path"])
    killed = kill(first)
    if not killed:  # the run ended before the kill point: it must have checked in
        assert finish(first)["outcome"] == "checked_in"
    presented = 0  # killed before the state database was made: nothing was presented
    if (state / "kiosk.sqlite").exists():
        db = sqlite3.connect(state / "kiosk.sqlite")
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'journeys'").fetchone():
            presented = db.execute(PRESENTED).fetchone()[0]
        db.close()
    expected = "refused:already_checked_in" if presented else "checked_in"
    second = finish(play(config, script(folder, "second", SECOND_VISIT, expected), sim["path"]))
    assert second["outcome"] == expected, second
    drain(config)
    check_books(books(sim, state))


@pytest.mark.parametrize("boundary", list(BOUNDARIES))
def test_kill_9_at_a_step_boundary(sim: dict[str, Any], tmp_path: Path, boundary: str) -> None:
    state_db = tmp_path / "state" / "kiosk.sqlite"
    crash_and_return(sim, tmp_path, lambda p: kill_when(p, state_db, BOUNDARIES[boundary]))


@pytest.mark.parametrize("seed", range(3))
def test_kill_9_at_a_random_moment(sim: dict[str, Any], tmp_path: Path, seed: int) -> None:
    crash_and_return(sim, tmp_path, kill_after(random.Random(seed).uniform(1.0, 6.0)))
