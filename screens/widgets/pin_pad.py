"""The operator's PIN pad: the digits keyboard with the entry shown as dots."""

from __future__ import annotations

from screens.widgets.keyboard import OnScreenKeyboard


class PinPad(OnScreenKeyboard):
    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("mode", "digits")
        kwargs.setdefault("secret", True)
        kwargs.setdefault("max_length", 12)
        super().__init__(**kwargs)
