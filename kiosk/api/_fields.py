"""Field types shared by the API models: money, times and the PMS's 1/2 flags.

Conversions happen here, at the API edge, so the core only ever sees
``decimal.Decimal`` amounts and aware UTC ``datetime`` values (DESIGN.md,
"Money, time and identity").
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

OA_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_MONEY = Decimal(10) ** 12  # far past any folio; keeps quantize() within its precision
MAX_UNIX_TIME = 253_402_300_799  # 9999-12-31 23:59:59 UTC, the last second datetime holds
_MONEY_TEXT = re.compile(r"-?[0-9]{1,13}(\.[0-9]{1,6})?")  # ASCII only: no "１", "1_000", "1e3"
_UNIX_TEXT = re.compile(r"[0-9]{1,12}")


def parse_money(value: Any) -> Decimal:
    """A decimal amount from the API's strings ("100.00"); floats are refused, and so is
    any other spelling (fullwidth digits, "1_000", exponents) and any amount past
    :data:`MAX_MONEY`."""
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, bool | float):
        raise ValueError("amounts must be decimal strings, not floats")
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, str):
        if not _MONEY_TEXT.fullmatch(value.strip()):
            raise ValueError("not a decimal amount")
        amount = Decimal(value.strip())
    else:
        raise ValueError(f"not an amount: {type(value).__name__}")
    if not amount.is_finite() or abs(amount) >= MAX_MONEY:
        raise ValueError("amount out of range")
    return amount


def format_money(value: Decimal) -> str:
    """Two decimal places, as the PMS writes them."""
    return f"{value.quantize(Decimal('0.01')):f}"


def parse_unix_time(value: Any) -> datetime:
    """PMS Unix seconds (int or ASCII digit string) -> aware UTC datetime."""
    if isinstance(value, datetime):
        return _require_aware(value)
    if isinstance(value, bool):
        raise ValueError("not a timestamp")
    if isinstance(value, str) and _UNIX_TEXT.fullmatch(value.strip()):
        value = int(value)
    if isinstance(value, int):
        if not 0 <= value <= MAX_UNIX_TIME:
            raise ValueError("timestamp out of range")
        return datetime.fromtimestamp(value, UTC)
    raise ValueError("not a Unix timestamp")


def parse_optional_unix_time(value: Any) -> datetime | None:
    """Like :func:`parse_unix_time`, but 0, "" and null mean "no time"."""
    if value is None or (not isinstance(value, bool) and value in (0, "", "0")):
        return None
    return parse_unix_time(value)


def format_unix_time(value: datetime | None) -> int:
    return 0 if value is None else int(_require_aware(value).timestamp())


def parse_oa_time(value: Any) -> datetime:
    """Open-ability "YYYY-MM-DD HH:MM:SS" (UTC) -> aware UTC datetime."""
    if isinstance(value, datetime):
        return _require_aware(value)
    if isinstance(value, str):
        try:
            return datetime.strptime(value.strip(), OA_TIME_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            pass  # strptime's message quotes the value: it may be guest data

    raise ValueError("not an open-ability time")


def format_oa_time(value: datetime) -> str:
    return _require_aware(value).astimezone(UTC).strftime(OA_TIME_FORMAT)


def parse_ms_timestamp(value: Any) -> datetime:
    """Open-ability envelope ``timestamp`` (milliseconds) -> aware UTC datetime."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("not a millisecond timestamp")
    if not 0 <= value <= MAX_UNIX_TIME * 1000:
        raise ValueError("timestamp out of range")
    return datetime.fromtimestamp(value / 1000, UTC)


def format_ms_timestamp(value: datetime) -> int:
    return int(_require_aware(value).timestamp() * 1000)


def _require_aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: the core uses aware UTC datetimes")
    return value.astimezone(UTC)


Money = Annotated[
    Decimal, BeforeValidator(parse_money), PlainSerializer(format_money, return_type=str)
]
"""A PMS amount: ``Decimal`` inside, "100.00" on the wire."""

UnixTime = Annotated[
    datetime, BeforeValidator(parse_unix_time), PlainSerializer(format_unix_time, return_type=int)
]
"""A PMS time: aware UTC ``datetime`` inside, Unix seconds on the wire."""

OptionalUnixTime = Annotated[
    datetime | None,
    BeforeValidator(parse_optional_unix_time),
    PlainSerializer(format_unix_time, return_type=int),
]
"""A PMS time where 0 means "none" (e.g. ``occupied_end_time``)."""

OATime = Annotated[
    datetime, BeforeValidator(parse_oa_time), PlainSerializer(format_oa_time, return_type=str)
]
"""An open-ability time: aware UTC ``datetime`` inside, "YYYY-MM-DD HH:MM:SS" on the wire."""

MsTimestamp = Annotated[
    datetime,
    BeforeValidator(parse_ms_timestamp),
    PlainSerializer(format_ms_timestamp, return_type=int),
]
"""The open-ability envelope's millisecond ``timestamp``."""


class TolerantCode:
    """Mixin of an int or str enum of API codes: a value the seed does not document gives
    a pseudo-member ``UNDOCUMENTED_<value>`` (equal to the value) instead of raising, so
    replies keep parsing when the back-end grows a code; :attr:`documented` tells them apart.
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        member_type = cls._member_type_  # type: ignore[attr-defined]  (set by Enum)
        if not isinstance(value, member_type) or isinstance(value, bool) or value == "":
            return None
        pseudo = member_type.__new__(cls, value)
        pseudo._name_ = f"UNDOCUMENTED_{value}"
        pseudo._value_ = value
        return pseudo

    @property
    def documented(self) -> bool:
        return self._name_ in type(self).__members__  # type: ignore[attr-defined]
