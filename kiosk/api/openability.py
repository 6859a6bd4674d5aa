"""Typed async client of the open-ability API: seed 000 (user-commands) and 001 (hotel-commands).

Every call is ``POST /api/v1.0/invoke/open-ability/method/<endpoint>`` with the body
``{command, id, param}`` and the reply ``{success, timestamp (ms), result}``.

The command ``id`` is the kiosk's idempotency reference (DESIGN.md, "Money, time and
identity"): every method takes ``command_id``; when it is omitted a fresh one is made
with :func:`new_command_id`. A caller that may replay a mutating call (the outbox) keeps
the id and passes the same one again.

Failures are not documented by the seeds ("see interface failure return"): any reply
with ``success: false`` raises :class:`OpenAbilityError` with whatever ``code`` and
``message`` it carries; a reply that is not such an object raises
:class:`ResponseFormatError`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from kiosk.api._client import BaseClient, Operation, dump_request, parse_payload
from kiosk.api._errors import OpenAbilityError, ResponseFormatError
from kiosk.api.openability_types import (
    Amenity,
    BatchDeleteBookingsRequest,
    Booking,
    BookingInfo,
    BookingRef,
    BookingTimeListRequest,
    BookingTimes,
    CodeBookingRequest,
    CreateBookingRequest,
    CreatedBooking,
    CreatedOrder,
    CreateOrderRequest,
    OAEnvelope,
    Order,
    OrderInfo,
    OrderListRequest,
    OrderRef,
    ResidenceRef,
    UpdateOrderRequest,
)

PATH_PREFIX = "/api/v1.0/invoke/open-ability/method/"
USER_COMMANDS = "user-commands"
HOTEL_COMMANDS = "hotel-commands"
MAX_MESSAGE = 200  # an undocumented failure message is kept, but not at any length


@dataclass(frozen=True)
class OAOperation(Operation[Any, Any]):
    """An open-ability command and the endpoint (``user-commands``/``hotel-commands``) it is on."""

    endpoint: str

    @property
    def path(self) -> str:
        return PATH_PREFIX + self.endpoint


def _op(endpoint: str, name: str, request: type[BaseModel], response: Any) -> OAOperation:
    return OAOperation(
        name=name,
        request=request,
        response=response,
        read=name.startswith("get_"),
        endpoint=endpoint,
    )


OPERATIONS: dict[str, OAOperation] = {
    op.name: op
    for op in (
        _op(USER_COMMANDS, "get_booking_list", ResidenceRef, list[Booking]),
        _op(USER_COMMANDS, "get_booking_info", BookingRef, BookingInfo),
        _op(USER_COMMANDS, "get_booking_amenity_list", ResidenceRef, list[Amenity]),
        _op(USER_COMMANDS, "get_booking_time_list", BookingTimeListRequest, BookingTimes),
        _op(USER_COMMANDS, "create_booking_info", CreateBookingRequest, CreatedBooking),
        _op(USER_COMMANDS, "create_code_booking_info", CodeBookingRequest, CreatedBooking),
        _op(USER_COMMANDS, "delete_booking_info", BookingRef, None),
        _op(USER_COMMANDS, "batch_delete_booking_info", BatchDeleteBookingsRequest, None),
        _op(HOTEL_COMMANDS, "get_order_list", OrderListRequest, list[Order]),
        _op(HOTEL_COMMANDS, "get_order_info", OrderRef, OrderInfo),
        _op(HOTEL_COMMANDS, "create_order_info", CreateOrderRequest, CreatedOrder),
        _op(HOTEL_COMMANDS, "update_order_info", UpdateOrderRequest, None),
        _op(HOTEL_COMMANDS, "delete_order_info", OrderRef, None),
    )
}


def new_command_id() -> str:
    """A fresh command id in the seed's shape: "c" and 32 hex digits."""
    return "c" + uuid.uuid4().hex


def unwrap_envelope(op: OAOperation, reply: Any) -> Any:
    """The ``result`` of a successful reply; raises on ``success: false`` or a malformed reply."""
    if not isinstance(reply, dict):
        raise ResponseFormatError(op.name, "reply is not a JSON object")
    envelope: OAEnvelope = parse_payload(op.name, OAEnvelope, reply)
    if not envelope.success:
        raise OpenAbilityError(op.name, envelope.code, envelope.message[:MAX_MESSAGE])
    if op.response is None:
        return None  # update/delete answer {} (or null, or []): success is all there is
    if envelope.result is None:
        raise ResponseFormatError(op.name, "reply has no result")
    return envelope.result


class OpenAbilityClient(BaseClient):
    """One typed method per open-ability command; see :data:`OPERATIONS`."""

    async def invoke(
        self, op: OAOperation, request: BaseModel, *, command_id: str | None = None
    ) -> Any:
        """Send ``request`` as the command ``op``; its parsed result (``None`` for no result)."""
        if not isinstance(request, op.request):
            raise TypeError(f"{op.name} takes a {op.request.__name__}")
        body = {
            "command": op.name,
            "id": command_id or new_command_id(),
            "param": dump_request(request),
        }
        reply = await self._post_json(op.name, op.path, body, read=op.read)
        return parse_payload(op.name, op.response, unwrap_envelope(op, reply))

    async def _call(self, name: str, request: BaseModel, command_id: str | None) -> Any:
        return await self.invoke(OPERATIONS[name], request, command_id=command_id)

    # amenity bookings (user-commands)

    async def get_booking_list(
        self, request: ResidenceRef, *, command_id: str | None = None
    ) -> list[Booking]:
        return await self._call("get_booking_list", request, command_id)

    async def get_booking_info(
        self, request: BookingRef, *, command_id: str | None = None
    ) -> BookingInfo:
        return await self._call("get_booking_info", request, command_id)

    async def get_booking_amenity_list(
        self, request: ResidenceRef, *, command_id: str | None = None
    ) -> list[Amenity]:
        return await self._call("get_booking_amenity_list", request, command_id)

    async def get_booking_time_list(
        self, request: BookingTimeListRequest, *, command_id: str | None = None
    ) -> BookingTimes:
        return await self._call("get_booking_time_list", request, command_id)

    async def create_booking_info(
        self, request: CreateBookingRequest, *, command_id: str | None = None
    ) -> CreatedBooking:
        return await self._call("create_booking_info", request, command_id)

    async def create_code_booking_info(
        self, request: CodeBookingRequest, *, command_id: str | None = None
    ) -> CreatedBooking:
        return await self._call("create_code_booking_info", request, command_id)

    async def delete_booking_info(
        self, request: BookingRef, *, command_id: str | None = None
    ) -> None:
        await self._call("delete_booking_info", request, command_id)

    async def batch_delete_booking_info(
        self, request: BatchDeleteBookingsRequest, *, command_id: str | None = None
    ) -> None:
        await self._call("batch_delete_booking_info", request, command_id)

    # hotel orders (hotel-commands)

    async def get_order_list(
        self, request: OrderListRequest, *, command_id: str | None = None
    ) -> list[Order]:
        return await self._call("get_order_list", request, command_id)

    async def get_order_info(
        self, request: OrderRef, *, command_id: str | None = None
    ) -> OrderInfo:
        return await self._call("get_order_info", request, command_id)

    async def create_order_info(
        self, request: CreateOrderRequest, *, command_id: str | None = None
    ) -> CreatedOrder:
        return await self._call("create_order_info", request, command_id)

    async def update_order_info(
        self, request: UpdateOrderRequest, *, command_id: str | None = None
    ) -> None:
        await self._call("update_order_info", request, command_id)

    async def delete_order_info(self, request: OrderRef, *, command_id: str | None = None) -> None:
        await self._call("delete_order_info", request, command_id)
