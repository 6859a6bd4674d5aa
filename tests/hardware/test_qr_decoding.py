"""QR decoders on the generated camera-like corpus: detection, no wrong decode, no false alarm."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import cv2
import numpy as np
import pytest
import zxingcpp

from hardware.qr.decoders import PyzbarDecoder, QrDecoder, ZxingDecoder, make_decoder, shrink
from hardware.qr.render import render_qr
from tests.hardware.qr_corpus import (
    HD,
    VGA,
    CorpusFrame,
    empty_set,
    extra_set,
    hard_set,
    qr_frames,
)

pytestmark = pytest.mark.timeout(120)


def _score(decoder: QrDecoder, frames: Sequence[CorpusFrame]) -> tuple[Counter, Counter, list]:
    """Frames found per kind, frames per kind, and every decode that is not the frame's code."""
    found: Counter = Counter()
    total: Counter = Counter()
    wrong = []
    for frame in frames:
        total[frame.kind] += 1
        payloads = decoder.decode(frame.image)
        expected = frame.payload.encode() if frame.payload is not None else None
        found[frame.kind] += expected in payloads
        wrong += [(frame.kind, p) for p in payloads if p != expected]
    return found, total, wrong


def test_corpus_is_deterministic_and_realistic() -> None:
    a, b = qr_frames("tilted", 2, seed=5), qr_frames("tilted", 2, seed=5)
    assert all(
        np.array_equal(x.image, y.image) and x.payload == y.payload
        for x, y in zip(a, b, strict=True)
    )
    assert not np.array_equal(a[0].image, qr_frames("tilted", 1, seed=6)[0].image)
    frames = hard_set(VGA)
    assert {f.image.shape for f in frames} == {(480, 640, 3)}
    lengths = [len(f.payload) for f in frames if f.payload]
    assert min(lengths) >= 54 and max(lengths) <= 200
    assert any(p.payload.startswith("https://") for p in frames)
    assert any(p.payload.startswith("{") for p in frames)


def test_default_decoder_finds_95_percent_of_the_hard_vga_set_and_never_a_wrong_code() -> None:
    found, total, wrong = _score(make_decoder("zxing"), hard_set(VGA))
    rate = sum(found.values()) / sum(total.values())
    assert rate >= 0.95, f"detection {rate:.1%}: {dict(found)} of {dict(total)}"
    assert wrong == []


def test_default_decoder_on_720p_frames() -> None:
    found, total, wrong = _score(make_decoder("zxing"), hard_set(HD, per_kind=12))
    rate = sum(found.values()) / sum(total.values())
    assert rate >= 0.95, f"detection {rate:.1%}: {dict(found)} of {dict(total)}"
    assert wrong == []


def test_default_decoder_on_low_contrast_and_small_codes() -> None:
    # Harder than the target set: a floor below the measured ~88%, and still no wrong decode.
    found, total, wrong = _score(make_decoder("zxing"), extra_set(VGA))
    for kind in total:
        assert found[kind] / total[kind] >= 0.75, f"{kind}: {found[kind]} of {total[kind]}"
    assert wrong == []


@pytest.mark.parametrize("name", ["zxing", "pyzbar"])
def test_no_code_is_found_in_empty_frames(name: str) -> None:
    decoder = make_decoder(name)  # type: ignore[arg-type]
    for frame in empty_set(VGA) + empty_set(HD, per_kind=4):
        assert decoder.decode(frame.image) == [], frame.kind


def test_pyzbar_decoder_reads_the_rotated_set_with_exact_payloads() -> None:
    frames = [f for f in hard_set(VGA) if f.kind == "rotated"]
    found, total, wrong = _score(PyzbarDecoder(), frames)
    assert found["rotated"] >= 0.8 * total["rotated"]
    assert wrong == []


@pytest.mark.parametrize("channels", [None, 3, 4])
def test_decoders_take_grey_bgr_and_bgra_frames(channels: int | None) -> None:
    grey = np.full((480, 640), 200, np.uint8)
    code = render_qr("https://hotel.example/checkin?v=1&t=pms&order=42", module_px=5)
    grey[40 : 40 + code.shape[0], 60 : 60 + code.shape[1]] = code
    image = grey
    if channels == 3:
        image = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    elif channels == 4:
        image = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGRA)
    expected = [b"https://hotel.example/checkin?v=1&t=pms&order=42"]
    assert ZxingDecoder().decode(image) == expected
    assert PyzbarDecoder().decode(image) == expected


def test_non_utf8_bytes_come_back_as_raw_bytes() -> None:
    # zxing hands the code's bytes over untouched, so validation can refuse them.
    raw = b"\xff\xfe booking \x80"
    code = zxingcpp.create_barcode(raw, zxingcpp.BarcodeFormat.QRCode)
    image = np.asarray(code.to_image(scale=6))
    assert ZxingDecoder().decode(image) == [raw]


def test_shrink_scales_wide_frames_only() -> None:
    assert shrink(np.zeros((720, 1280), np.uint8), 640).shape == (360, 640)
    small = np.zeros((480, 640), np.uint8)
    assert shrink(small, 640) is small
