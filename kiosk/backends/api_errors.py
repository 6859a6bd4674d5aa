"""API client errors turned into the ``BackendError``s a journey understands.

Shared by the adapters: a transport failure is :class:`BackendUnreachable` (ambiguous
when a write may have been applied), a malformed reply or HTTP error is a back-end
fault, and a refusal in the API's own envelope becomes the verb's refusal reason
(or, for the PMS's documented codes 444-447, a reason of its own). Details name the
operation and code only, as the client's messages do: never guest data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from kiosk.api import (
    ApiError,
    HttpStatusError,
    OpenAbilityError,
    PmsError,
    PmsOverpaid,
    PmsReservedRoomsExist,
    PmsRoomsNotCheckedOut,
    PmsUnsettledBills,
    TransportError,
)
from kiosk.backends.base import BackendError, BackendUnreachable, Reason

_PMS_CODES: dict[type[PmsError], Reason] = {
    PmsReservedRoomsExist: Reason.RESERVED_ROOMS_EXIST,
    PmsRoomsNotCheckedOut: Reason.ROOMS_NOT_CHECKED_OUT,
    PmsUnsettledBills: Reason.UNSETTLED_BILLS,
    PmsOverpaid: Reason.OVERPAID,
}


def backend_error(exc: ApiError, refused: Reason) -> BackendError:
    """The BackendError for ``exc``; ``refused`` is the verb's reason for a plain refusal."""
    if isinstance(exc, TransportError):
        return BackendUnreachable(str(exc), ambiguous=exc.ambiguous)
    if isinstance(exc, HttpStatusError) and exc.status_code >= 500:
        # 503 refuses before any work; another 5xx may have failed midway through a write
        return BackendUnreachable(str(exc), ambiguous=exc.status_code != 503)
    if isinstance(exc, PmsError):
        return BackendError(_PMS_CODES.get(type(exc), refused), str(exc))
    if isinstance(exc, OpenAbilityError):
        return BackendError(refused, str(exc))
    return BackendError(Reason.BACKEND_FAULT, str(exc))


@contextmanager
def mapped(refused: Reason) -> Iterator[None]:
    """Run API calls, raising :func:`backend_error` of any ApiError they raise."""
    try:
        yield
    except ApiError as exc:
        raise backend_error(exc, refused) from exc
