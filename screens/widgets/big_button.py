"""The kiosk's button: at least a finger's size, one per decision."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.button import Button


class BigButton(Button):
    """A touch target of at least ``theme.TOUCH_TARGET``; ``primary`` marks the suggested one."""

    primary = BooleanProperty(False)
    choice_id = StringProperty("")  # the Choice.id this button answers with, if any
    compact = BooleanProperty(False)  # smaller text, for the bars along the top
    unavailable = BooleanProperty(False)  # a choice the guest cannot take (a slot taken): greyed
