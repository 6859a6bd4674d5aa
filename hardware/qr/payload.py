"""First check of a decoded QR payload: bounded, UTF-8 text, printable. Meaning comes later.

Errors never quote the payload: it may carry a booking reference or a token.
"""

from __future__ import annotations

from enum import StrEnum

DEFAULT_MAX_BYTES = 512


class RejectReason(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    NOT_UTF8 = "not_utf8"
    CONTROL_CHARACTER = "control_character"


class PayloadRejected(ValueError):
    """A decoded code that is not acceptable text; ``reason`` says why."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason


def validate_payload(raw: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The text of ``raw``, or ``PayloadRejected``.

    Control, format and separator characters (anything ``str.isprintable`` refuses,
    so also tabs, newlines, bidi overrides and zero-width characters) are refused:
    they can smuggle lines into logs or disguise text on screen.
    """
    if not raw:
        raise PayloadRejected(RejectReason.EMPTY, "no data")
    if len(raw) > max_bytes:
        raise PayloadRejected(RejectReason.TOO_LONG, f"{len(raw)} bytes, at most {max_bytes}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadRejected(RejectReason.NOT_UTF8, f"invalid UTF-8 at byte {exc.start}") from None
    if not text.isprintable():
        at = next(i for i, ch in enumerate(text) if not ch.isprintable())
        raise PayloadRejected(
            RejectReason.CONTROL_CHARACTER, f"U+{ord(text[at]):04X} at character {at}"
        )
    return text
