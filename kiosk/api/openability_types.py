"""Pydantic models of the open-ability API: amenity bookings (seed 000), hotel orders (seed 001).

Conventions (as in :mod:`kiosk.api.pms_types`):

- Times are :data:`OATime` (aware UTC ``datetime`` inside, "YYYY-MM-DD HH:MM:SS" on the
  wire); the envelope's ``timestamp`` is :data:`MsTimestamp`. The booking time list
  gives times of day ("08:00"), UTC, which :meth:`TimeWindow.on` places on a date.
- Request models forbid unknown fields and send only documented states. Reply models
  ignore unknown fields and keep an undocumented state as a pseudo-member (see
  :class:`OAState`), so a state the back-end adds later never breaks a whole list.
- Seed 001's tables say ``finish_time`` while its examples send ``end_time``: both are
  read, ``finish_time`` is sent.
- Guest personal data, free text, PIN codes, booking codes and QR links are left out of
  ``repr()``, and validation errors hide their input, so logging a model or its error
  does not leak them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, StrictBool

from kiosk.api._fields import MsTimestamp, OATime, TolerantCode

# --- states -------------------------------------------------------------------------------


class OAState(TolerantCode, StrEnum):
    """A state of the open-ability API; ``BookingState("approved")`` gives a pseudo-member
    (see :class:`TolerantCode`)."""


class BookingState(OAState):
    PENDING = "pending"
    REJECTED = "rejected"
    CANCELED = "canceled"
    SUCCESS = "success"


class OrderState(OAState):
    """A hotel order's state; it only moves forward: check_in -> checked_in -> checked_out."""

    CHECK_IN = "check_in"  # booked, not yet checked in
    CHECKED_IN = "checked_in"
    CHECKED_OUT = "checked_out"


def _require_documented(state: OAState) -> OAState:
    if not state.documented:
        raise ValueError(f"{type(state).__name__} is not a documented value")
    return state


DocumentedOrderState = Annotated[OrderState, AfterValidator(_require_documented)]


# --- bases and shared shapes --------------------------------------------------------------


def _private(default: Any = None) -> Any:
    """A field kept out of ``repr()``: guest personal data, free text, secrets."""
    return Field(default, repr=False)


class OARequest(BaseModel):
    """Base of request models: unknown fields are a bug on our side, so they are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, hide_input_in_errors=True)


class OAResponse(BaseModel):
    """Base of reply models: fields the back-end adds later are ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, hide_input_in_errors=True)


class OAEnvelope(OAResponse):
    """Every reply: ``{success, timestamp, result}``; failures may add ``code``/``message``.

    The failure body is not documented by the seeds, so ``code`` and ``message`` are
    read from whichever of the usual names the back-end sends, and may be absent.
    """

    success: StrictBool  # JSON true or false: never "true", 1 or "1"
    timestamp: MsTimestamp | None = None
    result: Any = None
    code: str | int | None = Field(None, validation_alias=AliasChoices("code", "error_code"))
    message: str = Field(
        "", validation_alias=AliasChoices("message", "msg", "error_msg", "description")
    )


NonEmptyId = Annotated[str, Field(min_length=1, max_length=200)]


def _finish_time(default: Any = ...) -> Any:
    """Seed 001's end of a stay: ``finish_time`` in its tables, ``end_time`` in its examples."""
    return Field(default, validation_alias=AliasChoices("finish_time", "end_time"))


# --- amenity bookings (seed 000, user-commands) -------------------------------------------


class ResidenceRef(OARequest):
    """The request of ``get_booking_list`` and ``get_booking_amenity_list``."""

    residence_id: NonEmptyId


class BookingRef(OARequest):
    """The request of ``get_booking_info`` and ``delete_booking_info``."""

    residence_id: NonEmptyId
    booking_id: NonEmptyId


class BookingTimeListRequest(OARequest):
    residence_id: NonEmptyId
    amenity_id: NonEmptyId
    date: date  # "YYYY-MM-DD" on the wire


class CreateBookingRequest(OARequest):
    residence_id: NonEmptyId
    amenity_id: NonEmptyId
    start_time: OATime
    duration: int = Field(gt=0, description="minutes")


class CodeBookingRequest(OARequest):
    """A booking from a scanned booking code; the code is claimable once, like a token."""

    residence_id: NonEmptyId
    booking_code: NonEmptyId = Field(repr=False)


class BookingId(OARequest):
    booking_id: NonEmptyId


class BatchDeleteBookingsRequest(OARequest):
    residence_id: NonEmptyId
    bookings: list[BookingId] = Field(min_length=1)


class Amenity(OAResponse):
    amenity_id: str
    amenity_name: str
    amenity_picture_url: str = ""
    amenity_description: str = ""


class BookingInfo(Amenity):
    """``get_booking_info``'s reply: one booking of the residence (without its id)."""

    building_name: str = ""
    family_name: str = _private("")  # a household's name, often the guest's surname
    start_time: OATime
    finish_time: OATime
    state: BookingState
    is_expired: bool
    pin_code: str = _private("")
    qr_code_url: str = _private("")
    created_time: OATime | None = None


class Booking(BookingInfo):
    """One item of ``get_booking_list``."""

    booking_id: str


class TimeWindow(OAResponse):
    """A window of a day, UTC times of day ("08:00")."""

    start_time: time
    finish_time: time

    def on(self, day: date) -> tuple[datetime, datetime]:
        """The window placed on ``day``, as aware UTC datetimes."""
        return (
            datetime.combine(day, self.start_time, UTC),
            datetime.combine(day, self.finish_time, UTC),
        )


class BookingTimes(OAResponse):
    """``get_booking_time_list``'s reply: the day's bookable window and the slots inside it
    that cannot be booked."""

    allowed_booking_time: TimeWindow
    disallowed_booking_time: list[TimeWindow] = Field(default_factory=list)


class CreatedBooking(OAResponse):
    booking_id: str


# --- hotel orders (seed 001, hotel-commands) ----------------------------------------------


class OrderListRequest(OARequest):
    page_size: int = Field(20, ge=1, le=1000)
    page_index: int = Field(1, ge=1)


class OrderRef(OARequest):
    """The request of ``get_order_info`` and ``delete_order_info``."""

    order_id: NonEmptyId


class NewGuest(OARequest):
    guest_name: str = _private(...)
    email: str | None = _private()
    phone: str | None = _private()
    id_card: str | None = _private()
    passport: str | None = _private()


class CreateOrderRequest(OARequest):
    residence_id: NonEmptyId
    start_time: OATime
    finish_time: OATime = _finish_time()
    guest: NewGuest
    source: str | None = None
    remark: str | None = _private()
    enable_booking: bool | None = None


class UpdateOrderRequest(OARequest):
    """Fields left ``None`` are not sent and stay as they are."""

    order_id: NonEmptyId
    residence_id: NonEmptyId | None = None
    room_type_id: NonEmptyId | None = None
    start_time: OATime | None = None
    finish_time: OATime | None = _finish_time(None)
    order_state: DocumentedOrderState | None = None
    source: str | None = None
    remark: str | None = _private()
    enable_booking: bool | None = None


class Guest(OAResponse):
    guest_id: str
    guest_name: str = _private("")
    email: str = _private("")
    phone: str = _private("")
    id_card: str = _private("")
    passport: str = _private("")


class _OrderFields(OAResponse):
    order_number: str
    residence_id: str
    residence_no: str = ""
    room_type_id: str = ""
    room_type_name: str = ""
    start_time: OATime
    finish_time: OATime = _finish_time()
    order_state: OrderState
    guests: list[Guest] = Field(default_factory=list)


class Order(_OrderFields):
    """One item of ``get_order_list``."""

    order_id: str


class OrderInfo(_OrderFields):
    """``get_order_info``'s reply; the seed's example carries no ``order_id``."""

    order_id: str | None = None
    source: str = ""
    remark: str = _private("")
    enable_booking: bool = False


class CreatedOrder(OAResponse):
    order_id: str
    order_number: str
    guest_id: str
