"""The booking QR payload: both carriers, signatures, strictness, and fuzzed input."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.qr_payload import (
    BookingCodeRef,
    PmsOrderRef,
    QrPayloadError,
    Reason,
    encode_payload,
    parse_payload,
)

KEY = b"property-key-for-tests"
NOW = datetime(2026, 3, 4, 6, 0, tzinfo=UTC)
PMS_REF = PmsOrderRef(order_id=42, order_no="202603041332075890")
OA_REF = BookingCodeRef(residence_id="r31adc223cc4b3bedb6bd4742dedcfa52", booking_code="bfa332e2")


@pytest.mark.parametrize("ref", [PMS_REF, OA_REF])
@pytest.mark.parametrize("url_base", [None, "https://hotel.example/checkin"])
def test_signed_payload_round_trips_in_both_carriers(ref, url_base) -> None:
    text = encode_payload(ref, signing_key=KEY, url_base=url_base)
    payload = parse_payload(text, signing_key=KEY, now=NOW)
    assert payload.ref == ref
    assert payload.signed and not payload.needs_second_factor


def test_unsigned_payload_names_a_booking_but_needs_a_second_factor() -> None:
    payload = parse_payload('{"v":1,"t":"pms","order":7}', signing_key=KEY, now=NOW)
    assert payload.ref == PmsOrderRef(order_id=7)
    assert payload.needs_second_factor


def test_signature_without_a_key_to_check_it_counts_as_unsigned() -> None:
    text = encode_payload(PMS_REF, signing_key=KEY)
    assert parse_payload(text, signing_key=None, now=NOW).needs_second_factor


@pytest.mark.parametrize("tamper", [("42", "43"), ("2026", "2027")])
def test_tampered_signed_payload_is_refused(tamper) -> None:
    text = encode_payload(PMS_REF, signing_key=KEY).replace(*tamper, 1)
    with pytest.raises(QrPayloadError) as err:
        parse_payload(text, signing_key=KEY, now=NOW)
    assert err.value.reason is Reason.BAD_SIGNATURE


def test_expired_payload_is_refused_and_a_live_one_kept() -> None:
    text = encode_payload(OA_REF, signing_key=KEY, expires=NOW + timedelta(hours=1))
    assert parse_payload(text, signing_key=KEY, now=NOW).expires == NOW + timedelta(hours=1)
    with pytest.raises(QrPayloadError) as err:
        parse_payload(text, signing_key=KEY, now=NOW + timedelta(hours=2))
    assert err.value.reason is Reason.EXPIRED


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("x" * 600, Reason.TOO_LONG),
        ("hello", Reason.UNKNOWN_FORMAT),
        ("http://hotel.example/checkin?v=1&t=pms&order=1", Reason.UNKNOWN_FORMAT),
        ('{"v":1,"t":"pms","order":1', Reason.UNKNOWN_FORMAT),
        ("[1,2]", Reason.UNKNOWN_FORMAT),
        ('{"v":2,"t":"pms","order":1}', Reason.UNKNOWN_FORMAT),
        ('{"v":1,"t":"pos","order":1}', Reason.UNKNOWN_FORMAT),
        ('{"v":1,"t":"pms","order":"1"}', Reason.BAD_FIELD),
        ('{"v":1,"t":"pms","order":0}', Reason.BAD_FIELD),
        ('{"v":1,"t":"pms","order":true}', Reason.BAD_FIELD),
        ('{"v":1,"t":"pms","order":99999999999}', Reason.BAD_FIELD),
        ('{"v":1,"t":"pms","order":1,"admin":true}', Reason.BAD_FIELD),
        ('{"v":1,"t":"oa","res":"r 1","code":"c"}', Reason.BAD_FIELD),
        ('{"v":1,"t":"oa","res":"r1"}', Reason.BAD_FIELD),
        ("https://h/c?v=1&t=pms&order=1&order=2", Reason.BAD_FIELD),
        ("https://h/c?v=1&t=pms&order=-1", Reason.BAD_FIELD),
        ('{"v":1,"t":"pms","order":1}\x07', Reason.NOT_TEXT),
        (b'{"v":1,"t":"pms","order":1}\xff', Reason.NOT_TEXT),
    ],
)
def test_strange_payloads_are_refused_with_a_reason(text, reason) -> None:
    with pytest.raises(QrPayloadError) as err:
        parse_payload(text, signing_key=KEY, now=NOW)
    assert err.value.reason is reason


@settings(derandomize=True, deadline=None)
@given(st.one_of(st.text(max_size=700), st.binary(max_size=700)))
def test_any_input_parses_or_is_refused_cleanly(data) -> None:
    with contextlib.suppress(QrPayloadError):
        parse_payload(data, signing_key=KEY, now=NOW)


@settings(derandomize=True, deadline=None)
@given(
    order_id=st.integers(min_value=1, max_value=2**31 - 1),
    order_no=st.one_of(st.none(), st.from_regex(r"[0-9A-Za-z-]{1,32}", fullmatch=True)),
)
def test_every_valid_pms_reference_round_trips(order_id, order_no) -> None:
    ref = PmsOrderRef(order_id=order_id, order_no=order_no)
    assert parse_payload(encode_payload(ref, signing_key=KEY), signing_key=KEY, now=NOW).ref == ref
