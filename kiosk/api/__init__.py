"""Typed async clients for the back-end APIs of ``../shared/seeds`` (PMS and open-ability)."""

from kiosk.api._errors import (
    ApiError,
    HttpStatusError,
    OpenAbilityError,
    PmsError,
    PmsOverpaid,
    PmsReservedRoomsExist,
    PmsRoomsNotCheckedOut,
    PmsUnsettledBills,
    ResponseFormatError,
    TransportError,
)

__all__ = [
    "ApiError",
    "HttpStatusError",
    "OpenAbilityError",
    "PmsError",
    "PmsOverpaid",
    "PmsReservedRoomsExist",
    "PmsRoomsNotCheckedOut",
    "PmsUnsettledBills",
    "ResponseFormatError",
    "TransportError",
]
