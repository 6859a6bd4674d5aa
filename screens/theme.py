"""The design system: every colour, size, radius, shadow, font and icon the kv rules use.

Sizes are in pixels at ``KIVY_METRICS_DENSITY=1`` on the 1080x1920 portrait panel the
kiosk is designed for (about 15 mm per 90 px): every touch target is at least
``TOUCH_TARGET`` high. Colours come from a ``Theme`` built from ``[ui.theme]``
(:func:`build_theme`): the brand's primary and accent colours over a light or dark base;
the text on a brand colour is black or white, whichever reads better, so a property's own
colours cannot make a text unreadable (``CONTRAST_PAIRS`` lists what the contrast test
checks). The font is Noto Sans CJK, whose Latin, digits (tabular) and Chinese share one
face and one line height; icons come from the Material Icons font.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from kivy.core.text import LabelBase
from kivy.metrics import dp

from kiosk.config import ThemeConfig

RGBA = tuple[float, float, float, float]

FONT_NAME = "KioskFont"
ICON_FONT_NAME = "KioskIcons"
CJK_FONT_PATH = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
ICON_FONT_PATH = Path(
    "/usr/share/fonts/truetype/material-design-icons-iconfont/MaterialIcons-Regular.ttf"
)
FONT_ROOTS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
# File-name fragments (lower case) of fonts known to cover Simplified and Traditional Chinese.
CJK_FONT_HINTS = (
    "notosanscjk",
    "sourcehansans",
    "wqy-microhei",
    "wqy-zenhei",
    "notoserifcjk",
    "droidsansfallback",
    "uming",
    "ukai",
)
BRAND_DIR = Path(__file__).resolve().parents[1] / "assets" / "brand"

# --- spacing, radii, elevation ----------------------------------------------------------
TOUCH_TARGET = dp(96)
SPACE_XS = dp(8)
SPACE_S = dp(16)
SPACE_M = dp(24)
PAD = dp(32)  # SPACE_L: the screen's margin
RADIUS_S = dp(12)  # buttons
RADIUS_M = dp(20)  # cards
SHADOW_OFFSET = dp(4)  # a card's elevation: a soft shadow this far below it
SHADOW_ALPHA = 0.18
# Over the attract photo, below white text: dark enough for 4.5:1 over a white pixel.
SCRIM: RGBA = (0.0, 0.0, 0.0, 0.58)
LOGO_SIZE = TOUCH_TARGET

# --- type scale ---------------------------------------------------------------------------
DISPLAY_SIZE = dp(84)  # the attract screen's welcome
TITLE_SIZE = dp(60)
HEADING_SIZE = dp(44)
BODY_SIZE = dp(38)
BUTTON_SIZE = dp(40)
SMALL_SIZE = dp(30)
ICON_SIZE = dp(56)
HERO_ICON_SIZE = dp(200)  # the one big pictogram of a screen (success, refusal, card)
FONT_SIZES = {
    "display": DISPLAY_SIZE,
    "title": TITLE_SIZE,
    "heading": HEADING_SIZE,
    "body": BODY_SIZE,
    "small": SMALL_SIZE,
}
LARGE_TEXT_SCALE = 1.35

# --- icons (Material Icons code points) -------------------------------------------------
ICONS = {
    "qr": "\uf206",
    "phone": "\ue32c",  # smartphone: the scan screen's "hold your code here" cue
    "person": "\ue7fd",
    "arrival": "\uea77",
    "departure": "\ue879",
    "nights": "\uea46",
    "room": "\ueb4f",
    "guests": "\ue7ef",
    "payment": "\ue870",
    "contactless": "\uea71",
    "key": "\ue0da",
    "card": "\ue870",  # credit_card: a room card taken from the stacker
    "verified": "\uef76",
    # keyboard_double_arrow_*: "take your card" points at the dispenser's slot ([ui] card_slot)
    "slot_below": "\uead0",
    "slot_left": "\ueac3",
    "slot_right": "\ueac9",
    "floor": "\uf1a0",
    "directions": "\ue536",
    "pin": "\ue0bc",
    "wifi": "\ue63e",
    "success": "\ue86c",
    "error": "\ue000",
    "staff": "\uf0e2",
    "wait": "\uea5b",
    "check": "\ue876",
}


@dataclass(frozen=True)
class Palette:
    background: RGBA
    surface: RGBA  # cards
    text: RGBA
    muted: RGBA  # placeholders, secondary lines
    button: RGBA
    button_text: RGBA
    primary: RGBA
    primary_text: RGBA
    accent: RGBA
    accent_text: RGBA
    header: RGBA
    header_text: RGBA
    icon: RGBA  # pictograms on the background and on cards
    danger: RGBA  # the refusal pictogram
    guide: RGBA  # the camera guide frame
    overlay: RGBA  # behind the timeout warning and the operator menu
    ok: RGBA
    warning: RGBA
    fault: RGBA


# (foreground, background, minimum ratio): every pair a screen draws. 4.5 for text; 3 for
# pictograms and the guide, which WCAG counts as graphics.
CONTRAST_PAIRS = (
    ("text", "background", 4.5),
    ("muted", "background", 4.5),
    ("text", "surface", 4.5),
    ("muted", "surface", 4.5),
    ("button_text", "button", 4.5),
    ("primary_text", "primary", 4.5),
    ("accent_text", "accent", 4.5),
    ("header_text", "header", 4.5),
    ("icon", "background", 3.0),
    ("icon", "surface", 3.0),
    ("danger", "background", 3.0),
    ("primary", "background", 3.0),  # the current step's mark
    ("ok", "overlay", 4.5),
    ("warning", "overlay", 4.5),
    ("fault", "overlay", 4.5),
)
WHITE: RGBA = (1.0, 1.0, 1.0, 1.0)
INK: RGBA = (0.0, 0.0, 0.0, 1.0)  # pure black: with white, one always reaches 4.58:1


def hex_colour(value: str) -> RGBA:
    """``#RRGGBB`` as Kivy's 0..1 RGBA."""
    return (
        int(value[1:3], 16) / 255,
        int(value[3:5], 16) / 255,
        int(value[5:7], 16) / 255,
        1.0,
    )


def luminance(colour: RGBA) -> float:
    """WCAG 2.2 relative luminance."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGBA, b: RGBA) -> float:
    """WCAG 2.2 contrast ratio of two opaque colours (1 to 21)."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def over(top: RGBA, below: RGBA) -> RGBA:
    """``top`` drawn with its alpha over opaque ``below``."""
    a = top[3]
    r, g, b = (t * a + u * (1 - a) for t, u in zip(top[:3], below[:3], strict=True))
    return (r, g, b, 1.0)


def on_colour(background: RGBA) -> RGBA:
    """White or ink, whichever reads better on ``background`` (one of them always reaches
    4.5:1: the better of the two is at least 4.58:1)."""
    return max((WHITE, INK), key=lambda text: contrast(text, background))


@dataclass(frozen=True)
class Theme:
    name: str
    hotel_name: str
    logo: Path | None
    attract_image: Path | None
    palette: Palette


_LIGHT = dict(
    background=hex_colour("#F5F3EE"),
    surface=WHITE,
    text=hex_colour("#1F2129"),
    muted=hex_colour("#545861"),
    button=hex_colour("#E1E4EA"),
    button_text=hex_colour("#1F2129"),
    danger=hex_colour("#B3261E"),
    guide=hex_colour("#1E9E4A"),
)
_DARK = dict(
    background=hex_colour("#121417"),
    surface=hex_colour("#1F2328"),
    text=hex_colour("#F1F1F1"),
    muted=hex_colour("#A9AEB6"),
    button=hex_colour("#30353D"),
    button_text=hex_colour("#F1F1F1"),
    danger=hex_colour("#F2B8B5"),
    guide=hex_colour("#5BE08A"),
)
# Device health is shown on the dark operator overlay in every theme: light tones.
_OVERLAY = dict(
    overlay=(0.1, 0.1, 0.12, 0.94),
    ok=(0.45, 0.9, 0.5, 1.0),
    warning=(1.0, 0.8, 0.3, 1.0),
    fault=(1.0, 0.6, 0.6, 1.0),
)


@dataclass(frozen=True)
class Preset:
    hotel_name: str
    primary: str
    accent: str
    base: str


PRESETS = {
    "harbour": Preset("Harbour View Hotel", "#0B4F6C", "#C8963E", "light"),
    "jade": Preset("Jade Garden Hotel", "#1F7A5C", "#E0B25A", "dark"),
}


def build_theme(config: ThemeConfig | None = None) -> Theme:
    """The theme ``[ui.theme]`` describes: its preset with the fields it sets."""
    config = config or ThemeConfig()
    preset = PRESETS[config.preset]
    base = _DARK if (config.base or preset.base) == "dark" else _LIGHT
    primary = hex_colour(config.primary or preset.primary)
    accent = hex_colour(config.accent or preset.accent)
    surface, background = base["surface"], base["background"]
    icon = next(
        (
            colour
            for colour in (primary, accent)
            if min(contrast(colour, surface), contrast(colour, background)) >= 3
        ),
        base["text"],
    )
    palette = Palette(
        **base,
        **_OVERLAY,
        primary=primary,
        primary_text=on_colour(primary),
        accent=accent,
        accent_text=on_colour(accent),
        header=primary,
        header_text=on_colour(primary),
        icon=icon,
    )
    if contrast(primary, background) < 3:  # a pale brand colour: mark steps in the text colour
        palette = replace(palette, primary=base["text"], primary_text=on_colour(base["text"]))
    return Theme(
        name=config.preset,
        hotel_name=config.hotel_name or preset.hotel_name,
        logo=config.logo or BRAND_DIR / f"{config.preset}-logo.png",
        attract_image=config.attract_image or BRAND_DIR / f"{config.preset}-attract.jpg",
        palette=palette,
    )


# White and yellow on black: WCAG AAA contrast for every text/background pair.
HIGH_CONTRAST = Palette(
    background=(0, 0, 0, 1),
    surface=(0.08, 0.08, 0.08, 1),
    text=(1, 1, 1, 1),
    muted=(0.85, 0.85, 0.85, 1),
    button=(0.15, 0.15, 0.15, 1),
    button_text=(1, 1, 1, 1),
    primary=(1, 0.87, 0, 1),
    primary_text=(0, 0, 0, 1),
    accent=(1, 0.87, 0, 1),
    accent_text=(0, 0, 0, 1),
    header=(0, 0, 0, 1),
    header_text=(1, 0.87, 0, 1),
    icon=(1, 0.87, 0, 1),
    danger=(1, 0.6, 0.6, 1),
    guide=(1, 0.87, 0, 1),
    overlay=(0, 0, 0, 0.96),
    ok=(0.4, 1, 0.4, 1),
    warning=(1, 0.87, 0, 1),
    fault=(1, 0.6, 0.6, 1),
)
NORMAL = build_theme().palette


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
        "text cannot be shown. Install fonts-noto-cjk (apt-get install fonts-noto-cjk)."
    )


def register_fonts(path: Path | None = None, icons: Path = ICON_FONT_PATH) -> Path:
    """Register the kiosk font (with its bold face when there is one) under ``FONT_NAME``
    and the icon font under ``ICON_FONT_NAME``; returns the text font used."""
    font = path or find_cjk_font()
    bold = font.with_name(font.name.replace("Regular", "Bold"))
    LabelBase.register(FONT_NAME, str(font), fn_bold=str(bold) if bold.is_file() else None)
    if not icons.is_file():
        raise FontNotFoundError(
            f"no icon font at {icons}: install fonts-material-design-icons-iconfont"
        )
    LabelBase.register(ICON_FONT_NAME, str(icons))
    return font
