"""Pictograms from the icon font, named as in ``theme.ICONS``."""

from __future__ import annotations

from kivy.properties import NumericProperty, OptionProperty, StringProperty
from kivy.uix.label import Label


class IconLabel(Label):
    """One icon (``icon`` is a ``theme.ICONS`` name; empty draws nothing) in ``tone``."""

    icon = StringProperty("")
    icon_size = NumericProperty(0)  # 0: theme.ICON_SIZE
    tone = OptionProperty(
        "icon",
        options=["icon", "danger", "text", "muted", "inverse", "primary_text", "accent_text",
                 "button_text", "header_text"],
    )  # fmt: skip


class HeroIcon(IconLabel):
    """The one large pictogram of a screen, above its title (nothing when ``icon`` is empty).

    A screen may animate it: ``pop`` scales it about its centre (1: as laid out) and
    ``ripple`` (0 none, 0 .. 1) sends a fading ring out from it."""

    pop = NumericProperty(1.0)
    ripple = NumericProperty(0.0)
