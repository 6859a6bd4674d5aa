"""Typed async client of the PMS lodging API (seed 004): 42 operations, all ``POST`` + JSON.

Every reply is the envelope ``{error_code, description, error_msg, data}``;
``error_code`` 0 is success, anything else raises :meth:`PmsError.from_code`
(444-447 as named subclasses). Reads are retried by :class:`BaseClient`; writes
are sent once.

Disagreements of the seed that are tolerated here and in :mod:`kiosk.api.pms_types`
(requests always send what the tables say):

- ``getAccomDetail``: the table names the stays ``accom_list``, the example
  ``room_list``; both are read into ``AccomDetail.accom_list``. The example also
  lacks ``order_id`` and ``accom_id``, so they are optional.
- Bills: ``consume_id`` in requests, ``customer_id`` in ``getAccomDetail``'s
  bills; both are read into ``AccomBill.consume_id``.
- ``calculateCheckoutAmount``: ``current_room_amount`` in the table,
  ``currentRoomAmount`` in the example; both are accepted (and in ``listCheckout``).
- ``getBillSummary``: the example is the bare payload without the envelope; for
  this operation a JSON object without ``error_code`` is taken as the payload.
- ``getOrderMaxRenewDays``: ``serviceCount`` is a list of ``{accom_id, count}`` in
  the table and an ``{accom_id: count}`` object in the example; both become a dict.
- ``getAccomDetail``'s ``accom_ids`` is typed int although plural; a list is accepted.
- Operations that return nothing may answer ``data: {}``, ``[]`` or ``null``
  (PHP back-ends encode an empty object as ``[]``): ``error_code`` 0 is the success.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from kiosk.api._client import BaseClient, Operation, dump_request, parse_payload
from kiosk.api._errors import PmsError, ResponseFormatError
from kiosk.api.pms_types import (
    AccomAccessKeys,
    AccomAvailability,
    AccomAvailabilityRequest,
    AccomCard,
    AccomDetail,
    AccomDetailRequest,
    AccomListRequest,
    AccomLockPasswords,
    AccomRef,
    AccomStay,
    AddAccomBillRequest,
    AddAccomCardRequest,
    AllRoomList,
    AllRoomListRequest,
    BillListRequest,
    BillPage,
    BillRef,
    BillSummary,
    BillSummaryRequest,
    CancelBookRequest,
    CashierRequest,
    CheckInRequest,
    CheckInRoomOption,
    CheckInRoomsRequest,
    CheckoutAccom,
    CheckoutAmount,
    CheckoutAmountRequest,
    CheckoutListRequest,
    CheckOutRequest,
    CreatedOrder,
    CreatedReminder,
    CreateOrderRequest,
    CreateReminderRequest,
    DeleteAccessKeyRequest,
    DeletePasswordRequest,
    ExtendCheckInRequest,
    MaxRenewDays,
    Occupancy,
    OccupancyRequest,
    OrderLogs,
    OrderLogsRequest,
    OrderRef,
    ReminderRef,
    RoomAvailability,
    RoomAvailabilityRequest,
    RoomCard,
    RoomOrders,
    RoomState,
    RoomStatusRequest,
    SendAccessKeyRequest,
    SendOfflinePasswordRequest,
    SettleRequest,
    UpdateAccomTenantRequest,
    UpdateBillRequest,
    UpdateOrderRequest,
    UpdateReminderRequest,
)

READ_PREFIXES = ("get", "list", "batchGet", "calculate")
_ERROR_CODE_TEXT = re.compile(r"0|-?[1-9][0-9]{0,8}")


@dataclass(frozen=True)
class PmsOperation(Operation[Any, Any]):
    """A PMS operation: its URL path, and whether its reply may come without the envelope."""

    path: str
    bare_payload: bool = False


def is_read(name: str) -> bool:
    """Side-effect-free operations, which may be retried: get*, list*, check*Availability ...
    and ``generateRoomCard``, which reads the key payload of a stay and changes nothing."""
    return (
        name.startswith(READ_PREFIXES)
        or (name.startswith("check") and name.endswith("Availability"))
        or name == "generateRoomCard"
    )


def _op(prefix: str, name: str, request: type[BaseModel], response: Any) -> PmsOperation:
    return PmsOperation(
        name=name,
        request=request,
        response=response,
        read=is_read(name),
        path=f"/api/v1/{prefix}/{name}",
        bare_payload=name == "getBillSummary",
    )


_ROOM, _ORDER, _DEVICE = "pmsRoom", "pmsOrder", "pmsDevice"

OPERATIONS: dict[str, PmsOperation] = {
    op.name: op
    for op in (
        _op(_ROOM, "getAllRoomList", AllRoomListRequest, AllRoomList),
        _op(_ORDER, "create", CreateOrderRequest, CreatedOrder),
        _op(_ORDER, "update", UpdateOrderRequest, None),
        _op(_ORDER, "getAccomlist", AccomListRequest, list[RoomOrders]),
        _op(_ORDER, "getAccomDetail", AccomDetailRequest, AccomDetail),
        _op(_ORDER, "updateAccomTenant", UpdateAccomTenantRequest, None),
        _op(_ORDER, "addAccomBill", AddAccomBillRequest, None),
        _op(_ORDER, "getCheckInAccom", OrderRef, list[AccomStay]),
        _op(_ORDER, "checkIn", CheckInRequest, None),
        _op(_ORDER, "cancelBook", CancelBookRequest, None),
        _op(_ORDER, "getBillSummary", BillSummaryRequest, BillSummary),
        _op(_ORDER, "getBillList", BillListRequest, BillPage),
        _op(_ORDER, "updateBill", UpdateBillRequest, None),
        _op(_ORDER, "cancelBill", BillRef, None),
        _op(_ORDER, "cancelSettle", OrderRef, None),
        _op(_ORDER, "cashier", CashierRequest, None),
        _op(_ORDER, "checkOut", CheckOutRequest, None),
        _op(_ORDER, "settle", SettleRequest, None),
        _op(_ORDER, "listOccupied", OccupancyRequest, Occupancy),
        _op(_ORDER, "checkRoomAvailability", RoomAvailabilityRequest, RoomAvailability),
        _op(_ORDER, "batchGetAccomAvailability", AccomAvailabilityRequest, list[AccomAvailability]),
        _op(_ORDER, "getOrderLogs", OrderLogsRequest, OrderLogs),
        _op(_ORDER, "listCheckout", CheckoutListRequest, list[CheckoutAccom]),
        _op(_ORDER, "listCheckInRoom", CheckInRoomsRequest, list[CheckInRoomOption]),
        _op(_ORDER, "getRoomStatus", RoomStatusRequest, list[RoomState]),
        _op(_ORDER, "calculateCheckoutAmount", CheckoutAmountRequest, CheckoutAmount),
        _op(_ORDER, "createReminder", CreateReminderRequest, CreatedReminder),
        _op(_ORDER, "updateReminder", UpdateReminderRequest, None),
        _op(_ORDER, "deleteReminder", ReminderRef, None),
        _op(_ORDER, "extendCheckIn", ExtendCheckInRequest, None),
        _op(_ORDER, "getOrderMaxRenewDays", OrderRef, MaxRenewDays),
        _op(_ORDER, "cancelAccomStatus", AccomRef, None),
        _op(_ORDER, "generateRoomCard", AccomRef, RoomCard),
        _op(_DEVICE, "remoteUnlock", AccomRef, None),
        _op(_DEVICE, "sendOfflinePassword", SendOfflinePasswordRequest, None),
        _op(_ORDER, "getAccomAllLockPassword", OrderRef, list[AccomLockPasswords]),
        _op(_DEVICE, "deleteOfflinePassword", DeletePasswordRequest, None),
        _op(_ORDER, "getAccomAllAccessKeys", OrderRef, list[AccomAccessKeys]),
        _op(_DEVICE, "sendAccessLockKey", SendAccessKeyRequest, None),
        _op(_DEVICE, "deleteAccessKey", DeleteAccessKeyRequest, None),
        _op(_ORDER, "addAccomCard", AddAccomCardRequest, None),
        _op(_ORDER, "getAllAccomCard", AccomRef, list[AccomCard]),
    )
}


def unwrap_envelope(op: PmsOperation, reply: Any) -> Any:
    """The ``data`` of a successful reply; raises on a PMS error or a malformed reply."""
    if not isinstance(reply, dict):
        raise ResponseFormatError(op.name, "reply is not a JSON object")
    if "error_code" not in reply:
        if op.bare_payload:
            return reply
        raise ResponseFormatError(op.name, "reply has no error_code")
    code = error_code_of(reply["error_code"])
    if code is None:
        raise ResponseFormatError(op.name, "error_code is not an integer")
    if code != 0:
        message = reply.get("error_msg") or reply.get("description") or ""
        raise PmsError.from_code(op.name, code, str(message))
    if op.response is None:
        return None
    if reply.get("data") is None:
        raise ResponseFormatError(op.name, "reply has no data")
    return reply["data"]


def error_code_of(value: Any) -> int | None:
    """``error_code`` as a JSON integer or its ASCII spelling ("0", "446"); None for anything
    else, so "０", "-0", "0.0", true or " 0x0" are never taken for success."""
    if isinstance(value, str) and _ERROR_CODE_TEXT.fullmatch(value):
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


class PmsClient(BaseClient):
    """One typed method per operation of the PMS; see :data:`OPERATIONS`."""

    async def _invoke(self, name: str, request: BaseModel) -> Any:
        op = OPERATIONS[name]
        if not isinstance(request, op.request):
            raise TypeError(f"{name} takes a {op.request.__name__}")
        reply = await self._post_json(name, op.path, dump_request(request), read=op.read)
        return parse_payload(name, op.response, unwrap_envelope(op, reply))

    async def invoke(self, name: str, body: dict[str, Any]) -> Any:
        """Operation ``name`` with a JSON ``body`` (how the outbox sends a stored mutation)."""
        return await self._invoke(name, OPERATIONS[name].request.model_validate(body))

    # rooms and orders

    async def get_all_room_list(self, request: AllRoomListRequest) -> AllRoomList:
        return await self._invoke("getAllRoomList", request)

    async def create(self, request: CreateOrderRequest) -> CreatedOrder:
        return await self._invoke("create", request)

    async def update(self, request: UpdateOrderRequest) -> None:
        await self._invoke("update", request)

    async def get_accom_list(self, request: AccomListRequest) -> list[RoomOrders]:
        return await self._invoke("getAccomlist", request)

    async def get_accom_detail(self, request: AccomDetailRequest) -> AccomDetail:
        return await self._invoke("getAccomDetail", request)

    async def update_accom_tenant(self, request: UpdateAccomTenantRequest) -> None:
        await self._invoke("updateAccomTenant", request)

    async def add_accom_bill(self, request: AddAccomBillRequest) -> None:
        await self._invoke("addAccomBill", request)

    # check-in and stays

    async def get_check_in_accom(self, request: OrderRef) -> list[AccomStay]:
        return await self._invoke("getCheckInAccom", request)

    async def check_in(self, request: CheckInRequest) -> None:
        await self._invoke("checkIn", request)

    async def cancel_book(self, request: CancelBookRequest) -> None:
        await self._invoke("cancelBook", request)

    async def list_occupied(self, request: OccupancyRequest) -> Occupancy:
        return await self._invoke("listOccupied", request)

    async def check_room_availability(self, request: RoomAvailabilityRequest) -> RoomAvailability:
        return await self._invoke("checkRoomAvailability", request)

    async def batch_get_accom_availability(
        self, request: AccomAvailabilityRequest
    ) -> list[AccomAvailability]:
        return await self._invoke("batchGetAccomAvailability", request)

    async def list_check_in_room(self, request: CheckInRoomsRequest) -> list[CheckInRoomOption]:
        return await self._invoke("listCheckInRoom", request)

    async def get_room_status(self, request: RoomStatusRequest) -> list[RoomState]:
        return await self._invoke("getRoomStatus", request)

    async def extend_check_in(self, request: ExtendCheckInRequest) -> None:
        await self._invoke("extendCheckIn", request)

    async def get_order_max_renew_days(self, request: OrderRef) -> MaxRenewDays:
        return await self._invoke("getOrderMaxRenewDays", request)

    async def cancel_accom_status(self, request: AccomRef) -> None:
        await self._invoke("cancelAccomStatus", request)

    # bills, cashier, check-out and settlement

    async def get_bill_summary(self, request: BillSummaryRequest) -> BillSummary:
        return await self._invoke("getBillSummary", request)

    async def get_bill_list(self, request: BillListRequest) -> BillPage:
        return await self._invoke("getBillList", request)

    async def update_bill(self, request: UpdateBillRequest) -> None:
        await self._invoke("updateBill", request)

    async def cancel_bill(self, request: BillRef) -> None:
        await self._invoke("cancelBill", request)

    async def cancel_settle(self, request: OrderRef) -> None:
        await self._invoke("cancelSettle", request)

    async def cashier(self, request: CashierRequest) -> None:
        await self._invoke("cashier", request)

    async def check_out(self, request: CheckOutRequest) -> None:
        """Raises :class:`~kiosk.api.PmsUnsettledBills` (446) while bills are open."""
        await self._invoke("checkOut", request)

    async def settle(self, request: SettleRequest) -> None:
        """Raises the named :class:`~kiosk.api.PmsError` subclasses for 444-447."""
        await self._invoke("settle", request)

    async def list_checkout(self, request: CheckoutListRequest) -> list[CheckoutAccom]:
        return await self._invoke("listCheckout", request)

    async def calculate_checkout_amount(self, request: CheckoutAmountRequest) -> CheckoutAmount:
        return await self._invoke("calculateCheckoutAmount", request)

    # logs and reminders

    async def get_order_logs(self, request: OrderLogsRequest) -> OrderLogs:
        return await self._invoke("getOrderLogs", request)

    async def create_reminder(self, request: CreateReminderRequest) -> CreatedReminder:
        return await self._invoke("createReminder", request)

    async def update_reminder(self, request: UpdateReminderRequest) -> None:
        await self._invoke("updateReminder", request)

    async def delete_reminder(self, request: ReminderRef) -> None:
        await self._invoke("deleteReminder", request)

    # keys: room cards, door passwords, e-keys, remote unlock

    async def generate_room_card(self, request: AccomRef) -> RoomCard:
        return await self._invoke("generateRoomCard", request)

    async def add_accom_card(self, request: AddAccomCardRequest) -> None:
        await self._invoke("addAccomCard", request)

    async def get_all_accom_card(self, request: AccomRef) -> list[AccomCard]:
        return await self._invoke("getAllAccomCard", request)

    async def remote_unlock(self, request: AccomRef) -> None:
        await self._invoke("remoteUnlock", request)

    async def send_offline_password(self, request: SendOfflinePasswordRequest) -> None:
        await self._invoke("sendOfflinePassword", request)

    async def get_accom_all_lock_password(self, request: OrderRef) -> list[AccomLockPasswords]:
        return await self._invoke("getAccomAllLockPassword", request)

    async def delete_offline_password(self, request: DeletePasswordRequest) -> None:
        await self._invoke("deleteOfflinePassword", request)

    async def get_accom_all_access_keys(self, request: OrderRef) -> list[AccomAccessKeys]:
        return await self._invoke("getAccomAllAccessKeys", request)

    async def send_access_lock_key(self, request: SendAccessKeyRequest) -> None:
        await self._invoke("sendAccessLockKey", request)

    async def delete_access_key(self, request: DeleteAccessKeyRequest) -> None:
        await self._invoke("deleteAccessKey", request)
