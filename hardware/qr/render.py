"""Render QR codes as images: the simulated camera shows them, tests distort them."""

from __future__ import annotations

import numpy as np
import qrcode
from qrcode.constants import ERROR_CORRECT_M


def render_qr(
    text: str, *, module_px: int = 8, border: int = 4, mask_pattern: int | None = None
) -> np.ndarray:
    """A grayscale uint8 image of ``text`` as a QR code (level M), dark 0 on light 255.

    Each module is ``module_px`` square pixels; ``border`` is the quiet zone in modules.
    A fixed ``mask_pattern`` (0-7) skips the encoder's search for the best one, which
    is most of its time.
    """
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=border, mask_pattern=mask_pattern)
    code.add_data(text)
    code.make(fit=True)
    dark = np.array(code.get_matrix(), dtype=bool)
    modules = np.where(dark, 0, 255).astype(np.uint8)
    return np.kron(modules, np.ones((module_px, module_px), dtype=np.uint8))
