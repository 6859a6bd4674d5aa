"""``kiosk hw scan``: decode QR codes from still images, or from the live camera until Ctrl-C.

An operator's tool: it prints the payloads it reads on stdout (that is its purpose);
nothing of them goes to the log.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hardware.camera.config import CameraConfig

# How often the live scan looks at the camera's health.
HEALTH_POLL_S = 0.5


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "scan",
        help="decode QR codes from images or the camera",
        description="With --image: one line per image, its path, a tab and the payload "
        "(nothing when no code is found). Without: scan the configured camera and print "
        "each payload until Ctrl-C.",
    )
    p.add_argument("--image", nargs="+", type=Path, metavar="PATH", help="still images to decode")
    p.add_argument("--config", type=Path, help="the kiosk's TOML config (default: built-in)")
    p.add_argument("--decoder", choices=["zxing", "pyzbar"], help="override the config's decoder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kiosk.config import load_config

    camera = load_config(args.config).devices.camera
    if args.decoder:
        camera = camera.model_copy(update={"decoder": args.decoder})
    if args.image:
        return _scan_images(args.image, camera)
    return _scan_live(camera)


def _scan_images(paths: list[Path], camera: CameraConfig) -> int:
    import cv2

    from hardware.qr import PayloadRejected, decoder_for, validate_payload

    decoder = decoder_for(camera)
    status = 0
    for path in paths:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        texts = []
        if image is None:
            print(f"{path}: not an image that can be read", file=sys.stderr)
            status = 1
        else:
            for raw in decoder.decode(image):
                try:
                    texts.append(validate_payload(raw, max_bytes=camera.max_payload_bytes))
                except PayloadRejected as exc:
                    print(f"{path}: QR code refused: {exc}", file=sys.stderr)
        print(f"{path}\t" + "\t".join(texts), flush=True)
    return status


def _scan_live(camera: CameraConfig) -> int:
    from hardware.health import HealthLevel
    from hardware.qr import PayloadRejected, QrPipeline

    def show(text: str) -> None:
        print(text, flush=True)

    def refused(exc: PayloadRejected) -> None:
        print(f"QR code refused: {exc}", file=sys.stderr, flush=True)

    pipeline = QrPipeline.from_config(camera, on_code=show, on_reject=refused)
    done = threading.Event()
    # SIGTERM (systemd, a test) stops like Ctrl-C.
    signal.signal(signal.SIGTERM, lambda signum, frame: done.set())
    print(f"scanning: {camera.source} camera, {camera.decoder}; Ctrl-C stops", file=sys.stderr)
    pipeline.start()
    level = HealthLevel.OK
    try:
        while not done.wait(HEALTH_POLL_S):
            health = pipeline.health()
            if health.level != level:
                level = health.level
                print(f"camera {level.value}: {health.detail}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        pass
    return 0 if pipeline.stop() else 1
