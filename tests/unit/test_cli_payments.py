"""``kiosk payments list``: the payment log as ``kiosk play`` left it, against the property
simulator over loopback: a declined card, then an approved one booked on the folio."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.cli import main
from kiosk.sim.server import SimServer
from tests.unit.test_cli_play import (
    BALANCE_DUE,
    arrival,
    demo_property,
    kiosk,
    kiosk_bills,
    write_config,
    write_script,
)

pytestmark = pytest.mark.timeout(60)

COLUMNS = ["reference", "booking", "step", "kind", "amount", "currency", "state", "updated_at"]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[SimServer, dict[str, Any]]]:
    with demo_property(tmp_path) as property_:
        yield property_


def test_lists_the_payments_a_played_guest_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], demo: tuple[SimServer, dict[str, Any]]
) -> None:
    server, manifest = demo
    config = write_config(tmp_path, server.url)
    declined_first = {**BALANCE_DUE, "expect": {"outcome": "checked_in", "payments": 1}}
    actions = list(BALANCE_DUE["actions"])
    actions[7:8] = [
        {"on": "payment", "pay": "decline"},
        {"on": "payment", "pay": "approve", "choice": "other_card"},
    ]
    declined_first["actions"] = actions
    code = main(
        ["play", "--config", str(config), "--script", str(write_script(tmp_path, declined_first)),
         "--manifest", str(tmp_path / "sim" / "manifest.json"), "--json"]
    )  # fmt: skip
    played = json.loads(capsys.readouterr().out)
    assert code == 0, played["failures"]
    (approved,) = played["payments"]

    code = main(["payments", "list", "--config", str(config), "--json"])

    assert code == 0
    rows = json.loads(capsys.readouterr().out)["payments"]
    order_id = str(arrival(manifest, "balance_due")["order_id"])
    assert all(list(row) == COLUMNS for row in rows)
    assert [(r["booking"], r["step"], r["kind"], r["amount"], r["currency"]) for r in rows] == [
        (order_id, "balance", "sale", "676.00", "CNY")
    ] * 2
    assert rows[1]["reference"] == approved
    # The declined card, then the approved one, on the folio ("recorded") once.
    assert [r["state"] for r in rows] == ["declined", "recorded"]
    (bill,) = kiosk_bills(server, int(order_id))
    assert approved in bill["remark"] and rows[0]["reference"] not in bill["remark"]

    text = kiosk("payments", "list", "--config", str(config))
    assert text.returncode == 0, text.stderr
    header, *lines = text.stdout.splitlines()
    assert header.split() == [c.upper() for c in COLUMNS]
    assert lines[1].split()[:7] == [approved, order_id, "balance", "sale", "676.00", "CNY",
                                    "recorded"]  # fmt: skip


def test_no_state_yet_is_an_empty_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9")
    assert main(["payments", "list", "--config", str(config), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"payments": []}
    assert "no state database" in captured.err
    assert not (tmp_path / "state").exists()
    assert main(["payments", "list", "--config", str(tmp_path / "none.toml")]) == 2
