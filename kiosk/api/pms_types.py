"""Pydantic models of the PMS lodging API (seed 004): status codes, requests, replies.

Conventions:

- Amounts are :data:`Money` (``Decimal`` inside, "100.00" on the wire); times are
  :data:`UnixTime` (aware UTC ``datetime`` inside, Unix seconds on the wire).
  The PMS's own "Y-m-d H:i:s" strings (log and card creation times) carry no zone
  in the seed, so they are kept as the text the PMS sent, for display only.
- Request models forbid unknown fields and undocumented status codes: the kiosk
  must send what the seed documents. Reply models ignore unknown fields and keep
  undocumented status codes as ``UNDOCUMENTED_<n>`` pseudo-members (see
  :class:`PmsCode`), so a code the PMS adds later never breaks a whole reply.
- Fields in the seed's tables but missing from its examples are optional;
  an amount the PMS did not report is ``None``, never a made-up zero.
- Guest personal data, free text, door passwords and card payloads are left out
  of ``repr()``, and pydantic's validation errors hide their input, so logging a
  model or its error does not leak them (the messages of ``_fields``' own
  validators still quote the refused value).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from enum import IntEnum
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from kiosk.api._fields import Money, OptionalUnixTime, TolerantCode, UnixTime

# --- status codes -------------------------------------------------------------------------


class PmsCode(TolerantCode, IntEnum):
    """An integer code of the PMS; ``AccomStatus(60)`` gives ``AccomStatus.UNDOCUMENTED_60``
    (see :class:`TolerantCode`)."""


class YesNo(PmsCode):
    """The PMS's flags: 1 is yes, 2 is no. Truthiness follows the meaning, not the int."""

    YES = 1
    NO = 2

    def __bool__(self) -> bool:
        return self is YesNo.YES

    @classmethod
    def of(cls, flag: bool) -> YesNo:
        return cls.YES if flag else cls.NO


class OrderStatus(PmsCode):
    BOOKED = 110
    CANCELLED = 120
    IN_PROGRESS = 170
    COMPLETED = 180


class AccomStatus(PmsCode):
    """The status of one stay ("accom") of an order."""

    BOOKED = 40
    CANCELLED = 50
    CHECKED_IN = 70
    CHECKED_OUT = 80


class CheckoutStatus(PmsCode):
    UNSETTLED = 10
    SETTLED = 20


class BillStatus(PmsCode):
    UNSETTLED = 10
    SETTLED = 20
    TRANSFERRED_OUT = 30
    SPLIT = 40
    POSTED_ELSEWHERE = 50
    ADJUSTED = 60
    REVERSED = 70
    ON_ACCOUNT = 80


class AccomType(PmsCode):
    NORMAL = 10
    SELF_USE = 20
    COMPLIMENTARY = 30
    HOURLY = 40


class IdType(PmsCode):
    UNKNOWN = 0
    ID_CARD = 10
    OFFICER_CARD = 20
    TRAVEL_PERMIT = 30
    PASSPORT = 40
    OTHER = 50


class Gender(PmsCode):
    UNKNOWN = 0
    MALE = 10
    FEMALE = 20


class LogType(PmsCode):
    ORDER = 10
    BILL = 20


class LogEventType(PmsCode):
    BOOKING_CREATED = 10
    DIRECT_CHECK_IN_CREATED = 20
    CHECKED_IN = 30
    CHECKED_OUT = 40
    BOOKING_CANCELLED = 50
    CONSUMPTION = 60
    CASHIER = 70
    TENANTS_CHANGED = 80
    STAYS_CHANGED = 90
    SETTLEMENT_CANCELLED = 100
    SETTLED = 110
    STAY_EXTENDED = 120
    ORDER_CHANGED = 130
    BACKDATED_ORDER_CREATED = 140
    REMINDER_EDITED = 150


class CheckoutFeeType(PmsCode):
    """How the room fee of the check-out day is charged (``room_list.*.type``)."""

    NO_CHARGE = 10
    HALF_DAY = 20
    FULL_DAY = 30
    NO_SURCHARGE = 40
    SURCHARGE_HALF_DAY = 50
    SURCHARGE_FULL_DAY = 60
    CUSTOM = 70


class CheckOutMode(PmsCode):
    """``checkOut``'s ``type``."""

    CHECK_OUT_AND_SETTLE = 1
    CHECK_OUT_ONLY = 2


class CheckoutTiming(PmsCode):
    """``listCheckout``'s ``checkout_type``."""

    ON_TIME = 1
    OVERDUE = 2
    EARLY = 3


class BillType(PmsCode):
    """A cashier entry: money taken or money given back."""

    PAYMENT = 10
    REFUND = 20


class BillListType(PmsCode):
    """``getBillList``'s ``type``: consumption bills or cashier entries."""

    CONSUMPTION = 10
    CASHIER = 20


class ArrangeStatus(PmsCode):
    """``listCheckInRoom`` filter: every stay, those without a room, those with one."""

    ALL = 0
    UNASSIGNED = 10
    ASSIGNED = 20


class LockType(PmsCode):
    PASSWORD = 10
    CARD = 20


CodeT = TypeVar("CodeT", bound=PmsCode)


def _require_documented(code: PmsCode) -> PmsCode:
    if not code.documented:
        raise ValueError(f"{type(code).__name__} {int(code)} is not documented")
    return code


Documented = Annotated[CodeT, AfterValidator(_require_documented)]
"""A status code a request may carry: only the values the seed documents."""


# --- shared field shapes ------------------------------------------------------------------


def _pii(default: Any = None, *, factory: Callable[[], Any] | None = None) -> Any:
    """A field kept out of ``repr()``: guest personal data, free text, secrets."""
    if factory is not None:
        return Field(default_factory=factory, repr=False)
    return Field(default, repr=False)


def _empty_to_none(value: Any) -> Any:
    return None if value == "" else value


OptionalDate = Annotated[date | None, BeforeValidator(_empty_to_none)]
"""A "Y-m-d" date where the PMS writes "" for none (``birthday``)."""


class PmsRequest(BaseModel):
    """Base of request models: unknown fields are a bug on our side, so they are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, hide_input_in_errors=True)


class PmsResponse(BaseModel):
    """Base of reply models: fields the PMS adds later are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, hide_input_in_errors=True)


class _NameOrPhone(PmsRequest):
    """The seed requires a name or a phone number (or both) on orders and guests."""

    name: str | None = _pii()
    phone: str | None = _pii()

    @model_validator(mode="after")
    def _name_or_phone(self) -> _NameOrPhone:
        if not (self.name or self.phone):
            raise ValueError("a name or a phone number is required")
        return self


class _DateRange(PmsRequest):
    start_date: UnixTime
    end_date: UnixTime


class OrderRef(PmsRequest):
    """The request of operations that take only an order id."""

    order_id: int


class AccomRef(PmsRequest):
    """The request of operations that take only a stay id."""

    accom_id: int


class BillRef(PmsRequest):
    bill_id: int


class ReminderRef(PmsRequest):
    remind_id: int


# --- rooms --------------------------------------------------------------------------------


class AllRoomListRequest(PmsRequest):
    pms_id: int
    room_type_ids: list[int] | None = None


class CalendarRoom(PmsResponse):
    room_id: int
    room_type_id: int
    room_name: str
    room_status: int  # the seed documents no values for it
    is_dirty: YesNo = YesNo.NO
    sort: int = 0


class RoomTypeRooms(PmsResponse):
    room_type_id: int
    name: str
    short_name: str = ""
    pms_id: int | None = None
    rooms: list[CalendarRoom] = Field(default_factory=list)


class AllRoomList(PmsResponse):
    room_types: list[RoomTypeRooms] = Field(alias="list")


# --- orders: create, update, list, detail ------------------------------------------------


class _TenantFields(_NameOrPhone):
    id_type: Documented[IdType]
    id_number: str = _pii(...)
    gender: Documented[Gender] | None = None
    birthday: date | None = _pii()
    car_number: str | None = _pii()
    area: list[int] | None = _pii()
    address: str | None = _pii()
    email: str | None = _pii()


class NewTenant(_TenantFields):
    """A guest registered with a new order."""


class TenantEdit(_TenantFields):
    """A guest to add (no ``tenant_id``) or update (``updateAccomTenant``)."""

    tenant_id: int | None = None


class NewBill(PmsRequest):
    """A consumption posted to a stay."""

    consume_id: int
    date: date
    price: Money
    num: int
    remark: str | None = _pii()


class BillEdit(NewBill):
    """A consumption to add (no ``bill_id``) or update."""

    bill_id: int | None = None


class NewAccom(PmsRequest):
    """One stay of a new order."""

    room_id: int
    accom_type: Documented[AccomType]
    checkin_start_time: UnixTime
    checkin_end_time: UnixTime
    amount: Money
    accom_status: Documented[AccomStatus]
    is_custom_price: Documented[YesNo] | None = None
    bill_list: list[NewBill] | None = None
    tenant_list: list[NewTenant] | None = None
    # Not in the seed: with ``room_id`` 0, the room type of a stay booked without a room
    # (the simulator's reading of an unassigned stay; docs/simulator.md).
    room_type_id: int | None = None


class AccomEdit(NewAccom):
    """A stay of ``update``: ``accom_id`` for an existing stay, none for a new one."""

    accom_id: int | None = None
    is_custom_price: Documented[YesNo]
    bill_list: list[BillEdit] | None = None


class NewReminder(PmsRequest):
    remind_date: UnixTime
    content: str = _pii(...)


class _OrderFields(_NameOrPhone):
    remark: str | None = _pii()
    color: str | None = None


class CreateOrderRequest(_OrderFields):
    pms_id: int
    images: list[str] | None = None
    room_list: list[NewAccom]
    reminder_list: list[NewReminder] = Field(default_factory=list)


class CreatedOrder(PmsResponse):
    order_id: int


class UpdateOrderRequest(_OrderFields):
    order_id: int
    room_list: list[AccomEdit] | None = None


class AccomListRequest(_DateRange):
    pms_id: int


class RoomOrder(PmsResponse):
    """One stay on a room's calendar line."""

    order_id: int | None = None
    name: str = _pii("")
    phone: str = _pii("")
    remark: str = _pii("")
    accom_type: AccomType
    is_custom_price: YesNo = YesNo.NO
    checkin_start_time: UnixTime
    checkin_end_time: UnixTime
    total_amount: Money
    total_payed_amount: Money
    accom_status: AccomStatus
    is_arrears: YesNo = YesNo.NO


class RoomOrders(PmsResponse):
    room_id: int
    room_name: str
    room_full_name: str = ""
    order_list: list[RoomOrder] = Field(default_factory=list)


class AccomDetailRequest(OrderRef):
    # The table types it int though it is plural; a list is accepted too.
    accom_ids: int | list[int] | None = None


class Tenant(PmsResponse):
    tenant_id: int
    name: str = _pii("")
    phone: str = _pii("")
    id_type: IdType = IdType.UNKNOWN
    id_number: str = _pii("")
    gender: Gender = Gender.UNKNOWN
    birthday: OptionalDate = _pii()
    car_number: str = _pii("")
    area: list[int] = _pii(factory=list)
    address: str = _pii("")
    email: str = _pii("")


class AccomBill(PmsResponse):
    """A consumption on a stay. The seed calls its id ``customer_id`` here."""

    bill_id: int
    consume_id: int | None = Field(None, validation_alias=AliasChoices("consume_id", "customer_id"))
    name: str
    price: Money
    num: int
    amount: Money
    date: date


class RoomLocation(PmsResponse):
    building_id: int | None = None
    floor_id: int | None = None
    child_room_no: str = ""
    area_id: int | None = None


class DeviceLock(PmsResponse):
    lock_type: LockType
    device_no: str
    has_gateway: YesNo = YesNo.NO


class Accom(PmsResponse):
    """One stay of an order, as ``getAccomDetail`` gives it."""

    accom_id: int | None = None  # documented, but absent from the seed's example
    room_id: int
    room_name: str = ""
    room_type_id: int
    room_type_name: str = ""
    room_full_name: str = ""
    checkin_start_time: UnixTime
    checkin_end_time: UnixTime
    amount: Money
    accom_type: AccomType
    accom_status: AccomStatus
    checkout_status: CheckoutStatus
    is_custom_price: YesNo = YesNo.NO
    penalty_amount: Money | None = None
    tenant_list: list[Tenant] = Field(default_factory=list)
    bill_list: list[AccomBill] = Field(default_factory=list)
    room_location: RoomLocation | None = None
    device_lock: DeviceLock | None = None


class Reminder(PmsResponse):
    remind_id: int
    remind_date: UnixTime
    content: str = _pii("")


class StatusControl(PmsResponse):
    """Which actions the PMS allows on the order now; an absent flag means no."""

    is_show_checkin: YesNo = YesNo.NO
    is_show_extend: YesNo = YesNo.NO
    is_show_settle: YesNo = YesNo.NO
    is_show_cashier: YesNo = YesNo.NO
    is_show_cancel_book: YesNo = YesNo.NO
    is_show_status_revoke: YesNo = YesNo.NO
    is_show_more_operation: YesNo = YesNo.NO
    is_show_modify_order: YesNo = YesNo.NO
    is_show_change_room: YesNo = YesNo.NO
    is_show_restore_book: YesNo = YesNo.NO
    is_show_cancel_checkin: YesNo = YesNo.NO


class OrderBillSummary(PmsResponse):
    """``getAccomDetail``'s ``bill_summary``; the seed's example omits the last three."""

    cash_confirmed_amount: Money
    cash_consumed_amount: Money
    cash_unchecked_amount: Money
    confirmed_amount: Money
    need_pay_amount: Money
    order_amount: Money | None = None
    unconfirmed_amount: Money | None = None
    balance: Money | None = None


class AccomDetail(PmsResponse):
    """An order with its stays, guests, bills, reminders and allowed actions.

    The table calls the stays ``accom_list``, the seed's example ``room_list``.
    """

    order_id: int | None = None  # documented, but absent from the seed's example
    order_no: str
    name: str = _pii("")
    phone: str = _pii("")
    remark: str = _pii("")
    total_amount: Money
    total_payed_amount: Money
    consumed_amount: Money
    unchecked_amount: Money
    balance: Money
    created_date: UnixTime
    created_name: str = _pii("")
    color: str = ""
    images: list[str] = Field(default_factory=list)
    order_status: OrderStatus | None = None
    accom_list: list[Accom] = Field(
        default_factory=list, validation_alias=AliasChoices("accom_list", "room_list")
    )
    reminder_list: list[Reminder] = Field(default_factory=list)
    status_control: StatusControl = Field(default_factory=StatusControl)
    bill_summary: OrderBillSummary | None = None


class UpdateAccomTenantRequest(AccomRef):
    tenant_list: list[TenantEdit]


class AddAccomBillRequest(AccomRef):
    bill_list: list[NewBill] | None = None


# --- stays of an order: check-in, rooms, availability -------------------------------------


class AccomStay(PmsResponse):
    """The room and dates of one stay, common to many list replies."""

    accom_id: int
    room_id: int
    room_name: str
    room_full_name: str = ""
    checkin_start_time: UnixTime
    checkin_end_time: UnixTime


class CheckInRoom(PmsRequest):
    accom_id: int
    room_id: int


class CheckInRequest(OrderRef):
    checkin_rooms: list[CheckInRoom]


class CancelBookRequest(PmsRequest):
    accom_ids: list[int]
    penalty_amount: Money = Decimal("0.00")  # the seed: "send 0.00 when there is none"


class OccupancyRequest(_DateRange):
    room_type_id: int


class Occupancy(PmsResponse):
    occupy_room_ids: list[int] = Field(default_factory=list)
    dirty_room_ids: list[int] = Field(default_factory=list)


class RoomAvailabilityRequest(_DateRange):
    room_id: int


class RoomAvailability(PmsResponse):
    is_available: YesNo
    room_name: str = ""
    occupied_end_time: OptionalUnixTime = None  # set only when the room is not available


class AccomEndTime(PmsRequest):
    accom_id: int
    checkin_end_time: UnixTime


class AccomAvailabilityRequest(PmsRequest):
    accom_list: list[AccomEndTime]


class AccomAvailability(RoomAvailability):
    room_id: int


class CheckInRoomsRequest(OrderRef):
    arrange_status: Documented[ArrangeStatus]


class CheckInRoomOption(AccomStay):
    amount: Money
    total_days: int
    is_available: YesNo


class RoomStatusRequest(_DateRange):
    accom_id: int
    room_type_id: int


class RoomState(PmsResponse):
    room_id: int
    room_name: str
    is_dirty: YesNo = YesNo.NO
    is_occupied: YesNo = YesNo.NO
    is_pre_checkout: YesNo = YesNo.NO


class StayExtension(AccomEndTime):
    amount: Money


class ExtendCheckInRequest(PmsRequest):
    extends: list[StayExtension]


def _renew_days_by_accom(value: Any) -> Any:
    """The table documents ``[{accom_id, count}]``; the example is ``{"113": 21}``."""
    if isinstance(value, list):
        return {
            item["accom_id"]: item["count"]
            for item in value
            if isinstance(item, dict) and {"accom_id", "count"} <= item.keys()
        }
    return value


class MaxRenewDays(PmsResponse):
    max_count: int = Field(alias="maxCount")
    days_by_accom: Annotated[dict[int, int], BeforeValidator(_renew_days_by_accom)] = Field(
        default_factory=dict, alias="serviceCount"
    )


# --- bills, cashier, check-out, settle ---------------------------------------------------


class BillSummaryRequest(OrderRef):
    accom_ids: list[int] | None = None


class AccomConsumption(PmsResponse):
    name: str
    amount: Money
    count: int


class BillSummary(PmsResponse):
    order_amount: Money
    order_consume_num: int = 0
    confirmed_amount: Money
    unconfirmed_amount: Money
    consumed_amount: Money | None = None
    charged_amount: Money | None = None
    unchecked_amount: Money | None = None
    balance: Money
    cash_amount: Money | None = None
    cash_count: int = 0
    confirmed_consumed_amount: Money | None = None
    accom_consume_list: list[AccomConsumption] = Field(default_factory=list)


class BillListRequest(OrderRef):
    list_type: Documented[BillListType] = Field(alias="type")
    accom_id: int | None = None
    page_no: int | None = None
    page_size: int | None = None
    start_date: UnixTime | None = None
    end_date: UnixTime | None = None
    status: Documented[BillStatus] | None = None


class Bill(PmsResponse):
    bill_id: int
    order_id: int
    accom_id: int
    name: str
    status: BillStatus
    date: date
    price: Money
    num: int
    amount: Money
    remark: str = _pii("")
    creator_name: str = _pii("")
    create_date: str = ""  # "Y-m-d" or "Y-m-d H:i:s" without a zone: display only
    pay_id: int | None = None
    pay_name: str = ""


class BillPage(PmsResponse):
    bills: list[Bill] = Field(alias="list")
    page_no: int | None = None
    page_size: int | None = None
    total: int | None = None


class UpdateBillRequest(BillRef):
    remark: str | None = _pii()


class Payment(PmsRequest):
    """Money taken (or refunded) at check-out or settlement."""

    bill_type: Documented[BillType]
    name: str
    pay_id: int | None = None
    amount: Money


class CashierPayment(Payment):
    remark: str | None = _pii()


class CashierRequest(OrderRef):
    bills: list[CashierPayment]


class RoomCheckoutFee(PmsRequest):
    accom_id: int
    fee_type: Documented[CheckoutFeeType] = Field(alias="type")
    amount: Money


class CheckOutRequest(OrderRef):
    mode: Documented[CheckOutMode] = Field(alias="type")
    room_list: list[RoomCheckoutFee]
    bill_list: list[Payment] | None = None


class SettleRequest(OrderRef):
    room_list: list[RoomCheckoutFee] | None = None  # required while rooms are not checked out
    bill_list: list[Payment] | None = None  # required while bills are unsettled


class CheckoutListRequest(OrderRef):
    accom_status: list[Documented[AccomStatus]]


class _CurrentRoomAmount(PmsResponse):
    """The seed documents ``current_room_amount``; one example says ``currentRoomAmount``."""

    current_room_amount: Money | None = Field(
        None, validation_alias=AliasChoices("current_room_amount", "currentRoomAmount")
    )


class CheckoutAccom(AccomStay, _CurrentRoomAmount):
    checkout_type: CheckoutTiming
    total_days: int
    amount: Money
    accom_status: AccomStatus
    has_future_bill: YesNo = YesNo.NO
    total_room_fee: Money | None = None


class CheckoutAmountRequest(OrderRef):
    room_list: list[RoomCheckoutFee]


class CheckoutAccomAmount(AccomStay, _CurrentRoomAmount):
    pass


class CheckoutAmount(PmsResponse):
    order_amount: Money
    checked_amount: Money
    unchecked_amount: Money
    paid_amount: Money
    balance: Money
    confirmed_checked_amount: Money
    need_paid_amount: Money
    consume_amount: Money
    accom_list: list[CheckoutAccomAmount] = Field(default_factory=list)


# --- logs and reminders -------------------------------------------------------------------


class OrderLogsRequest(OrderRef):
    accom_id: int | None = None
    log_type: Documented[LogType] | None = None


class OrderLog(PmsResponse):
    log_id: int
    log_type: LogType
    log_type_text: str = ""
    event_type: LogEventType
    event_type_text: str = ""
    created_date: str = ""  # "Y-m-d H:i:s" without a zone: display only
    creator_name: str = _pii("")
    event_data: dict[str, Any] = _pii(factory=dict)


class OrderLogs(PmsResponse):
    logs: list[OrderLog] = Field(alias="list")


class CreateReminderRequest(NewReminder):
    order_id: int


class CreatedReminder(PmsResponse):
    remind_id: int


class UpdateReminderRequest(NewReminder):
    remind_id: int


# --- keys: room cards, door passwords, e-keys --------------------------------------------


class RoomCard(PmsResponse):
    """``ic_card_string``: the hex of the bytes to write to the card (a JSON object)."""

    ic_card_string: str = _pii(...)

    @property
    def card_bytes(self) -> bytes:
        return bytes.fromhex(self.ic_card_string)


class _PhoneFields(BaseModel):
    country_code: str
    phone: str = _pii(...)


class PhoneContact(_PhoneFields, PmsRequest):
    """A phone number a door password is sent to."""


class PasswordRecipient(_PhoneFields, PmsResponse):
    """A phone number a door password was sent to."""


class _KeyValidity(PmsRequest):
    accom_id: int
    start_time: UnixTime
    end_time: UnixTime


class SendOfflinePasswordRequest(_KeyValidity):
    phone_list: list[PhoneContact]


class LockPassword(PmsResponse):
    pwd_id: int
    keyboard_pwd: str = _pii(...)
    start_date: UnixTime
    end_date: UnixTime
    creator_name: str = _pii("")
    phone_list: list[PasswordRecipient] = Field(default_factory=list)


class AccomLockPasswords(AccomStay):
    device_lock: DeviceLock | None = None
    password_list: list[LockPassword] = Field(default_factory=list)


class DeletePasswordRequest(AccomRef):
    pwd_id: int


class AccessKey(PmsResponse):
    key_id: int
    receiver_account: str = _pii("")
    start_date: UnixTime
    end_date: UnixTime
    creator_name: str = _pii("")


class AccomAccessKeys(AccomStay):
    device_lock: DeviceLock | None = None
    key_list: list[AccessKey] = Field(default_factory=list)


class SendAccessKeyRequest(_KeyValidity):
    receiver_name: str = _pii(...)
    receiver_account: str = _pii(...)
    country_code: str


class DeleteAccessKeyRequest(AccomRef):
    key_id: int = Field(alias="id")


class AddAccomCardRequest(AccomRef):
    card_uid: str


class AccomCard(PmsResponse):
    card_uid: str
    card_name: str = ""
    card_type: int  # the seed documents no values for it
    card_type_name: str = ""
    start_date: UnixTime
    end_date: UnixTime
    create_time: str = ""  # "Y-m-d H:i:s" without a zone: display only
