"""The open-ability models (seeds 000 + 001) against the seeds' own examples and disagreements."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter, ValidationError

from kiosk.api import OpenAbilityError, ResponseFormatError
from kiosk.api import openability_types as t
from kiosk.api._client import dump_request
from kiosk.api.openability import (
    HOTEL_COMMANDS,
    OPERATIONS,
    USER_COMMANDS,
    new_command_id,
    unwrap_envelope,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "seed_examples"
ENDPOINT_OF_FILE = {
    "openability_user.json": USER_COMMANDS,
    "openability_hotel.json": HOTEL_COMMANDS,
}
EXAMPLES = {
    example["command"]: {**example, "endpoint": endpoint}
    for name, endpoint in ENDPOINT_OF_FILE.items()
    for example in json.loads((FIXTURES / name).read_text("utf-8"))
}
GUEST = {
    "guest_name": "Zhang San Guest",
    "email": "zhang.guest@example.org",
    "phone": "13912345678",
    "id_card": "440300199001011234",
    "passport": "E12345678",
}


def test_operations_match_the_seeds_one_to_one() -> None:
    assert len(EXAMPLES) == 13
    assert set(OPERATIONS) == set(EXAMPLES)
    for name, op in OPERATIONS.items():
        assert op.endpoint == EXAMPLES[name]["endpoint"]
        assert op.path == f"/api/v1.0/invoke/open-ability/method/{op.endpoint}"
        assert op.read == name.startswith("get_")


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_seed_request_example_validates_and_dumps_back(name: str) -> None:
    param = EXAMPLES[name]["request"]["param"]
    request = OPERATIONS[name].request.model_validate(param)
    # What the kiosk sends is the example, except that seed 001's examples say end_time
    # where its tables say finish_time: the table wins.
    expected = {("finish_time" if k == "end_time" else k): v for k, v in param.items()}
    assert dump_request(request) == expected


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_seed_reply_example_parses(name: str) -> None:
    op = OPERATIONS[name]
    reply = EXAMPLES[name]["response"]
    result = unwrap_envelope(op, reply)
    if op.response is None:
        assert result is None
        return
    parsed = TypeAdapter(op.response).validate_python(result)
    assert parsed
    envelope = t.OAEnvelope.model_validate(reply)
    assert envelope.timestamp == datetime.fromtimestamp(reply["timestamp"] / 1000, UTC)


def test_booking_example_values_are_typed() -> None:
    (booking,) = TypeAdapter(list[t.Booking]).validate_python(
        EXAMPLES["get_booking_list"]["response"]["result"]
    )
    assert booking.state is t.BookingState.PENDING
    assert booking.start_time == datetime(2024, 5, 2, 13, 14, 15, tzinfo=UTC)
    assert booking.finish_time == datetime(2024, 5, 2, 15, 14, 15, tzinfo=UTC)
    assert booking.is_expired is True
    assert booking.pin_code == "123456"


def test_order_example_reads_end_time_as_finish_time() -> None:
    info = t.OrderInfo.model_validate(EXAMPLES["get_order_info"]["response"]["result"])
    assert info.finish_time == datetime(2025, 8, 6, 3, 30, 3, tzinfo=UTC)
    assert info.order_state is t.OrderState.CHECK_IN
    assert info.enable_booking is False
    assert info.order_id is None  # the seed's get_order_info result has none
    assert info.guests[0].guest_name == "dom"


def test_finish_time_wins_over_end_time_when_both_are_sent() -> None:
    order = t.Order.model_validate(
        {
            "order_id": "o1",
            "order_number": "1",
            "residence_id": "r1",
            "start_time": "2025-08-06 03:00:03",
            "finish_time": "2025-08-07 03:00:03",
            "end_time": "2025-08-06 03:30:03",
            "order_state": "checked_in",
        }
    )
    assert order.finish_time == datetime(2025, 8, 7, 3, 0, 3, tzinfo=UTC)


def test_update_request_sends_only_what_is_set() -> None:
    request = t.UpdateOrderRequest(order_id="o1", order_state=t.OrderState.CHECKED_IN)
    assert dump_request(request) == {"order_id": "o1", "order_state": "checked_in"}


def test_time_window_is_placed_on_a_day_in_utc() -> None:
    times = t.BookingTimes.model_validate(EXAMPLES["get_booking_time_list"]["response"]["result"])
    start, finish = times.allowed_booking_time.on(date(2024, 1, 2))
    assert (start, finish) == (
        datetime(2024, 1, 2, 8, 0, tzinfo=UTC),
        datetime(2024, 1, 2, 23, 0, tzinfo=UTC),
    )
    assert [w.start_time.isoformat("minutes") for w in times.disallowed_booking_time] == [
        "08:30",
        "21:30",
    ]


def test_undocumented_states_parse_in_replies_but_are_refused_in_requests() -> None:
    info = t.BookingInfo.model_validate(
        {**EXAMPLES["get_booking_info"]["response"]["result"], "state": "waitlisted"}
    )
    assert info.state == "waitlisted"
    assert not info.state.documented
    assert t.BookingState.SUCCESS.documented
    with pytest.raises(ValidationError):
        t.UpdateOrderRequest(order_id="o1", order_state="moved_out")
    with pytest.raises(ValueError):
        t.OrderState("")


@pytest.mark.parametrize(
    "bad",
    ["2024-01-02T13:14:15", "2024-01-02 25:00:00", "", 1704201255, None],
)
def test_open_ability_times_are_strict(bad: Any) -> None:
    with pytest.raises(ValidationError):
        t.CreateBookingRequest(residence_id="r1", amenity_id="a1", start_time=bad, duration=10)


def test_naive_datetimes_are_refused_and_aware_ones_sent_in_utc() -> None:
    with pytest.raises(ValidationError):
        t.CreateBookingRequest(
            residence_id="r1", amenity_id="a1", start_time=datetime(2024, 1, 2, 13), duration=10
        )
    shanghai = datetime(2024, 1, 2, 21, 14, 15, tzinfo=ZoneInfo("Asia/Shanghai"))
    request = t.CreateBookingRequest(
        residence_id="r1", amenity_id="a1", start_time=shanghai, duration=80
    )
    assert dump_request(request)["start_time"] == "2024-01-02 13:14:15"


@pytest.mark.parametrize("duration", [0, -5])
def test_booking_duration_must_be_positive(duration: int) -> None:
    with pytest.raises(ValidationError):
        t.CreateBookingRequest(
            residence_id="r1", amenity_id="a1", start_time="2024-01-02 13:14:15", duration=duration
        )


def test_requests_refuse_unknown_fields_and_empty_batches() -> None:
    with pytest.raises(ValidationError):
        t.ResidenceRef(residence_id="r1", room="101")
    with pytest.raises(ValidationError):
        t.BatchDeleteBookingsRequest(residence_id="r1", bookings=[])
    with pytest.raises(ValidationError):
        t.ResidenceRef(residence_id="")


def test_guest_data_and_secrets_stay_out_of_repr_and_errors() -> None:
    order = t.CreateOrderRequest(
        residence_id="r1",
        start_time="2025-08-06 03:00:03",
        finish_time="2025-08-07 03:00:03",
        guest=t.NewGuest(**GUEST),
        remark="allergic to feathers",
    )
    guest = t.Guest(guest_id="g1", **GUEST)
    code = t.CodeBookingRequest(residence_id="r1", booking_code="k-secret-code-0001")
    booking = t.BookingInfo.model_validate(
        {**EXAMPLES["get_booking_info"]["response"]["result"], "family_name": "Zhang household"}
    )
    text = " ".join(repr(x) for x in (order, guest, code, booking))
    for secret in [*GUEST.values(), "allergic", "k-secret-code-0001", "123456", "Zhang household"]:
        assert secret not in text
    assert "r1" in text and "g1" in text  # ids are still there to debug with
    with pytest.raises(ValidationError) as caught:
        t.NewGuest(guest_name=GUEST["guest_name"], phone=13912345678)
    assert "13912345678" not in str(caught.value)


# --- the envelope ------------------------------------------------------------------------

OP = OPERATIONS["get_booking_list"]
DELETE = OPERATIONS["delete_booking_info"]


@pytest.mark.parametrize(
    ("reply", "code", "message"),
    [
        ({"success": False, "timestamp": 1, "code": 404, "message": "unknown"}, 404, "unknown"),
        ({"success": False, "error_code": "E_RES", "msg": "no such residence"}, "E_RES", "no such"),
        ({"success": False}, None, ""),  # nothing but the flag: still a typed error
    ],
)
def test_a_failure_raises_open_ability_error_with_what_it_carries(
    reply: dict, code: Any, message: str
) -> None:
    with pytest.raises(OpenAbilityError) as caught:
        unwrap_envelope(OP, reply)
    assert caught.value.code == code
    assert caught.value.message.startswith(message)
    assert caught.value.operation == "get_booking_list"


def test_a_failure_message_is_bounded() -> None:
    with pytest.raises(OpenAbilityError) as caught:
        unwrap_envelope(OP, {"success": False, "message": "x" * 10_000})
    assert len(caught.value.message) == 200


@pytest.mark.parametrize(
    "reply",
    [
        [],
        "ok",
        None,
        {"timestamp": 1, "result": []},  # no success flag
        {"success": "maybe", "result": []},
        {"success": True, "timestamp": "yesterday", "result": []},
        {"success": True, "timestamp": 1},  # a read without a result
    ],
)
def test_malformed_replies_raise_response_format_error(reply: Any) -> None:
    with pytest.raises(ResponseFormatError):
        unwrap_envelope(OP, reply)


@pytest.mark.parametrize("result", [{}, None, []])
def test_commands_without_a_result_accept_any_empty_result(result: Any) -> None:
    assert unwrap_envelope(DELETE, {"success": True, "timestamp": 1, "result": result}) is None


def test_command_ids_are_fresh_and_shaped_like_the_seeds() -> None:
    ids = {new_command_id() for _ in range(1000)}
    assert len(ids) == 1000
    example_id = EXAMPLES["get_booking_list"]["request"]["id"]
    for command_id in list(ids)[:10]:
        assert len(command_id) == len(example_id) and command_id[0] == "c"
        int(command_id[1:], 16)
