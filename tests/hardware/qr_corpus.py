"""A deterministic corpus of camera-like frames, with and without a booking QR code.

Each frame is a cluttered scene (lighting gradient, shapes, text) in which a QR code
of a realistic booking payload (``kiosk.qr_payload.encode_payload``: JSON or URL,
54-200 characters) is printed with a 3-D pose (any in-plane rotation, tilt up to 35°),
then the camera's blur, sensor noise and JPEG compression are applied. Frames are BGR
uint8, like ``cv2.VideoCapture`` delivers them. The same seed gives the same frames.
"""

from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np

from hardware.qr.render import render_qr
from kiosk.qr_payload import BookingCodeRef, PmsOrderRef, encode_payload

VGA = (640, 480)
HD = (1280, 720)
# The set the detection target is measured on.
HARD_KINDS = ("noisy", "rotated", "blurred", "tilted")
# Harder conditions, reported separately.
EXTRA_KINDS = ("low_contrast", "small")
EMPTY_KINDS = ("noise", "gradient", "clutter")

_URL_BASES = (
    None,
    "https://h.example/c",
    "https://hotel.example/checkin",
    "https://booking.grand-lakeside-resort.example.com/kiosk/self-check-in/v1/arrival",
)
_WORDS = ("WELCOME", "Lobby", "Check-in", "EXIT", "Rooms 101-120", "Breakfast 7:00", "SPA")


@dataclass(frozen=True)
class CorpusFrame:
    kind: str
    image: np.ndarray  # BGR uint8
    payload: str | None  # the text of the QR code in the frame, None for an empty frame


@dataclass(frozen=True)
class _Pose:
    side: float  # edge of the code's quiet-zone square, in pixels, before the tilt
    rotation_deg: float
    tilt_deg: float
    blur_sigma: float
    noise_sigma: float
    dark: int  # grey level of the dark modules
    light: int  # grey level of the paper


def booking_payload(rng: np.random.Generator) -> str:
    """A booking payload like the property's, 54-200 characters."""
    if rng.random() < 0.5:
        ref: PmsOrderRef | BookingCodeRef = PmsOrderRef(
            order_id=int(rng.integers(1, 2**31 - 1)),
            order_no="".join(str(d) for d in rng.integers(0, 10, size=18)),
        )
    else:
        ref = BookingCodeRef(
            residence_id="r" + rng.bytes(16).hex(), booking_code=rng.bytes(4).hex()
        )
    expires = None
    if rng.random() < 0.5:
        expires = datetime(2026, 3, 4, tzinfo=UTC) + timedelta(days=int(rng.integers(1, 30)))
    key = rng.bytes(16) if rng.random() < 0.7 else None
    base = _URL_BASES[int(rng.integers(len(_URL_BASES)))]
    return encode_payload(ref, signing_key=key, expires=expires, url_base=base)


def qr_frames(
    kind: str, count: int, size: tuple[int, int] = VGA, seed: int = 0
) -> list[CorpusFrame]:
    """``count`` frames of one kind (``HARD_KINDS`` or ``EXTRA_KINDS``), each with one code."""
    frames = []
    for i in range(count):
        rng = _rng(seed, kind, size, i)
        payload = booking_payload(rng)
        pose = _pose(kind, size, rng)
        scene = _scene(size, rng)
        _paste_code(scene, payload, pose, rng)
        frames.append(
            CorpusFrame(kind, _camera(scene, pose.blur_sigma, pose.noise_sigma, rng), payload)
        )
    return frames


def empty_frames(
    kind: str, count: int, size: tuple[int, int] = VGA, seed: int = 0
) -> list[CorpusFrame]:
    """``count`` frames without any code: sensor noise, a gradient, or text-like clutter."""
    frames = []
    w, h = size
    for i in range(count):
        rng = _rng(seed, kind, size, i)
        if kind == "noise":
            scene = np.full((h, w), rng.uniform(40, 200), dtype=np.float32)
            image = _camera(scene, 0.0, rng.uniform(8, 30), rng)
        elif kind == "gradient":
            image = _camera(
                _gradient(size, rng, 20, 235), rng.uniform(0, 2), rng.uniform(2, 8), rng
            )
        elif kind == "clutter":
            image = _camera(
                _scene(size, rng, shapes=40), rng.uniform(0, 1.5), rng.uniform(3, 10), rng
            )
        else:
            raise ValueError(f"unknown empty kind {kind!r}")
        frames.append(CorpusFrame(kind, image, None))
    return frames


# The sets are cached: several tests (and the benchmark) measure the same frames.
@functools.cache
def hard_set(
    size: tuple[int, int] = VGA, per_kind: int = 30, seed: int = 0
) -> tuple[CorpusFrame, ...]:
    """The noisy/rotated/blurred/tilted set: ``per_kind`` frames of each kind."""
    return tuple(f for kind in HARD_KINDS for f in qr_frames(kind, per_kind, size, seed))


@functools.cache
def extra_set(
    size: tuple[int, int] = VGA, per_kind: int = 20, seed: int = 0
) -> tuple[CorpusFrame, ...]:
    """Low-contrast and small codes: ``per_kind`` frames of each kind."""
    return tuple(f for kind in EXTRA_KINDS for f in qr_frames(kind, per_kind, size, seed))


@functools.cache
def empty_set(
    size: tuple[int, int] = VGA, per_kind: int = 10, seed: int = 0
) -> tuple[CorpusFrame, ...]:
    """Frames without a code: ``per_kind`` of each of ``EMPTY_KINDS``."""
    return tuple(f for kind in EMPTY_KINDS for f in empty_frames(kind, per_kind, size, seed))


def _rng(seed: int, kind: str, size: tuple[int, int], index: int) -> np.random.Generator:
    # zlib.crc32, not hash(): str hashes change between runs.
    return np.random.default_rng([seed, zlib.crc32(kind.encode()), size[0], index])


def _pose(kind: str, size: tuple[int, int], rng: np.random.Generator) -> _Pose:
    short = min(size)  # sizes scale with the frame: a code at 720p is as near as at 480p
    side = short * rng.uniform(0.42, 0.65)
    rotation = rng.uniform(0, 360)
    tilt = rng.uniform(0, 15)
    blur = rng.uniform(0, 0.8)
    noise = rng.uniform(4, 10)
    dark, light = int(rng.integers(15, 60)), int(rng.integers(190, 245))
    if kind == "noisy":
        rotation, noise = rng.uniform(-10, 10), rng.uniform(10, 18)
    elif kind == "blurred":
        blur = rng.uniform(1.0, 1.8) * short / VGA[1]
    elif kind == "tilted":
        tilt = rng.uniform(20, 35)
    elif kind == "low_contrast":
        dark, light = int(rng.integers(90, 115)), int(rng.integers(155, 180))
    elif kind == "small":
        side = short * rng.uniform(0.25, 0.32)
    elif kind != "rotated":
        raise ValueError(f"unknown code kind {kind!r}")
    return _Pose(side, rotation, tilt, blur, noise, dark, light)


def _gradient(size: tuple[int, int], rng: np.random.Generator, lo: float, hi: float) -> np.ndarray:
    w, h = size
    angle = rng.uniform(0, 2 * math.pi)
    xs = np.arange(w, dtype=np.float32)[None, :]
    ys = np.arange(h, dtype=np.float32)[:, None]
    ramp = xs * math.cos(angle) + ys * math.sin(angle)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1.0)
    a, b = sorted(rng.uniform(lo, hi, size=2))
    return (a + (b - a) * ramp).astype(np.float32)


def _scene(size: tuple[int, int], rng: np.random.Generator, shapes: int = 12) -> np.ndarray:
    """A lobby-like background: a gradient with boxes, lines and words."""
    w, h = size
    scene = _gradient(size, rng, 60, 200).astype(np.uint8)  # OpenCV 5 draws text on 8 bits only
    scale = min(size) / VGA[1]
    for _ in range(shapes):
        colour = float(rng.uniform(0, 255))
        p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        p2 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        shape = rng.integers(3)
        if shape == 0:
            cv2.rectangle(scene, p1, p2, colour, int(rng.choice([-1, 2, 4])))
        elif shape == 1:
            cv2.line(scene, p1, p2, colour, int(rng.integers(1, 5)))
        else:
            word = _WORDS[int(rng.integers(len(_WORDS)))]
            cv2.putText(
                scene,
                word,
                p1,
                cv2.FONT_HERSHEY_SIMPLEX,
                rng.uniform(0.5, 2) * scale,
                colour,
                int(rng.integers(1, 4)),
            )
    return scene.astype(np.float32)


def _paste_code(scene: np.ndarray, payload: str, pose: _Pose, rng: np.random.Generator) -> None:
    """Print the code into ``scene`` in place, with the pose's 3-D rotation and tilt."""
    h, w = scene.shape
    code = render_qr(payload, module_px=1, mask_pattern=int(rng.integers(8)))
    modules = code.shape[0]
    # Render near the target scale so the warp does not alias.
    module_px = max(2, math.ceil(pose.side / modules))
    code = np.kron(code, np.ones((module_px, module_px), dtype=np.uint8)).astype(np.float32)
    code = pose.dark + (pose.light - pose.dark) * (code / 255.0)
    dst = _projected_corners(pose, rng, w, h)
    n = float(code.shape[0])
    src = np.array([[0, 0], [n, 0], [n, n], [0, n]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(code, m, (w, h), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.ones_like(code), m, (w, h), flags=cv2.INTER_LINEAR)
    scene *= 1.0 - mask
    scene += warped * mask


def _projected_corners(pose: _Pose, rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    half = pose.side / 2
    square = np.array([[-half, -half, 0], [half, -half, 0], [half, half, 0], [-half, half, 0]])
    a = math.radians(pose.rotation_deg)
    spin = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    phi = rng.uniform(0, 2 * math.pi)  # the tilt's axis, in the code's plane
    axis = np.array([math.cos(phi), math.sin(phi), 0.0]) * math.radians(pose.tilt_deg)
    tilt, _ = cv2.Rodrigues(axis)
    points = square @ spin.T @ tilt.T
    focal = 1.2 * w
    flat = points[:, :2] * (focal / (focal + points[:, 2]))[:, None]
    lo, hi = flat.min(axis=0), flat.max(axis=0)
    margin = 0.03 * min(w, h)
    cx = rng.uniform(margin - lo[0], w - margin - hi[0])
    cy = rng.uniform(margin - lo[1], h - margin - hi[1])
    return (flat + np.array([cx, cy])).astype(np.float32)


def _camera(scene: np.ndarray, blur: float, noise: float, rng: np.random.Generator) -> np.ndarray:
    """What a camera makes of ``scene``: uneven light, defocus, sensor noise, MJPEG, colour."""
    h, w = scene.shape
    light = _gradient((w, h), rng, 0.7, 1.05)
    image = scene * light
    if blur > 0:
        image = cv2.GaussianBlur(image, (0, 0), blur)
    image += noise * rng.standard_normal(size=image.shape, dtype=np.float32)
    grey = np.clip(image, 0, 255).astype(np.uint8)
    tint = rng.uniform(0.9, 1.1, size=3)
    bgr = np.clip(grey[:, :, None] * tint, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(70, 95))])
    assert ok
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
