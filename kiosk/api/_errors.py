"""Typed errors of the API clients.

Messages name the operation and the code, never the request body: bodies carry
guest personal data and tokens (DEVELOPERS.md, "Guest personal data").
"""

from __future__ import annotations


class ApiError(Exception):
    """Base of every error an API client raises."""

    def __init__(self, operation: str, message: str) -> None:
        super().__init__(f"{operation}: {message}")
        self.operation = operation


class TransportError(ApiError):
    """The back-end could not be reached or did not answer in time.

    ``ambiguous`` is True when the request may have reached the server (a read
    timeout, a dropped connection after sending): a mutating call must then be
    reconciled against the back-end's state before it is sent again.
    """

    def __init__(self, operation: str, message: str, *, ambiguous: bool) -> None:
        super().__init__(operation, message)
        self.ambiguous = ambiguous


class HttpStatusError(ApiError):
    """The server answered with an HTTP status other than 200."""

    def __init__(
        self, operation: str, status_code: int, *, retry_after: float | None = None
    ) -> None:
        super().__init__(operation, f"HTTP {status_code}")
        self.status_code = status_code
        self.retry_after = retry_after  # seconds, from a Retry-After header (429, 503)


class ResponseFormatError(ApiError):
    """The reply was not JSON, or did not match the documented model."""


class PmsError(ApiError):
    """The PMS answered with a non-zero ``error_code``."""

    code: int | None = None  # set on the named subclasses

    def __init__(self, operation: str, error_code: int, error_msg: str = "") -> None:
        super().__init__(operation, f"error_code {error_code}: {error_msg}".rstrip(": "))
        self.error_code = error_code
        self.error_msg = error_msg

    @classmethod
    def from_code(cls, operation: str, error_code: int, error_msg: str = "") -> PmsError:
        """The named subclass for the documented codes 444-447, else a plain PmsError."""
        for sub in (PmsReservedRoomsExist, PmsRoomsNotCheckedOut, PmsUnsettledBills, PmsOverpaid):
            if sub.code == error_code:
                return sub(operation, error_code, error_msg)
        return cls(operation, error_code, error_msg)


class PmsReservedRoomsExist(PmsError):
    """444: the order still has reserved (not checked-in) rooms (settle)."""

    code = 444


class PmsRoomsNotCheckedOut(PmsError):
    """445: the order still has rooms that are not checked out (settle)."""

    code = 445


class PmsUnsettledBills(PmsError):
    """446: unsettled bills remain; the cashier must take payment first (checkOut, settle)."""

    code = 446


class PmsOverpaid(PmsError):
    """447: more was collected than is owed (settle)."""

    code = 447


class OpenAbilityError(ApiError):
    """The open-ability API answered ``success: false``.

    The seeds do not document the failure body ("see interface failure return"),
    so whatever ``code`` and ``message`` fields it carries are kept as given.
    """

    def __init__(self, operation: str, code: str | int | None, message: str) -> None:
        super().__init__(operation, f"failed ({code}): {message}" if code else f"failed: {message}")
        self.code = code
        self.message = message
