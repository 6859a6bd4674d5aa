"""Labels in the kiosk font that wrap to their width and grow to their text's height.

Size and colour are chosen by ``role`` and ``tone`` (never set directly in kv) so that one
kv binding per property follows the large-text and high-contrast switches.
"""

from __future__ import annotations

from kivy.properties import OptionProperty
from kivy.uix.label import Label

ROLES = ["display", "title", "heading", "body", "small"]


class KioskLabel(Label):
    role = OptionProperty("body", options=ROLES)
    # inverse: white on the dark overlays and the attract photo's scrim; header_text: on the
    # brand's header; ok / warning / fault: device health lines
    tone = OptionProperty(
        "text",
        options=["text", "muted", "inverse", "header_text", "ok", "warning", "fault"],
    )


class TitleLabel(KioskLabel):
    """A screen's one headline."""

    role = OptionProperty("title", options=ROLES)
