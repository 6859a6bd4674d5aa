"""Sizes, colours (normal and high contrast) and the one font every screen uses.

Sizes are in pixels at ``KIVY_METRICS_DENSITY=1`` on the 1080x1920 portrait panel the
kiosk is designed for (about 15 mm per 90 px): every touch target is at least
``TOUCH_TARGET`` high. The font is a CJK font with Latin glyphs (WenQuanYi Micro Hei on
Debian), so English and Chinese texts share one face and one line height.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kivy.core.text import LabelBase
from kivy.metrics import dp

FONT_NAME = "KioskFont"
CJK_FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT_ROOTS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
# File-name fragments (lower case) of fonts known to cover Simplified and Traditional Chinese.
CJK_FONT_HINTS = (
    "wqy-microhei",
    "wqy-zenhei",
    "notosanscjk",
    "notoserifcjk",
    "sourcehansans",
    "droidsansfallback",
    "uming",
    "ukai",
)

TOUCH_TARGET = dp(96)
PAD = dp(32)
TITLE_SIZE = dp(60)
BODY_SIZE = dp(38)
BUTTON_SIZE = dp(40)
SMALL_SIZE = dp(30)
FONT_SIZES = {"title": TITLE_SIZE, "body": BODY_SIZE, "small": SMALL_SIZE}
LARGE_TEXT_SCALE = 1.35

RGBA = tuple[float, float, float, float]


@dataclass(frozen=True)
class Palette:
    background: RGBA
    text: RGBA
    muted: RGBA  # placeholders, secondary lines
    button: RGBA
    button_text: RGBA
    primary: RGBA
    primary_text: RGBA
    guide: RGBA  # the camera guide frame
    overlay: RGBA  # behind the timeout warning and the operator menu
    ok: RGBA
    warning: RGBA
    fault: RGBA


NORMAL = Palette(
    background=(0.96, 0.95, 0.92, 1),
    text=(0.12, 0.13, 0.16, 1),
    muted=(0.42, 0.43, 0.46, 1),
    button=(0.85, 0.87, 0.90, 1),
    button_text=(0.12, 0.13, 0.16, 1),
    primary=(0.05, 0.33, 0.55, 1),
    primary_text=(1, 1, 1, 1),
    guide=(0.2, 0.8, 0.35, 1),
    overlay=(0.1, 0.1, 0.12, 0.92),
    # Device health is shown on the dark operator overlay in both modes: light tones.
    ok=(0.45, 0.9, 0.5, 1),
    warning=(1, 0.8, 0.3, 1),
    fault=(1, 0.5, 0.5, 1),
)
# White and yellow on black: WCAG AAA contrast for every text/background pair.
HIGH_CONTRAST = Palette(
    background=(0, 0, 0, 1),
    text=(1, 1, 1, 1),
    muted=(0.85, 0.85, 0.85, 1),
    button=(0.15, 0.15, 0.15, 1),
    button_text=(1, 1, 1, 1),
    primary=(1, 0.87, 0, 1),
    primary_text=(0, 0, 0, 1),
    guide=(1, 0.87, 0, 1),
    overlay=(0, 0, 0, 0.96),
    ok=(0.4, 1, 0.4, 1),
    warning=(1, 0.87, 0, 1),
    fault=(1, 0.4, 0.4, 1),
)


class FontNotFoundError(RuntimeError):
    """No font able to show Chinese text is installed."""


def find_cjk_font(preferred: Path = CJK_FONT_PATH, roots: Iterable[Path] = FONT_ROOTS) -> Path:
    """``preferred`` if present, else the first font under ``roots`` named like a CJK font."""
    if preferred.is_file():
        return preferred
    for root in roots:
        candidates = sorted(
            p for p in root.rglob("*") if p.suffix.lower() in {".ttf", ".ttc", ".otf"}
        )
        for hint in CJK_FONT_HINTS:
            for path in candidates:
                if hint in path.name.lower().replace(" ", "").replace("_", "-"):
                    return path
    raise FontNotFoundError(
        f"no CJK font found at {preferred} or under {', '.join(map(str, roots))}: Chinese "
        "text cannot be shown. Install fonts-wqy-microhei (apt-get install fonts-wqy-microhei)."
    )


def register_fonts(path: Path | None = None) -> Path:
    """Register the kiosk font with Kivy under ``FONT_NAME``; returns the file used."""
    font = path or find_cjk_font()
    LabelBase.register(FONT_NAME, str(font))
    return font
