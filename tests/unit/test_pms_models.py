"""The PMS models (seed 004) against the seed's own examples and its disagreements."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import IntEnum
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from kiosk.api import pms_types as t
from kiosk.api._client import dump_request
from kiosk.api.pms import OPERATIONS, PmsOperation

SEED_EXAMPLES = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "seed_examples" / "pms.json").read_text("utf-8")
)
EXAMPLES = {example["name"]: example for example in SEED_EXAMPLES}
GUEST = {
    "name": "Zhang San Guest",
    "phone": "13912345678",
    "id_type": 10,
    "id_number": "440300199001011234",
    "gender": 10,
    "birthday": "1990-01-01",
    "car_number": "B-PLATE-77",
    "area": [440000, 440300, 440306],
    "address": "12 Secret Street",
    "email": "guest@example.org",
}
PII_VALUES = [str(v) for k, v in GUEST.items() if k not in ("id_type", "gender", "area")]


def payload_of(name: str) -> Any:
    """The seed's reply payload: ``data``, or the whole object when it has no envelope."""
    response = EXAMPLES[name]["response"]
    return response.get("data", response) if "error_code" in response else response


def parse_reply(name: str) -> Any:
    return TypeAdapter(OPERATIONS[name].response).validate_python(payload_of(name))


def test_operations_match_the_seed_one_to_one() -> None:
    assert len(SEED_EXAMPLES) == 42
    assert set(OPERATIONS) == set(EXAMPLES)
    for name, op in OPERATIONS.items():
        assert isinstance(op, PmsOperation)
        assert op.path == EXAMPLES[name]["path"]


@pytest.mark.parametrize(
    ("name", "read"),
    [
        ("getAccomDetail", True),
        ("listCheckout", True),
        ("checkRoomAvailability", True),
        ("batchGetAccomAvailability", True),
        ("calculateCheckoutAmount", True),
        ("checkIn", False),
        ("checkOut", False),
        ("cashier", False),
        ("generateRoomCard", True),  # reads the stay's key payload; changes nothing
        ("create", False),
    ],
)
def test_only_side_effect_free_operations_are_reads(name: str, read: bool) -> None:
    assert OPERATIONS[name].read is read


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_seed_request_example_round_trips(name: str) -> None:
    """Parsing the seed's request and dumping it gives the seed's wire values back."""
    request = OPERATIONS[name].request.model_validate(EXAMPLES[name]["request"])
    assert dump_request(request) == EXAMPLES[name]["request"]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_seed_response_example_parses(name: str) -> None:
    op = OPERATIONS[name]
    if op.response is None:
        assert payload_of(name) == {}
        return
    parsed = parse_reply(name)
    items = parsed if isinstance(parsed, list) else [parsed]
    assert items, "the seed's examples are never empty"
    assert all(isinstance(item, BaseModel) for item in items)


def test_amounts_are_decimals_and_times_aware_utc() -> None:
    detail = parse_reply("getAccomDetail")
    assert isinstance(detail.total_amount, Decimal)
    assert detail.total_amount == Decimal("200.00")
    assert detail.created_date == datetime(2025, 3, 4, 5, 32, 7, tzinfo=UTC)
    assert detail.created_date.utcoffset().total_seconds() == 0
    stay = detail.accom_list[0]
    assert stay.checkin_start_time == datetime.fromtimestamp(1741023476, UTC)
    assert stay.bill_list[0].amount == Decimal("600.00")
    assert stay.bill_list[0].date == date(2021, 12, 12)


def test_request_amounts_and_times_go_out_as_strings_and_ints() -> None:
    request = t.ExtendCheckInRequest(
        extends=[
            t.StayExtension(
                accom_id=5,
                checkin_end_time=datetime(2025, 4, 1, 4, 0, tzinfo=UTC),
                amount=Decimal("80"),
            )
        ]
    )
    assert dump_request(request) == {
        "extends": [{"accom_id": 5, "checkin_end_time": 1743480000, "amount": "80.00"}]
    }


def test_cancel_book_sends_zero_penalty_by_default() -> None:
    wire = dump_request(t.CancelBookRequest(accom_ids=[1]))
    assert wire == {"accom_ids": [1], "penalty_amount": "0.00"}


def test_optional_zero_time_means_none() -> None:
    availability = parse_reply("checkRoomAvailability")
    assert availability.occupied_end_time is None
    assert not availability.is_available
    later = parse_reply("batchGetAccomAvailability")[0]
    assert later.occupied_end_time == datetime.fromtimestamp(1744387200, UTC)


@pytest.mark.parametrize("key", ["accom_list", "room_list"])
def test_accom_detail_reads_stays_under_either_name(key: str) -> None:
    payload = dict(payload_of("getAccomDetail"))
    stays = payload.pop("room_list")
    payload[key] = stays
    detail = t.AccomDetail.model_validate(payload)
    assert [stay.room_id for stay in detail.accom_list] == [19]


@pytest.mark.parametrize("key", ["consume_id", "customer_id"])
def test_bill_consume_id_under_either_name(key: str) -> None:
    bill = {"bill_id": 1, key: 7, "name": "Tea", "price": "3.00", "num": 2, "amount": "6.00"}
    assert t.AccomBill.model_validate({**bill, "date": "2025-01-01"}).consume_id == 7


@pytest.mark.parametrize("key", ["current_room_amount", "currentRoomAmount"])
def test_current_room_amount_under_either_name(key: str) -> None:
    payload = json.loads(json.dumps(payload_of("calculateCheckoutAmount")))
    stay = payload["accom_list"][0]
    del stay["currentRoomAmount"]
    stay[key] = "55.50"
    amount = t.CheckoutAmount.model_validate(payload)
    assert amount.accom_list[0].current_room_amount == Decimal("55.50")


@pytest.mark.parametrize(
    "service_count",
    [{"113": 21, "114": 3}, [{"accom_id": 113, "count": 21}, {"accom_id": 114, "count": 3}]],
)
def test_renew_days_as_mapping_or_documented_list(service_count: Any) -> None:
    renew = t.MaxRenewDays.model_validate({"maxCount": 21, "serviceCount": service_count})
    assert renew.days_by_accom == {113: 21, 114: 3}


def test_room_card_payload_is_the_documented_json() -> None:
    card = parse_reply("generateRoomCard")
    assert json.loads(card.card_bytes) == {
        "room_id": 32,
        "check_in_time": 1743487200,
        "check_out_time": 1743570000,
    }
    assert card.ic_card_string not in repr(card)


def test_guest_personal_data_is_not_in_repr() -> None:
    tenant_edit = t.TenantEdit(tenant_id=3, **GUEST)
    tenant = t.Tenant.model_validate({"tenant_id": 3, **GUEST})
    order = t.CreateOrderRequest(
        pms_id=2,
        name=GUEST["name"],
        phone=GUEST["phone"],
        room_list=[
            t.NewAccom(
                room_id=19,
                accom_type=t.AccomType.NORMAL,
                checkin_start_time=datetime(2025, 3, 4, tzinfo=UTC),
                checkin_end_time=datetime(2025, 3, 5, tzinfo=UTC),
                amount=Decimal("100.00"),
                accom_status=t.AccomStatus.BOOKED,
                tenant_list=[t.NewTenant(**GUEST)],
            )
        ],
    )
    key = t.SendAccessKeyRequest(
        accom_id=1,
        start_time=datetime(2025, 3, 4, tzinfo=UTC),
        end_time=datetime(2025, 3, 5, tzinfo=UTC),
        receiver_name=GUEST["name"],
        receiver_account=GUEST["phone"],
        country_code="+86",
    )
    for model in (tenant_edit, tenant, order, key):
        shown = f"{model!r} {model!s}"
        for value in PII_VALUES:
            assert value not in shown, (type(model).__name__, value)
    assert tenant.id_number == GUEST["id_number"]
    assert "tenant_id=3" in repr(tenant)


def test_validation_errors_do_not_echo_guest_data() -> None:
    with pytest.raises(ValidationError) as caught:
        t.NewTenant(**{**GUEST, "id_type": "not a code"})
    assert GUEST["name"] not in str(caught.value)
    assert "not a code" not in str(caught.value)


@pytest.mark.parametrize(
    ("model", "payload"),
    [
        (t.CheckInRequest, {"order_id": "first", "checkin_rooms": []}),
        (
            t.CashierRequest,
            {"order_id": 1, "bills": [{"bill_type": 10, "name": "x", "amount": 1.5}]},
        ),
        (t.AccomStay, {**payload_of("getCheckInAccom")[0], "checkin_start_time": "yesterday"}),
        (t.BillSummary, {**payload_of("getBillSummary"), "balance": "lots"}),
        (t.RoomAvailability, {"is_available": "maybe", "room_name": "101"}),
    ],
)
def test_wrong_typed_field_is_refused(model: type[BaseModel], payload: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(payload)


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValidationError):
        t.CreateReminderRequest(order_id=1, remind_date=datetime(2025, 3, 4), content="x")


def test_requests_forbid_unknown_fields_replies_ignore_them() -> None:
    with pytest.raises(ValidationError):
        t.OrderRef.model_validate({"order_id": 1, "orderId": 1})
    card = t.AccomCard.model_validate({**payload_of("getAllAccomCard")[0], "new_field": 1})
    assert not hasattr(card, "new_field")


def test_aliased_request_fields_accept_their_python_names() -> None:
    request = t.CheckOutRequest(
        order_id=1,
        mode=t.CheckOutMode.CHECK_OUT_ONLY,
        room_list=[t.RoomCheckoutFee(accom_id=2, fee_type=t.CheckoutFeeType.CUSTOM, amount="9")],
    )
    assert dump_request(request) == {
        "order_id": 1,
        "type": 2,
        "room_list": [{"accom_id": 2, "type": 70, "amount": "9.00"}],
    }
    assert dump_request(t.DeleteAccessKeyRequest(accom_id=1, key_id=4)) == {"accom_id": 1, "id": 4}


@pytest.mark.parametrize("model", [t.CreateOrderRequest, t.UpdateOrderRequest, t.NewTenant])
def test_name_or_phone_is_required(model: type[BaseModel]) -> None:
    fields = {
        t.CreateOrderRequest: {"pms_id": 2, "room_list": []},
        t.UpdateOrderRequest: {"order_id": 1},
        t.NewTenant: {"id_type": 10, "id_number": "X1"},
    }[model]
    with pytest.raises(ValidationError, match="name or a phone"):
        model.model_validate(fields)
    assert model.model_validate({**fields, "phone": "1"}).phone == "1"


CODES = [
    code
    for code in vars(t).values()
    if isinstance(code, type) and issubclass(code, t.PmsCode) and code is not t.PmsCode
]


def test_every_documented_code_table_is_there() -> None:
    assert {code.__name__ for code in CODES} == {
        "YesNo", "OrderStatus", "AccomStatus", "CheckoutStatus", "BillStatus", "AccomType",
        "IdType", "Gender", "LogType", "LogEventType", "CheckoutFeeType", "CheckOutMode",
        "CheckoutTiming", "BillType", "BillListType", "ArrangeStatus", "LockType",
    }  # fmt: skip
    assert {int(v) for v in t.BillStatus} == set(range(10, 90, 10))
    assert {int(v) for v in t.LogEventType} == set(range(10, 160, 10))
    assert {int(v) for v in t.IdType} == {0, 10, 20, 30, 40, 50}


@pytest.mark.parametrize("code", [member for code in CODES for member in code], ids=repr)
def test_documented_codes_parse_as_members(code: IntEnum) -> None:
    class Holder(t.PmsRequest):
        value: t.Documented[type(code)]  # type: ignore[valid-type]

    assert Holder.model_validate({"value": int(code)}).value is code


def test_undocumented_code_is_kept_in_replies_and_refused_in_requests() -> None:
    stay = {**payload_of("listCheckout")[0], "accom_status": 75, "checkout_type": 9}
    parsed = t.CheckoutAccom.model_validate(stay)
    assert parsed.accom_status == 75
    assert not parsed.accom_status.documented
    assert parsed.accom_status.name == "UNDOCUMENTED_75"
    assert t.AccomStatus.CHECKED_IN.documented
    with pytest.raises(ValidationError, match="not documented"):
        t.CheckoutListRequest(order_id=1, accom_status=[75])
    with pytest.raises(ValidationError):
        t.CheckoutListRequest(order_id=1, accom_status=["checked in"])


def test_yes_no_truthiness_follows_the_meaning() -> None:
    assert t.YesNo.YES and not t.YesNo.NO
    assert t.YesNo.of(True) is t.YesNo.YES
    assert t.YesNo.of(False) is t.YesNo.NO
    rooms = parse_reply("getRoomStatus")
    assert [bool(room.is_pre_checkout) for room in rooms] == [False, True]
    assert not t.YesNo(0)  # undocumented: neither yes nor no
