"""``kiosk hw scan``: still images in-process, the live camera in a real subprocess."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from hardware.qr.render import render_qr
from kiosk.cli import main
from tests.hardware.qr_corpus import empty_frames, qr_frames

pytestmark = pytest.mark.timeout(60)

REPO = Path(__file__).resolve().parents[2]
BOOKING = "https://hotel.example/checkin?v=1&t=pms&order=42&no=202603041332075890"


def _code_image(path: Path, text: str) -> Path:
    frame = np.full((480, 640), 225, np.uint8)
    modules = render_qr(text, module_px=1).shape[0]
    code = render_qr(text, module_px=min(5, 440 // modules))
    frame[20 : 20 + code.shape[0], 120 : 120 + code.shape[1]] = code
    cv2.imwrite(str(path), frame)
    return path


@pytest.mark.parametrize("decoder", [[], ["--decoder", "pyzbar"]])
def test_scan_images_prints_path_tab_payload_per_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], decoder: list[str]
) -> None:
    camera_frame = qr_frames("tilted", 1, seed=3)[0]
    a = tmp_path / "a.png"
    cv2.imwrite(str(a), camera_frame.image)
    b = tmp_path / "b.png"
    cv2.imwrite(str(b), empty_frames("clutter", 1)[0].image)
    c = _code_image(tmp_path / "c.jpg", BOOKING)
    assert main(["hw", "scan", *decoder, "--image", str(a), str(b), str(c)]) == 0
    out = capsys.readouterr().out
    assert out == f"{a}\t{camera_frame.payload}\n{b}\t\n{c}\t{BOOKING}\n"


def test_scan_images_reports_unreadable_files_and_refused_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    refused = _code_image(tmp_path / "refused.png", "x" * 600)  # over the 512-byte bound
    assert main(["hw", "scan", "--image", str(broken), str(refused)]) == 1
    captured = capsys.readouterr()
    assert captured.out == f"{broken}\t\n{refused}\t\n"
    assert "not an image" in captured.err and "too_long" in captured.err


def test_scan_live_prints_payloads_until_interrupted(tmp_path: Path) -> None:
    image = _code_image(tmp_path / "code.png", BOOKING)
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[devices.camera]\nsource = "files"\npaths = ["{image}"]\nfps = 30\ndebounce_s = 30\n'
    )
    command = [sys.executable, "-c", "import sys; from kiosk.cli import main; sys.exit(main())"]
    process = subprocess.Popen(
        [*command, "hw", "scan", "--config", str(config)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == BOOKING + "\n"  # blocks until the first code
        time.sleep(0.3)  # the same code held in view: no second line within the debounce
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert out == ""
    assert "scanning: files camera, zxing" in err
