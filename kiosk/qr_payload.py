"""The booking QR payload the kiosk accepts (issue 2, item 5; docs/qr-payload.md).

Two carriers of the same fields: compact JSON ``{"v":1,"t":"pms","order":123,...}``
or an https URL whose query holds those fields. Two kinds of reference: a PMS order
(``t=pms``: ``order`` id, optional ``no`` order number) or an open-ability booking code
(``t=oa``: ``res`` residence id, ``code`` booking code). Optional ``exp`` (Unix seconds)
and ``sig``: HMAC-SHA256 with the property's key over the other fields.

Scanned text is untrusted: the length is bounded, parsing is strict (unknown or repeated
keys, nested or null values, wrong types, non-ASCII digits and odd characters are
refused), every input ends in a payload or a :class:`QrPayloadError` — never another
exception — and an unsigned payload — or one whose
signature cannot be checked — only *names* a booking: the journey must ask for a
second factor (surname or phone digits) before it shows anything of it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

VERSION = 1
DEFAULT_MAX_LENGTH = 512
SIG_BYTES = 16  # truncated HMAC-SHA256: 128 bits is ample against forgery, keeps the QR small
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ORDER_NO = re.compile(r"[0-9A-Za-z-]{1,32}")
_URL_NUMBER = re.compile(r"[0-9]{1,12}")  # ASCII only: str.isdigit() also takes "²" and "１"
_MAX_ORDER_ID = 2**31 - 1


class Reason(StrEnum):
    """Why a payload was refused; the UI maps each to a guest-facing message."""

    TOO_LONG = "too_long"
    NOT_TEXT = "not_text"
    UNKNOWN_FORMAT = "unknown_format"
    BAD_FIELD = "bad_field"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"


class QrPayloadError(ValueError):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class PmsOrderRef:
    """A PMS order (seed 004): ``order_id``, and the order number when the QR carries it."""

    order_id: int
    order_no: str | None = None


@dataclass(frozen=True)
class BookingCodeRef:
    """An open-ability booking code to claim for a residence (seeds 000 + 001)."""

    residence_id: str
    booking_code: str


@dataclass(frozen=True)
class BookingPayload:
    ref: PmsOrderRef | BookingCodeRef
    signed: bool  # True only when the signature was checked with the property's key
    expires: datetime | None = None

    @property
    def needs_second_factor(self) -> bool:
        return not self.signed


def parse_payload(
    text: str | bytes,
    *,
    signing_key: bytes | None = None,
    max_length: int = DEFAULT_MAX_LENGTH,
    now: datetime | None = None,
) -> BookingPayload:
    """The booking a scanned payload names, or :class:`QrPayloadError` (nothing else)."""
    text = _bounded_text(text, max_length)
    text = text.strip()
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in text):
        raise QrPayloadError(Reason.NOT_TEXT, "control characters")
    fields = _fields_of(text)
    payload = _validate(fields)
    sig = fields.get("sig")
    signed = False
    if sig is not None and signing_key is not None:
        if not hmac.compare_digest(sig, _signature(fields, signing_key)):
            raise QrPayloadError(Reason.BAD_SIGNATURE, "signature does not match")
        signed = True
    if payload.expires is not None and payload.expires <= (now or datetime.now(UTC)):
        raise QrPayloadError(Reason.EXPIRED, "payload expired")
    return BookingPayload(ref=payload.ref, signed=signed, expires=payload.expires)


def encode_payload(
    ref: PmsOrderRef | BookingCodeRef,
    *,
    signing_key: bytes | None = None,
    expires: datetime | None = None,
    url_base: str | None = None,
) -> str:
    """The payload text for ``ref``: compact JSON, or a URL when ``url_base`` is given."""
    fields: dict[str, Any] = {"v": VERSION}
    if isinstance(ref, PmsOrderRef):
        fields.update(t="pms", order=ref.order_id)
        if ref.order_no:
            fields["no"] = ref.order_no
    else:
        fields.update(t="oa", res=ref.residence_id, code=ref.booking_code)
    if expires is not None:
        fields["exp"] = int(expires.timestamp())
    if signing_key is not None:
        fields["sig"] = _signature(fields, signing_key)
    if url_base is not None:
        return f"{url_base}?{urlencode({k: str(v) for k, v in fields.items()})}"
    return json.dumps(fields, separators=(",", ":"))


def _bounded_text(data: str | bytes, max_length: int) -> str:
    """``data`` as text of at most ``max_length`` UTF-8 bytes."""
    if isinstance(data, bytes):
        if len(data) > max_length:
            raise QrPayloadError(Reason.TOO_LONG, f"more than {max_length} bytes")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise QrPayloadError(Reason.NOT_TEXT, "not UTF-8") from None
    if not isinstance(data, str):
        raise QrPayloadError(Reason.NOT_TEXT, "neither text nor bytes")
    if len(data) > max_length:  # refused before encoding: a huge text costs nothing
        raise QrPayloadError(Reason.TOO_LONG, f"more than {max_length} bytes")
    try:
        size = len(data.encode("utf-8"))
    except UnicodeEncodeError:
        raise QrPayloadError(Reason.NOT_TEXT, "lone surrogate, not UTF-8") from None
    if size > max_length:
        raise QrPayloadError(Reason.TOO_LONG, f"more than {max_length} bytes")
    return data


def _fields_of(text: str) -> dict[str, Any]:
    if text.startswith("{"):
        return _json_fields(text)
    if text.lower().startswith("https://"):
        return _url_fields(text)
    raise QrPayloadError(Reason.UNKNOWN_FORMAT, "neither a booking URL nor booking JSON")


def _json_fields(text: str) -> dict[str, Any]:
    # Every field is a scalar, so a valid payload holds one "{" and no "[" outside its
    # strings (no field's value may contain either). Refusing any other bracket up front
    # also keeps the decoder from recursing: deep nesting ends here, not in RecursionError.
    if text.count("{") != 1 or "[" in text:
        raise QrPayloadError(Reason.BAD_FIELD, "nested value")
    try:
        fields = json.loads(text, object_pairs_hook=_unique_fields)
    except QrPayloadError:
        raise
    except ValueError:
        raise QrPayloadError(Reason.UNKNOWN_FORMAT, "malformed JSON") from None
    if not isinstance(fields, dict):
        raise QrPayloadError(Reason.UNKNOWN_FORMAT, "JSON is not an object")
    return fields


def _url_fields(text: str) -> dict[str, Any]:
    try:  # urlsplit refuses e.g. a host with a fullwidth slash or an unclosed "["
        query = urlsplit(text).query
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=False)
    except ValueError:
        raise QrPayloadError(Reason.UNKNOWN_FORMAT, "malformed URL") from None
    fields = _unique_fields(pairs)
    for key in ("v", "order", "exp"):  # numbers arrive as text in a URL
        if key in fields:
            if not _URL_NUMBER.fullmatch(fields[key]):
                raise QrPayloadError(Reason.BAD_FIELD, f"{key} is not a number")
            fields[key] = int(fields[key])
    return fields


def _unique_fields(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """The fields of ``pairs``; a key given twice is refused, not settled by the last one."""
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise QrPayloadError(Reason.BAD_FIELD, "repeated field")
    return fields


_KEYS = {
    "pms": {"v", "t", "order", "no", "exp", "sig"},
    "oa": {"v", "t", "res", "code", "exp", "sig"},
}


def _validate(fields: dict[str, Any]) -> BookingPayload:
    version = fields.get("v")
    if not _is_int(version) or version != VERSION:  # not true, not 1.0
        raise QrPayloadError(Reason.UNKNOWN_FORMAT, "unsupported version")
    kind = fields.get("t")
    if not isinstance(kind, str) or kind not in _KEYS:
        raise QrPayloadError(Reason.UNKNOWN_FORMAT, "unknown booking type")
    unknown = set(fields) - _KEYS[kind]
    if unknown:  # the names are not quoted: they are scanned text
        raise QrPayloadError(Reason.BAD_FIELD, f"{len(unknown)} unexpected field(s)")
    if None in fields.values():  # a null would reach the signed text as "None"
        raise QrPayloadError(Reason.BAD_FIELD, "null field")
    expires = None
    if "exp" in fields:
        exp = fields["exp"]
        if not _is_int(exp) or not 0 < exp < 2**33:
            raise QrPayloadError(Reason.BAD_FIELD, "exp is not a time")
        expires = datetime.fromtimestamp(exp, UTC)
    sig = fields.get("sig")
    if sig is not None and not (isinstance(sig, str) and _TOKEN.fullmatch(sig)):
        raise QrPayloadError(Reason.BAD_FIELD, "sig is malformed")
    ref: PmsOrderRef | BookingCodeRef
    if kind == "pms":
        order = fields.get("order")
        if not _is_int(order) or not 0 < order <= _MAX_ORDER_ID:
            raise QrPayloadError(Reason.BAD_FIELD, "order is not an order id")
        order_no = fields.get("no")
        if order_no is not None and not (
            isinstance(order_no, str) and _ORDER_NO.fullmatch(order_no)
        ):
            raise QrPayloadError(Reason.BAD_FIELD, "no is not an order number")
        ref = PmsOrderRef(order_id=order, order_no=order_no)
    else:
        res, code = fields.get("res"), fields.get("code")
        for name, value in (("res", res), ("code", code)):
            if not (isinstance(value, str) and _TOKEN.fullmatch(value)):
                raise QrPayloadError(Reason.BAD_FIELD, f"{name} is malformed")
        ref = BookingCodeRef(residence_id=res, booking_code=code)
    return BookingPayload(ref=ref, signed=False, expires=expires)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _signature(fields: dict[str, Any], key: bytes) -> str:
    """base64url HMAC-SHA256 over the sorted ``key=value`` lines of every field but ``sig``."""
    canonical = "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "sig")
    digest = hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).digest()[:SIG_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
