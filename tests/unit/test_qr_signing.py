"""QR signatures checked against docs/qr-payload.md, not against the project's own signer.

The round-trip tests in test_qr_payload.py sign and check with the same function and the
same key, so a signature that ignored the key would pass them. Here the expected value is
computed from the documented canonical form with hmac/hashlib, and pinned as text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from kiosk.qr_payload import (
    BookingCodeRef,
    PmsOrderRef,
    QrPayloadError,
    Reason,
    encode_payload,
    parse_payload,
)

KEY = b"known-answer-key-from-the-docs"
OTHER_KEY = b"some-other-property-key"
NOW = datetime(2026, 3, 4, 6, 0, tzinfo=UTC)
EXP = 1772611200  # 2026-03-04 08:00 UTC
PMS_REF = PmsOrderRef(order_id=42, order_no="202603041332075890")
OA_REF = BookingCodeRef(residence_id="r31adc223cc4b3bedb6bd4742dedcfa52", booking_code="bfa332e2")

# The documented canonical form: every field but sig as sorted key=value lines joined by
# "\n", numbers in decimal. The pinned values were computed once from these lines.
PMS_LINES = ["exp=1772611200", "no=202603041332075890", "order=42", "t=pms", "v=1"]
PMS_SIG = "aM9Md93bLi0iLSxjsrifwg"
OA_LINES = ["code=bfa332e2", "res=r31adc223cc4b3bedb6bd4742dedcfa52", "t=oa", "v=1"]
OA_SIG = "UnY0wHbckwcxL7d7LWR4WQ"


def documented_signature(key: bytes, lines: list[str]) -> str:
    """base64url, unpadded, of the first 16 bytes of HMAC-SHA256(key, the lines)."""
    digest = hmac.new(key, "\n".join(lines).encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


@pytest.mark.parametrize(("lines", "pinned"), [(PMS_LINES, PMS_SIG), (OA_LINES, OA_SIG)])
def test_the_pinned_vectors_follow_the_documented_form(lines: list[str], pinned: str) -> None:
    assert documented_signature(KEY, lines) == pinned
    assert documented_signature(OTHER_KEY, lines) != pinned  # the key is part of it


def test_the_kiosk_signs_exactly_the_known_answer() -> None:
    expires = datetime.fromtimestamp(EXP, UTC)
    pms = encode_payload(PMS_REF, signing_key=KEY, expires=expires)
    assert pms == (
        '{"v":1,"t":"pms","order":42,"no":"202603041332075890","exp":1772611200,'
        f'"sig":"{PMS_SIG}"}}'
    )
    oa = encode_payload(OA_REF, signing_key=KEY, url_base="https://hotel.example/checkin")
    assert oa.endswith(f"&sig={OA_SIG}")


@pytest.mark.parametrize(
    "text",
    [
        # Written by hand in both carriers, fields in another order, a number with a
        # leading zero: the same payload, so the same signature.
        f'{{"sig":"{PMS_SIG}","t":"pms","exp":1772611200,"no":"202603041332075890",'
        '"order":42,"v":1}',
        "https://hotel.example/checkin?t=pms&order=042&v=1&exp=1772611200"
        f"&no=202603041332075890&sig={PMS_SIG}",
    ],
)
def test_a_hand_written_payload_with_the_known_answer_is_signed(text: str) -> None:
    payload = parse_payload(text, signing_key=KEY, now=NOW)
    assert payload.signed and not payload.needs_second_factor
    assert payload.ref == PMS_REF
    assert payload.expires == datetime.fromtimestamp(EXP, UTC)


@pytest.mark.parametrize("url_base", [None, "https://hotel.example/checkin"])
@pytest.mark.parametrize("ref", [PMS_REF, OA_REF])
def test_a_code_signed_with_another_key_is_refused(ref, url_base) -> None:
    text = encode_payload(ref, signing_key=OTHER_KEY, url_base=url_base)
    with pytest.raises(QrPayloadError) as err:
        parse_payload(text, signing_key=KEY, now=NOW)
    assert err.value.reason is Reason.BAD_SIGNATURE


def test_a_known_answer_for_one_booking_does_not_sign_another() -> None:
    text = f'{{"v":1,"t":"pms","order":43,"no":"202603041332075890","exp":{EXP},"sig":"{PMS_SIG}"}}'
    with pytest.raises(QrPayloadError) as err:
        parse_payload(text, signing_key=KEY, now=NOW)
    assert err.value.reason is Reason.BAD_SIGNATURE
