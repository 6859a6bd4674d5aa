"""The scanning pipeline with real frame sources: newest frame wins, debounce, preview rate,
prompt stop, and a camera that stops delivering."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from hardware.camera import CameraConfig, CameraError
from hardware.camera.files import FileSource
from hardware.camera.sim import SimCamera
from hardware.health import HealthLevel
from hardware.qr.decoders import ZxingDecoder
from hardware.qr.payload import PayloadRejected, RejectReason
from hardware.qr.pipeline import QrPipeline
from hardware.qr.render import render_qr

pytestmark = pytest.mark.timeout(30)

BOOKING = '{"v":1,"t":"pms","order":42,"no":"202603041332075890"}'
OTHER = "https://hotel.example/checkin?v=1&t=oa&res=r31adc223cc4b3bedb6bd4742dedcfa52&code=bfa3"


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


class SlowIndexDecoder:
    """A decoder that takes ``delay_s`` per frame and records which frame it was given
    (frame i carries i in its first pixel): it stands in for a slow Pi, not for QR decoding."""

    name = "slow"

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.seen: list[int] = []

    def decode(self, image: np.ndarray) -> list[bytes]:
        self.seen.append(int(image[0, 0, 0]))
        time.sleep(self.delay_s)
        return []


class HungCamera:
    """A driver whose read never returns, like a wedged USB camera (cannot be made to
    happen with a real device here); released at the end of the test."""

    name = "hung"

    def __init__(self) -> None:
        self.release = threading.Event()

    def open(self) -> None:
        pass

    def read(self) -> np.ndarray | None:
        self.release.wait()
        return None

    def close(self) -> None:
        pass


def _numbered_frames(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        image = np.zeros((60, 80, 3), np.uint8)
        image[0, 0] = i
        paths.append(folder / f"{i:03d}.png")
        cv2.imwrite(str(paths[-1]), image)
    return paths


def _pipeline(source, decoder, **kwargs) -> tuple[QrPipeline, list[str]]:
    codes: list[str] = []
    return QrPipeline(source, decoder, on_code=codes.append, **kwargs), codes


def test_a_slow_decoder_gets_the_newest_frame_and_no_backlog(tmp_path: Path) -> None:
    source = FileSource(_numbered_frames(tmp_path, 60), fps=200, loop=False)
    decoder = SlowIndexDecoder(delay_s=0.05)
    pipeline, _ = _pipeline(source, decoder)
    pipeline.start()
    try:
        wait_until(lambda: pipeline.stats.frames == 60)
        wait_until(lambda: pipeline.stats.decoded + pipeline.stats.dropped == 60)
    finally:
        assert pipeline.stop()
    stats = pipeline.stats
    # 60 frames in 0.3 s against 50 ms per decode: most are dropped, each one counted.
    assert stats.dropped >= 40 and stats.decoded == len(decoder.seen) <= 20
    assert decoder.seen == sorted(set(decoder.seen))  # never an older frame after a newer one
    assert decoder.seen[-1] == 59  # the newest frame is never the one lost


def test_a_code_held_in_view_is_reported_once_per_debounce_window() -> None:
    camera = SimCamera(width=320, height=240, fps=100)
    camera.show(BOOKING)
    times: list[float] = []
    pipeline = QrPipeline(
        camera, ZxingDecoder(), on_code=lambda text: times.append(time.monotonic()), debounce_s=0.4
    )
    pipeline.start()
    try:
        wait_until(lambda: len(times) == 3)
        camera.show(OTHER)  # a different code is not held back by the first one's window
        wait_until(lambda: pipeline.stats.codes == 4, timeout=0.35)
    finally:
        assert pipeline.stop()
    gaps = np.diff(times[:3])
    assert all(0.4 <= gap < 0.8 for gap in gaps), gaps  # again as soon as the window ends
    assert pipeline.stats.repeats > 10  # ~40 decodes of the same code in 0.8 s


def test_the_preview_rate_is_bounded(tmp_path: Path) -> None:
    source = FileSource(_numbered_frames(tmp_path, 3), fps=0)  # as fast as it reads
    previews: list[float] = []
    pipeline, _ = _pipeline(
        source,
        SlowIndexDecoder(0.0),
        preview_fps=20,
        on_preview=lambda frame: previews.append(time.monotonic()),
    )
    started = time.monotonic()
    pipeline.start()
    time.sleep(0.5)
    assert pipeline.stop()
    elapsed = time.monotonic() - started
    assert pipeline.stats.frames > 200  # the camera ran far faster than the preview
    assert 5 <= len(previews) <= elapsed * 20 + 1 and pipeline.stats.previews == len(previews)
    # The pacer keeps 50 ms between the frames it passes on; the callback's own clock
    # reading lags it by however late its thread ran (several ms on a loaded machine),
    # so one gap may look shorter. Every frame passed on would be ~2 ms apart.
    assert min(np.diff(previews)) >= 0.05 * 0.7


def test_stop_returns_promptly_and_closes_the_camera(tmp_path: Path) -> None:
    source = FileSource(_numbered_frames(tmp_path, 2), fps=30)
    pipeline, _ = _pipeline(source, ZxingDecoder())
    pipeline.start()
    wait_until(lambda: pipeline.stats.frames > 0)
    started = time.monotonic()
    assert pipeline.stop(timeout=1.0)
    assert time.monotonic() - started < 0.2
    assert not pipeline.running
    with pytest.raises(CameraError, match="not open"):
        source.read()
    assert pipeline.health().level is HealthLevel.WARNING


def test_scanning_starts_again_after_a_stop() -> None:
    camera = SimCamera(width=320, height=240, fps=100)
    camera.show(BOOKING)
    pipeline, codes = _pipeline(camera, ZxingDecoder(), debounce_s=0.0)
    for _ in range(2):
        pipeline.start()
        with pytest.raises(RuntimeError, match="running already"):
            pipeline.start()
        wait_until(lambda: pipeline.health().level is HealthLevel.OK and codes)
        assert pipeline.stop()
        codes.clear()
    assert pipeline.stats.codes >= 2


def test_stop_does_not_hang_on_a_wedged_camera() -> None:
    camera = HungCamera()
    pipeline, _ = _pipeline(camera, ZxingDecoder(), stall_timeout_s=0.2)
    pipeline.start()
    try:
        wait_until(lambda: pipeline.health().level is HealthLevel.FAULT)
        assert "no frame for" in pipeline.health().detail
        started = time.monotonic()
        assert pipeline.stop(timeout=0.3) is False  # reported, not waited for
        assert time.monotonic() - started < 0.5
    finally:
        camera.release.set()


def test_a_camera_that_stops_delivering_turns_health_to_fault(tmp_path: Path) -> None:
    source = FileSource(_numbered_frames(tmp_path, 3), fps=100, loop=False)
    pipeline, _ = _pipeline(source, ZxingDecoder(), stall_timeout_s=0.25)
    assert pipeline.health().level is HealthLevel.WARNING  # not started
    pipeline.start()
    try:
        wait_until(lambda: pipeline.stats.frames == 3)
        assert pipeline.health().level is HealthLevel.OK
        wait_until(lambda: pipeline.health().level is HealthLevel.FAULT, timeout=2.0)
        health = pipeline.health()
        assert "no frame for" in health.detail and health.metrics["frames"] == 3
    finally:
        assert pipeline.stop()


def test_a_missing_camera_is_a_fault_and_is_reopened_when_it_appears(tmp_path: Path) -> None:
    image = tmp_path / "code.png"  # not there yet: like a camera unplugged at boot
    source = FileSource([image], fps=50)
    pipeline, codes = _pipeline(source, ZxingDecoder(), stall_timeout_s=0.2, retry_s=0.05)
    pipeline.start()
    try:
        wait_until(lambda: pipeline.health().level is HealthLevel.FAULT)
        assert "no such file" in pipeline.health().detail
        assert pipeline.stats.camera_errors >= 1
        frame = np.full((240, 320), 220, np.uint8)
        code = render_qr(BOOKING, module_px=3)
        frame[10 : 10 + code.shape[0], 50 : 50 + code.shape[1]] = code
        cv2.imwrite(str(image), frame)
        wait_until(lambda: codes == [BOOKING])
        assert pipeline.health().level is HealthLevel.OK
    finally:
        assert pipeline.stop()


def test_a_bad_payload_is_rejected_without_logging_it(caplog: pytest.LogCaptureFixture) -> None:
    camera = SimCamera(width=320, height=240, fps=100)
    camera.show("guest=Alice Smith\x1b[2J")
    rejects: list[PayloadRejected] = []
    pipeline, codes = _pipeline(camera, ZxingDecoder(), on_reject=rejects.append)
    with caplog.at_level(logging.DEBUG):
        pipeline.start()
        try:
            wait_until(lambda: pipeline.stats.decoded > 5)
        finally:
            assert pipeline.stop()
    assert codes == [] and len(rejects) == 1  # once: the debounce covers rejections too
    assert rejects[0].reason is RejectReason.CONTROL_CHARACTER
    assert "Alice" not in caplog.text and "control_character" in caplog.text


def test_a_failing_callback_does_not_stop_scanning() -> None:
    camera = SimCamera(width=320, height=240, fps=100)
    camera.show(BOOKING)
    calls: list[str] = []

    def flaky(text: str) -> None:
        calls.append(text)
        raise RuntimeError("UI not ready")

    pipeline = QrPipeline(camera, ZxingDecoder(), on_code=flaky, debounce_s=0.1)
    pipeline.start()
    try:
        wait_until(lambda: len(calls) >= 2)
        assert pipeline.running
    finally:
        assert pipeline.stop()


def test_the_pipeline_is_built_from_the_camera_config(tmp_path: Path) -> None:
    image = tmp_path / "code.png"
    frame = np.full((480, 640), 230, np.uint8)
    code = render_qr(OTHER, module_px=4)
    frame[40 : 40 + code.shape[0], 100 : 100 + code.shape[1]] = code
    cv2.imwrite(str(image), frame)
    config = CameraConfig(source="files", paths=[image], fps=60, debounce_s=10, decoder="pyzbar")
    codes: list[str] = []
    pipeline = QrPipeline.from_config(config, on_code=codes.append)
    pipeline.start()
    try:
        wait_until(lambda: pipeline.stats.decoded >= 5)
    finally:
        assert pipeline.stop()
    assert codes == [OTHER]
    assert pipeline.health().device == "camera (files, pyzbar)"
