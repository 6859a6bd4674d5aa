"""``kiosk hw list`` and ``kiosk hw print-test`` through the real command line entry point,
with the simulated devices (and a camera playing a real image file)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from hardware.config import DevicesConfig
from hardware.health import HealthLevel
from kiosk.cli import _devices, main
from kiosk.cli._devices import configured, missing, probe_all

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The default config keeps simulator state under ./var: keep it in tmp_path.
    monkeypatch.chdir(tmp_path)


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(
        f'[devices.payment]\nsim_journal = "{tmp_path / "pay.sqlite"}"\n{text}', encoding="utf-8"
    )
    return path


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["hw", "list", "--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_list_json_has_every_configured_device(capsys: pytest.CaptureFixture[str]) -> None:
    body = run_json(capsys)
    devices = {d["name"]: d for d in body["devices"]}

    expected = [family.name for family in configured(DevicesConfig())]
    assert [d["name"] for d in body["devices"]] == expected
    assert {"camera", "payment"} <= devices.keys()
    assert body["not_in_build"] == missing(DevicesConfig())
    for device in body["devices"]:
        assert device["level"] == "ok", device
        assert device["driver"] == "sim"
    assert devices["camera"]["detail"] == "frames 640x480"
    assert devices["payment"]["detail"] == "simulated terminal ready"
    assert devices["payment"]["metrics"]["transactions"] == 0


def test_list_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hw", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["DEVICE", "DRIVER", "LEVEL", "DETAIL"]
    payment = next(line for line in lines if line.startswith("payment "))
    assert payment.split()[:3] == ["payment", "sim", "OK"]


def test_camera_playing_an_image_reports_its_frames(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = tmp_path / "frame.png"
    cv2.imwrite(str(image), np.full((240, 320, 3), 200, np.uint8))
    config = write_config(tmp_path, f'[devices.camera]\nsource = "files"\npaths = ["{image}"]\n')

    camera = next(
        d for d in run_json(capsys, "--config", str(config))["devices"] if d["name"] == "camera"
    )
    assert (camera["driver"], camera["level"], camera["detail"]) == (
        "files",
        "ok",
        "frames 320x240",
    )


def test_a_camera_that_cannot_open_is_a_fault(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path, f'[devices.camera]\nsource = "files"\npaths = ["{tmp_path / "none"}"]\n'
    )
    devices = {d["name"]: d for d in run_json(capsys, "--config", str(config))["devices"]}
    assert devices["camera"]["level"] == "fault"
    assert "CameraError" in devices["camera"]["detail"]
    assert devices["payment"]["level"] == "ok"  # one broken device does not hide the others


def test_a_device_that_never_answers_is_a_fault_not_a_hang(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A driver stuck in a call cannot be produced by the simulators: the opener is
    # replaced by one that blocks until the test ends.
    release = threading.Event()
    monkeypatch.setattr(_devices, "open_device", lambda family, devices: release.wait(30))
    started = time.monotonic()
    try:
        reports = probe_all(DevicesConfig(), timeout_s=0.3)
    finally:
        release.set()
    assert time.monotonic() - started < 2
    assert reports and all(r.health.level is HealthLevel.FAULT for r in reports)
    assert reports[0].health.detail == "no answer within 0.3 s"


def test_print_test_writes_a_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "printer" in {f.name for f in configured(DevicesConfig())}  # every build has one
    folder = tmp_path / "receipts"
    config = write_config(tmp_path, f'[devices.printer]\nsim_folder = "{folder}"\n')

    assert main(["hw", "print-test", "--config", str(config)]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("test receipt printed: ")
    png = Path(out.removeprefix("test receipt printed: "))
    assert png.parent == folder and png.exists()
    with Image.open(png) as image:
        assert image.format == "PNG" and image.height > 200
        assert image.convert("L").getextrema()[0] < 50  # something dark was printed
