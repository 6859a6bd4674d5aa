"""``kiosk play``: one guest script through the real journey, the kiosk assembled from a
config file, against the property simulator over loopback (as an external back-end), or
the embedded one.

The helpers here (a config file, the demo property, running ``kiosk``) serve the other
``kiosk`` operator command tests too (test_cli_outbox, test_cli_payments).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from kiosk.sim.demo import seed_demo, write_manifest
from kiosk.sim.pms.store import BOOKED, CHECKED_IN
from kiosk.sim.server import SimServer
from tests.conftest import SIM_TOKEN

pytestmark = pytest.mark.timeout(60)

QR_KEY = "play-test-qr-key"
TIMEZONE = "Asia/Shanghai"
KIOSK_REF = "kiosk-ref:"  # kiosk/backends/pms.py REFERENCE_TAG: the kiosk's bills carry it

# The balance_due guest, the short way: register, pay (approved), one card, receipt.
BALANCE_DUE = {
    "name": "balance due, paid at once",
    "max_seconds": 30,
    "actions": [
        {"on": "attract", "tap": "start"},
        {"on": "language", "language": "en"},
        {"on": "scan", "scan": "@balance_due"},
        {"on": "summary", "tap": "continue"},
        {"on": "register", "type": "Wei Wang"},
        {"on": "register", "tap": "passport"},
        {"on": "register", "type": "E12345678"},
        {"on": "payment", "pay": "approve"},
        {"on": "keys", "tap": "1"},
        {"on": "receipt", "tap": "continue"},
        {"on": "done", "tap": "finish"},
    ],
    "expect": {"outcome": "checked_in", "cards": 1, "payments": 1, "voided": 0},
}
MALFORMED = {
    "name": "a strange code",
    "actions": [
        {"on": "attract", "tap": "start"},
        {"on": "language", "language": "en"},
        {"on": "scan", "scan": "WIFI:S:lobby;T:WPA;P:hunter2;;"},
        {"on": "refusal", "tap": "finish"},
    ],
    "expect": {"outcome": "refused:malformed_code"},
}


def write_config(folder: Path, base_url: str, token: str = SIM_TOKEN) -> Path:
    """A kiosk config: the back-end at ``base_url``, state in ``folder/state``, simulated
    devices without their human-scale delays, writes retried fast."""
    path = folder / "kiosk.toml"
    path.write_text(
        f"""
[backend]
kind = "pms"
base_url = "{base_url}"
token = "{token}"
timeout_s = 5
[state]
dir = "{folder / "state"}"
retry_base_s = 0.05
retry_cap_s = 0.5
relay_idle_s = 0.2
[sim]
seed = 1
[qr]
signing_key = "{QR_KEY}"
[journey]
timezone = "{TIMEZONE}"
[devices.payment]
sim_delay_factor = 0
[devices.dispenser]
sim_delay_scale = 0
[devices.printer]
sim_folder = "{folder / "receipts"}"
""",
        encoding="utf-8",
    )
    return path


@contextmanager
def demo_property(folder: Path) -> Iterator[tuple[SimServer, dict[str, Any]]]:
    """The demo property on a simulator over loopback (real time), and its manifest."""
    with SimServer(folder / "sim.sqlite", SIM_TOKEN, seed=7) as server:
        demo = seed_demo(server, seed=1, timezone=TIMEZONE)
        manifest = write_manifest(folder / "sim" / "manifest.json", server, demo, QR_KEY.encode())
        yield server, manifest


def arrival(manifest: dict[str, Any], case: str) -> dict[str, Any]:
    return next(a for a in manifest["arrivals"] if a["case"] == case)


def kiosk(*argv: str, timeout: float = 45, **kw: Any) -> subprocess.CompletedProcess[str]:
    """The ``kiosk`` command as its own process."""
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", *argv],
        capture_output=True, text=True, timeout=timeout, **kw,
    )  # fmt: skip


def write_script(folder: Path, script: dict[str, Any], name: str = "guest.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(script), encoding="utf-8")
    return path


def stay_states(server: SimServer, order_id: int) -> list[int]:
    with server.db.transaction() as conn:
        rows = conn.execute(
            "SELECT accom_status FROM pms_accom WHERE order_id = ?", (order_id,)
        ).fetchall()
    return [row[0] for row in rows]


def kiosk_bills(server: SimServer, order_id: int) -> list[dict[str, Any]]:
    """The cashier bills the kiosk posted on the order (its reference in the remark)."""
    with server.db.transaction() as conn:
        rows = conn.execute(
            "SELECT amount, remark FROM pms_bill WHERE order_id = ? AND kind = 'cash'"
            " AND remark LIKE ?",
            (order_id, f"%{KIOSK_REF}%"),
        ).fetchall()
    return [dict(row) for row in rows]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[SimServer, dict[str, Any]]]:
    with demo_property(tmp_path) as property_:
        yield property_


# --- against an external back-end ----------------------------------------------------------


def test_plays_the_balance_due_guest_against_the_simulator(
    tmp_path: Path, demo: tuple[SimServer, dict[str, Any]]
) -> None:
    server, manifest = demo
    config = write_config(tmp_path, server.url)
    order_id = arrival(manifest, "balance_due")["order_id"]
    assert stay_states(server, order_id) == [BOOKED]

    done = kiosk(
        "play", "--config", str(config), "--script", str(write_script(tmp_path, BALANCE_DUE)),
        "--manifest", str(tmp_path / "sim" / "manifest.json"), "--json",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["passed"] is True and result["failures"] == []
    assert result["outcome"] == "checked_in"
    assert len(result["payments"]) == 1 and result["voided"] == []
    assert len(result["cards"]) == 1 and result["receipt"] == "printed"
    assert {"steps", "language", "unresolved", "unrecorded", "rejected_cards"} <= set(result)
    # The back-end: the stay checked in, the balance on one cashier bill of the kiosk's.
    assert stay_states(server, order_id) == [CHECKED_IN]
    (bill,) = kiosk_bills(server, order_id)
    assert bill["amount"] == "676.00"
    assert result["payments"][0] in bill["remark"]
    # The kiosk's state: the same directory as ``kiosk run``, the terminal's journal in it.
    state = tmp_path / "state"
    assert (state / "kiosk.sqlite").is_file() and (state / "payment-sim.sqlite").is_file()
    # No guest data on stdout: not the name typed, nor the ID number.
    assert "Wei Wang" not in done.stdout and "E12345678" not in done.stdout


def test_unmet_expectations_exit_1_with_the_failures(
    tmp_path: Path, demo: tuple[SimServer, dict[str, Any]]
) -> None:
    server, _ = demo
    config = write_config(tmp_path, server.url)
    wrong = {**MALFORMED, "expect": {"outcome": "checked_in"}}

    done = kiosk("play", "--config", str(config), "--script", str(write_script(tmp_path, wrong)))

    assert done.returncode == 1, done.stderr
    summary, *failures = done.stdout.splitlines()
    assert summary.startswith("refused:malformed_code: payments 0, cards 0, receipt ")
    assert "NOT as expected" in summary
    assert failures == ["  outcome: expected checked_in, got refused:malformed_code"]


@pytest.mark.parametrize(
    ("script", "says"),
    [
        # "@balance_due" without --manifest: no value for it
        (BALANCE_DUE, "no value '@balance_due'"),
        # a move for another screen than the one the journey shows
        ({**MALFORMED, "actions": [{"on": "payment", "tap": "start"}]}, "expected the payment"),
        ({"name": "no expectation", "actions": []}, "expect"),
    ],
)
def test_script_errors_exit_2(
    tmp_path: Path, demo: tuple[SimServer, dict[str, Any]], script: dict, says: str
) -> None:
    server, _ = demo
    config = write_config(tmp_path, server.url)
    done = kiosk("play", "--config", str(config), "--script", str(write_script(tmp_path, script)))
    assert done.returncode == 2, done.stdout + done.stderr
    assert says in done.stderr
    assert done.stdout == ""


def test_config_errors_exit_2(tmp_path: Path) -> None:
    script = str(write_script(tmp_path, MALFORMED))
    missing = kiosk("play", "--config", str(tmp_path / "none.toml"), "--script", script)
    assert missing.returncode == 2 and "no config file" in missing.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[backend]\nbase_url = "ftp://example"\n', encoding="utf-8")
    invalid = kiosk("play", "--config", str(bad), "--script", script)
    assert invalid.returncode == 2 and "config error: backend.base_url" in invalid.stderr


def test_a_killed_run_is_settled_by_the_next(
    tmp_path: Path, demo: tuple[SimServer, dict[str, Any]]
) -> None:
    """kill -9 between the payment and the card: the next ``kiosk play`` on the same state
    directory voids the payment at the terminal before its own guest."""
    server, _ = demo
    config = write_config(tmp_path, server.url)
    stalls = {**BALANCE_DUE, "max_seconds": 120}
    stalls["actions"] = [*BALANCE_DUE["actions"][:8], {"wait": 60}, *BALANCE_DUE["actions"][8:]]
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "play", "--config", str(config),
         "--script", str(write_script(tmp_path, stalls, "stalls.json")),
         "--manifest", str(tmp_path / "sim" / "manifest.json")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        approved = _wait_for_payment(tmp_path / "state" / "kiosk.sqlite", "approved", proc)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    order_id = arrival(demo[1], "balance_due")["order_id"]
    assert kiosk_bills(server, order_id) == []  # no card reached the guest: nothing booked

    done = kiosk(
        "play", "--config", str(config), "--script", str(write_script(tmp_path, MALFORMED))
    )

    assert done.returncode == 0, done.stderr
    assert f"payment left open by an earlier run resolved: {approved}: voided" in done.stderr
    with sqlite3.connect(tmp_path / "state" / "kiosk.sqlite") as db:
        (state,) = db.execute(
            "SELECT state FROM payments WHERE reference = ?", (approved,)
        ).fetchone()
    assert state == "voided"
    assert kiosk_bills(server, order_id) == []


def _wait_for_payment(db_path: Path, state: str, proc: subprocess.Popen[str]) -> str:
    """The reference of the first payment in ``state`` in the kiosk's state database."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        if db_path.is_file():
            try:
                with sqlite3.connect(db_path, timeout=5) as db:
                    row = db.execute(
                        "SELECT reference FROM payments WHERE state = ?", (state,)
                    ).fetchone()
            except sqlite3.OperationalError:  # created, its tables not yet
                row = None
            if row is not None:
                return str(row[0])
        time.sleep(0.05)
    raise AssertionError(f"no payment reached {state}")


# --- the embedded simulator ----------------------------------------------------------------


def test_the_embedded_simulator_writes_the_manifest_it_plays_with(tmp_path: Path) -> None:
    config = write_config(tmp_path, "")
    prepaid = {
        **BALANCE_DUE,
        # Nothing due, and the guest on file: no payment, no registration.
        "actions": [a for a in BALANCE_DUE["actions"] if "pay" not in a and a["on"] != "register"],
        "expect": {"outcome": "checked_in", "cards": 1, "payments": 0},
    }
    prepaid["actions"][2] = {"on": "scan", "scan": "@prepaid"}
    manifest = tmp_path / "out" / "manifest.json"

    done = kiosk(
        "play", "--config", str(config), "--script", str(write_script(tmp_path, prepaid)),
        "--manifest", str(manifest),
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("checked_in: payments 0, cards 1, receipt printed (as expected)")
    written = json.loads(manifest.read_text(encoding="utf-8"))
    assert arrival(written, "prepaid")["qr_payload"]
    # The simulator's state lives in the state directory: the next run finds the guest in.
    assert (tmp_path / "state" / "sim.sqlite").is_file()
    returns = {
        "name": "the same guest again",
        "actions": [*prepaid["actions"][:3], {"on": "refusal", "tap": "finish"}],
        "expect": {"outcome": "refused:already_checked_in"},
    }
    again = kiosk(
        "play", "--config", str(config), "--script", str(write_script(tmp_path, returns)),
        "--json",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["outcome"] == "refused:already_checked_in"
