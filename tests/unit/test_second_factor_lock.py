"""The second-factor lock across restarts: each guest is a separate ``kiosk play`` process on
one state directory, against the property simulator over loopback. Wrong answers add up
over the processes (a kill -9 loses none); the lock, once made, refuses the next
process's guest at once, and ``kiosk doctor`` (one more process) shows it to staff."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kiosk.sim.pms.store import BOOKED
from tests.unit.test_cli_play import (
    arrival,
    demo_property,
    kiosk,
    stay_states,
    write_config,
    write_script,
)

pytestmark = pytest.mark.timeout(120)


def guest(name: str, answers: list[str], outcome: str) -> dict[str, Any]:
    """The unsigned-QR guest typing ``answers`` as the second factor."""
    start = [
        {"on": "attract", "tap": "start"},
        {"on": "language", "language": "en"},
        {"on": "scan", "scan": "@unsigned_qr"},
    ]
    typed = [{"on": "identity", "type": answer} for answer in answers]
    end = [{"on": "refusal", "tap": "finish"}] if outcome.startswith("refused:") else []
    return {
        "name": name,
        "max_seconds": 30,
        "actions": [*start, *typed, *end],
        "expect": {"outcome": outcome},
    }


def play(folder: Path, config: Path, script: dict[str, Any]) -> dict[str, Any]:
    """One guest in a ``kiosk play`` process of its own; its JSON result."""
    done = kiosk(
        "play", "--config", str(config), "--script", str(write_script(folder, script)),
        "--manifest", str(folder / "sim" / "manifest.json"), "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["passed"] is True, result["failures"]
    return result


def test_wrong_second_factors_lock_the_booking_across_processes(tmp_path: Path) -> None:
    with demo_property(tmp_path) as (server, manifest):
        config = write_config(tmp_path, server.url)
        case = arrival(manifest, "unsigned_qr")
        right = case["second_factor"]["phone_last4"]
        wrong = "0000" if right != "0000" else "1111"

        # 3 wrong (a run's limit), then 2 more in the next process: 5 in all lock it.
        play(tmp_path, config, guest("three wrong", [wrong] * 3, "refused:second_factor_failed"))
        play(tmp_path, config, guest("two more", [wrong] * 2, "refused:second_factor_locked"))
        # A third process: the right answer is not even asked for.
        locked = play(tmp_path, config, guest("the owner", [], "refused:second_factor_locked"))
        assert "identity" not in locked["steps"] and "summary" not in locked["steps"]
        assert stay_states(server, case["order_id"]) == [BOOKED]

        doctor = kiosk("doctor", "--config", str(config), "--json")
        checks = {check["name"]: check for check in json.loads(doctor.stdout)["checks"]}
        assert checks["locks"]["level"] == "warning"
        assert f"second_factor {case['order_id']} until" in checks["locks"]["detail"]
        assert right not in doctor.stdout


def test_right_answer_in_a_later_process_starts_the_count_again(tmp_path: Path) -> None:
    with demo_property(tmp_path) as (server, manifest):
        config = write_config(tmp_path, server.url)
        right = arrival(manifest, "unsigned_qr")["second_factor"]["phone_last4"]
        wrong = "0000" if right != "0000" else "1111"
        play(tmp_path, config, guest("three wrong", [wrong] * 3, "refused:second_factor_failed"))
        owner = guest("the owner", [wrong, right], "cancelled_by_guest")
        owner["actions"].append({"on": "summary", "cancel": True})
        play(tmp_path, config, owner)
        # 4 wrong so far, but a right one between: a full run's 3 are allowed again.
        play(tmp_path, config, guest("three more", [wrong] * 3, "refused:second_factor_failed"))


def test_a_wrong_answer_counts_even_when_the_kiosk_is_killed_right_after(
    tmp_path: Path,
) -> None:
    """Pulling the plug after a wrong guess must not give the guesser a fresh count."""
    with demo_property(tmp_path) as (server, manifest):
        config = write_config(tmp_path, server.url)
        case = arrival(manifest, "unsigned_qr")
        wrong = "0000" if case["second_factor"]["phone_last4"] != "0000" else "1111"
        stalls = guest("one wrong, then nothing", [wrong], "refused:second_factor_failed")
        stalls["actions"].append({"wait": 60})
        stalls["max_seconds"] = 120
        for _ in range(4):  # 4 guesses, each process killed -9 after its one
            proc = subprocess.Popen(
                [sys.executable, "-m", "kiosk.cli", "play", "--config", str(config),
                 "--script", str(write_script(tmp_path, stalls, "stalls.json")),
                 "--manifest", str(tmp_path / "sim" / "manifest.json")],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            counted = failures(tmp_path / "state" / "kiosk.sqlite") + 1
            try:
                wait_for_failures(tmp_path / "state" / "kiosk.sqlite", counted, proc)
            finally:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(10)
        # The 5th wrong answer, in a fresh process, is the one that locks.
        play(tmp_path, config, guest("fifth", [wrong], "refused:second_factor_locked"))


def failures(db_path: Path) -> int:
    """The second factor's count of wrong answers in the kiosk's state database."""
    if not db_path.is_file():
        return 0
    try:
        with sqlite3.connect(db_path, timeout=5) as db:
            row = db.execute(
                "SELECT failures FROM lockouts WHERE scope = 'second_factor'"
            ).fetchone()
    except sqlite3.OperationalError:  # created, its tables not yet
        return 0
    return int(row[0]) if row else 0


def wait_for_failures(db_path: Path, count: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while failures(db_path) < count:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, f"the count never reached {count}"
        time.sleep(0.05)
