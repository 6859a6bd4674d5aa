"""Frame sources: files (images, folders, videos), OpenCV capture, the simulated camera."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from hardware.camera import CameraConfig, CameraError, open_camera
from hardware.camera.files import FileSource
from hardware.camera.opencv import OpenCvSource
from hardware.camera.sim import SimCamera
from hardware.qr.decoders import ZxingDecoder
from kiosk.config import load_config

pytestmark = pytest.mark.timeout(30)


def _frame(value: int, size: tuple[int, int] = (160, 120)) -> np.ndarray:
    return np.full((size[1], size[0], 3), value, np.uint8)


def _write_images(folder: Path, values: list[int]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, value in enumerate(values):
        path = folder / f"frame-{i:03d}.png"
        cv2.imwrite(str(path), _frame(value))
        paths.append(path)
    return paths


def _write_video(path: Path, values: list[int]) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (160, 120))
    assert writer.isOpened()
    for value in values:
        writer.write(_frame(value))
    writer.release()
    return path


def _levels(source: FileSource | OpenCvSource, count: int) -> list[int]:
    """The grey level of the next ``count`` frames (None when the source is silent)."""
    out = []
    for _ in range(count):
        frame = source.read()
        out.append(None if frame is None else round(float(frame.mean())))
    return out


def test_file_source_plays_images_folders_and_videos_in_order_then_loops(tmp_path: Path) -> None:
    still = _write_images(tmp_path / "still", [10])[0]
    folder = tmp_path / "folder"
    _write_images(folder, [50, 60])
    (folder / "notes.txt").write_text("not an image, skipped")
    video = _write_video(tmp_path / "clip.avi", [100, 150, 200])
    source = FileSource([still, folder, video], fps=0)
    source.open()
    levels = _levels(source, 12)
    source.close()
    # MJPEG is lossy: a video frame's level comes back within a grey level or two.
    assert [round(v / 10) * 10 for v in levels] == [10, 50, 60, 100, 150, 200] * 2
    assert source.delivered == 12


def test_file_source_without_loop_goes_silent(tmp_path: Path) -> None:
    paths = _write_images(tmp_path, [30, 40])
    source = FileSource(paths, fps=200, loop=False)
    source.open()
    assert _levels(source, 4) == [30, 40, None, None]


def test_file_source_paces_frames_at_its_rate(tmp_path: Path) -> None:
    source = FileSource(_write_images(tmp_path, [30]), fps=100)
    source.open()
    started = time.monotonic()
    _levels(source, 11)  # the first frame is due at once, then one every 10 ms
    elapsed = time.monotonic() - started
    assert 0.09 <= elapsed < 0.5


def test_file_source_errors_are_typed(tmp_path: Path) -> None:
    with pytest.raises(CameraError, match="no such file"):
        FileSource([tmp_path / "missing.png"]).open()
    (tmp_path / "broken.png").write_bytes(b"not a png")
    with pytest.raises(CameraError, match="not an image"):
        FileSource([tmp_path / "broken.png"]).open()
    (tmp_path / "empty").mkdir()
    with pytest.raises(CameraError, match="no images"):
        FileSource([tmp_path / "empty"]).open()
    with pytest.raises(CameraError, match="not open"):
        FileSource([tmp_path / "broken.png"]).read()


def test_opencv_source_reads_frames_then_reports_the_end(tmp_path: Path) -> None:
    # No camera on CI: OpenCV's capture path is exercised with a video file as the device.
    video = _write_video(tmp_path / "clip.avi", [60, 120])
    source = OpenCvSource(str(video), width=160, height=120, timeout_ms=1000)
    source.open()
    try:
        first = source.read()
        assert first is not None and first.shape == (120, 160, 3)
        assert source.read() is not None
        with pytest.raises(CameraError, match="no frame"):
            source.read()
    finally:
        source.close()
    with pytest.raises(CameraError, match="not open"):
        source.read()


def test_opencv_source_without_a_camera_fails_fast_with_a_typed_error(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(CameraError, match="cannot open"):
        OpenCvSource(str(tmp_path / "no-camera-here.avi"), timeout_ms=500).open()
    assert time.monotonic() - started < 5


def test_sim_camera_shows_a_code_until_it_is_withdrawn() -> None:
    camera = SimCamera(width=320, height=240, fps=120)
    decoder = ZxingDecoder()
    with pytest.raises(CameraError):
        camera.read()
    camera.open()
    assert decoder.decode(camera.read()) == []
    camera.show('{"v":1,"t":"pms","order":42}')
    assert decoder.decode(camera.read()) == [b'{"v":1,"t":"pms","order":42}']
    camera.show(None)
    assert decoder.decode(camera.read()) == []


def test_open_camera_builds_the_configured_source(tmp_path: Path) -> None:
    assert isinstance(open_camera(CameraConfig()), SimCamera)
    opencv = open_camera(CameraConfig(source="opencv", device="/dev/video2"))
    assert isinstance(opencv, OpenCvSource) and opencv.name == "opencv:/dev/video2"
    files = open_camera(CameraConfig(source="files", paths=[tmp_path]))
    assert isinstance(files, FileSource)


def test_camera_config_is_validated_and_loaded_from_the_kiosk_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="needs at least one path"):
        CameraConfig(source="files")
    with pytest.raises(ValidationError):
        CameraConfig(source="webcam")
    toml = tmp_path / "kiosk.toml"
    toml.write_text(
        '[devices.camera]\nsource = "opencv"\ndevice = 1\nwidth = 1280\nheight = 720\n'
        'decoder = "pyzbar"\ndebounce_s = 1.5\n'
    )
    camera = load_config(toml).devices.camera
    assert (camera.source, camera.device, camera.width, camera.decoder) == (
        "opencv",
        1,
        1280,
        "pyzbar",
    )
    assert camera.debounce_s == 1.5
