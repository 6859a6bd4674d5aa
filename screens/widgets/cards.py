"""Booking details as cards with an icon, and the receipt as a two-column table."""

from __future__ import annotations

import re

from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout

from screens.widgets.text import KioskLabel

# A receipt row of label and value, as kiosk.journeys.receipt lays out a Pair: two or more
# spaces between them.
_PAIR = re.compile(r"^\s*(\S.*?)\s{2,}(\S.*?)\s*$")


class DetailCard(BoxLayout):
    """``text`` is the whole line (what tests and screen readers see); a card with a
    ``value`` shows ``label`` on the left and the value right-aligned (money)."""

    icon = StringProperty("check")
    text = StringProperty("")
    label = StringProperty("")
    value = StringProperty("")


class ReceiptTable(BoxLayout):
    """The receipt's text rows (``text``, one per line) as rows whose values line up on the
    right edge whatever the font: a proportional CJK font cannot keep spaced columns."""

    text = StringProperty("")

    def on_text(self, _widget: object, text: str) -> None:
        self.clear_widgets()
        for row in text.split("\n") if text else ():
            self.add_widget(_row(row))


def _row(row: str) -> BoxLayout:
    line = BoxLayout(size_hint_y=None)
    pair = _PAIR.match(row)
    stripped = row.strip()
    if pair:
        label, value = pair.groups()
        line.add_widget(ReceiptCell(text=label, halign="left"))
        line.add_widget(ReceiptCell(text=value, halign="right"))
    elif stripped and set(stripped) <= {"-", "="}:
        line.add_widget(RuleLine())
    else:
        line.add_widget(ReceiptCell(text=stripped))
    line.bind(minimum_height=line.setter("height"))
    line.height = line.minimum_height
    return line


class ReceiptCell(KioskLabel):
    """A receipt's text: small, and closer set than other labels."""


class RuleLine(ReceiptCell):
    """A separator row of the receipt (drawn as a line in kv)."""
