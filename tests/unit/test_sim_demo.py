"""The seeded demo property, its manifest and QR codes, and the ``kiosk sim`` command."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import zxingcpp
from PIL import Image

from kiosk.api import pms_types as t
from kiosk.api.pms import PmsClient
from kiosk.qr_payload import parse_payload
from kiosk.sim.demo import ARRIVALS, IN_HOUSE, LEAVING, seed_demo, write_manifest
from kiosk.sim.server import SimServer
from tests.conftest import SIM_NOW, SIM_TOKEN, SimClock

KEY = b"demo-key-for-tests"


@pytest.fixture
def demo(sim_server: SimServer) -> dict:
    return seed_demo(sim_server, seed=3)


async def test_every_arrival_case_is_in_the_state_it_names(sim_server, demo) -> None:
    cases = {a["case"]: a for a in demo["arrivals"]}
    assert set(cases) == {a.case for a in ARRIVALS}
    async with PmsClient(sim_server.url, SIM_TOKEN) as client:
        details = {
            case: await client.get_accom_detail(t.AccomDetailRequest(order_id=a["order_id"]))
            for case, a in cases.items()
        }
    statuses = {case: [s.accom_status for s in d.accom_list] for case, d in details.items()}
    assert statuses["cancelled"] == [t.AccomStatus.CANCELLED]
    assert statuses["already_checked_in"] == [t.AccomStatus.CHECKED_IN]
    assert statuses["two_rooms"] == [t.AccomStatus.BOOKED] * 2
    assert [s.room_id for s in details["unassigned_room"].accom_list] == [0]
    due = {case: d.bill_summary.need_pay_amount for case, d in details.items()}
    assert due["prepaid"] == Decimal("0.00")
    assert due["balance_due"] == Decimal("676.00")  # two nights at 388.00, 100.00 paid
    today = SIM_NOW.date()
    starts = {case: d.accom_list[0].checkin_start_time.date() for case, d in details.items()}
    assert starts["tomorrow"] > starts["prepaid"] >= today
    async with PmsClient(sim_server.url, SIM_TOKEN) as client:
        dirty = details["dirty_room"].accom_list[0]
        rooms = await client.get_room_status(
            t.RoomStatusRequest(
                accom_id=dirty.accom_id,
                room_type_id=dirty.room_type_id,
                start_date=dirty.checkin_start_time,
                end_date=dirty.checkin_end_time,
            )
        )
    assert [r.is_dirty for r in rooms if r.room_id == dirty.room_id] == [t.YesNo.YES]


def test_seeding_is_deterministic_and_happens_once(tmp_path: Path) -> None:
    def seeded(name: str) -> dict:
        with SimServer(tmp_path / name, SIM_TOKEN, clock=SimClock()) as server:
            return seed_demo(server, seed=5)

    first = seeded("a.sqlite")
    assert seeded("b.sqlite") == first
    # The same database again (a restart): the stored demo, nothing seeded twice.
    assert seeded("a.sqlite") == first
    with (
        SimServer(tmp_path / "a.sqlite", SIM_TOKEN, clock=SimClock()) as server,
        server.db.transaction() as conn,
    ):
        orders = conn.execute("SELECT COUNT(*) FROM pms_order").fetchone()[0]
    # one order per arrival and per in-house guest, plus the booking after extend_taken
    later = sum(h.booked_after for h in IN_HOUSE)
    assert orders == len(ARRIVALS) + len(IN_HOUSE) + len(LEAVING) + later


def test_manifest_lists_every_case_and_each_png_decodes_to_its_payload(
    sim_server, demo, tmp_path
) -> None:
    manifest = write_manifest(tmp_path / "m" / "manifest.json", sim_server, demo, KEY)
    on_disk = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert on_disk == manifest
    assert manifest["base_url"] == sim_server.url and manifest["pms_id"] == 1
    for entry in manifest["arrivals"] + manifest["booking_codes"]:
        image = Image.open(tmp_path / "m" / entry["qr_png"])
        # QR only: a QR's modules can also read as a short 1-D barcode (one payload did).
        (code,) = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        assert code.text == entry["qr_payload"]
        payload = parse_payload(entry["qr_payload"], signing_key=KEY, now=SIM_NOW)
        assert payload.signed is entry.get("signed", True)
    unsigned = [a for a in manifest["arrivals"] if not a["signed"]]
    assert [a["case"] for a in unsigned] == ["unsigned_qr"]
    assert set(unsigned[0]["second_factor"]) == {"surname", "phone_last4"}
    assert {c["case"] for c in manifest["booking_codes"]} >= {"oa_gym", "oa_code_already_used"}


def test_kiosk_sim_command_serves_writes_the_manifest_and_keeps_state(tmp_path: Path) -> None:
    db, manifest_path = tmp_path / "sim.sqlite", tmp_path / "out" / "manifest.json"

    def run_once() -> dict:
        manifest_path.unlink(missing_ok=True)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kiosk.cli",
                "sim",
                "--port",
                "0",
                "--db",
                str(db),
                "--token",
                "tok",
                "--manifest",
                str(manifest_path),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while not manifest_path.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            manifest = json.loads(manifest_path.read_text())
            reply = httpx.post(
                manifest["base_url"] + "/api/v1/pmsRoom/getAllRoomList",
                json={"pms_id": 1},
                headers={"Authorization": "Bearer tok"},
            ).json()
            assert sum(len(rt["rooms"]) for rt in reply["data"]["list"]) >= 12
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
        return manifest

    first, second = run_once(), run_once()
    assert [a["order_id"] for a in second["arrivals"]] == [a["order_id"] for a in first["arrivals"]]
