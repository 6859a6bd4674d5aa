"""QR decoders: zxing-cpp (the default: faster and more robust) and pyzbar (the alternative).

Both return the raw bytes of every QR code they find; ``payload.validate_payload``
decides whether they are text the kiosk accepts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol

import cv2
import numpy as np
import zxingcpp

if TYPE_CHECKING:
    from hardware.camera.config import CameraConfig


class QrDecoder(Protocol):
    name: str

    def decode(self, image: np.ndarray) -> list[bytes]:
        """The payload of every QR code in ``image`` (BGR, BGRA or greyscale uint8)."""
        ...


class ZxingDecoder:
    """zxing-cpp, tuned for a kiosk camera (tests/benchmarks/README.md has the numbers).

    QR codes only: looking for the other symbologies is most of zxing's time on a
    frame. Frames wider than ``max_width`` are scaled down first: a booking code held
    to the camera still has several pixels per module at 640 wide, and an empty 720p
    frame then costs what a VGA one does. ``try_rotate`` only adds 90° passes for linear
    symbologies (QR finder patterns are found at any angle), so it is off.
    """

    name = "zxing"

    def __init__(self, *, max_width: int = 640, try_invert: bool = False) -> None:
        self._max_width = max_width
        self._try_invert = try_invert

    def decode(self, image: np.ndarray) -> list[bytes]:
        grey = shrink(to_grey(image), self._max_width)
        found = zxingcpp.read_barcodes(
            grey,
            formats=zxingcpp.BarcodeFormat.QRCode,
            try_rotate=False,
            try_invert=self._try_invert,
            try_downscale=True,
        )
        return [code.bytes for code in found]


class PyzbarDecoder:
    """ZBar through pyzbar, QR codes only. ZBar guesses a text encoding for QR data and
    hands back UTF-8, so binary payloads may come back altered."""

    name = "pyzbar"

    def __init__(self, *, max_width: int = 640) -> None:
        # Imported here: pyzbar loads libzbar at import, which only this decoder needs.
        from pyzbar import pyzbar

        self._decode = pyzbar.decode
        self._symbols = [pyzbar.ZBarSymbol.QRCODE]
        self._max_width = max_width

    def decode(self, image: np.ndarray) -> list[bytes]:
        grey = shrink(to_grey(image), self._max_width)
        return [symbol.data for symbol in self._decode(grey, symbols=self._symbols)]


def make_decoder(
    name: Literal["zxing", "pyzbar"], *, max_width: int = 640, try_invert: bool = False
) -> QrDecoder:
    if name == "pyzbar":
        return PyzbarDecoder(max_width=max_width)
    return ZxingDecoder(max_width=max_width, try_invert=try_invert)


def decoder_for(config: CameraConfig) -> QrDecoder:
    """The decoder ``[devices.camera]`` configures."""
    return make_decoder(
        config.decoder, max_width=config.decode_max_width, try_invert=config.try_invert
    )


def to_grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    code = cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(image, code)


def shrink(grey: np.ndarray, max_width: int) -> np.ndarray:
    """``grey`` scaled down to ``max_width`` (area averaging keeps module edges), if wider."""
    h, w = grey.shape
    if w <= max_width:
        return grey
    return cv2.resize(grey, (max_width, round(h * max_width / w)), interpolation=cv2.INTER_AREA)
