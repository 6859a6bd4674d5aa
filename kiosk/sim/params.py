"""Request validation for the simulator's handlers, and the error they raise.

The simulator parses requests on its own (not with the client's models), as a real
back-end would: the contract tests then check two independent readings of the seeds.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

# Error codes the simulator answers with (PMS ``error_code``; open-ability ``code``).
# 444-447 are the seed's own; the others are the simulator's, documented in docs/simulator.md.
BAD_PARAMS = 400
UNAUTHORIZED = 401
NOT_FOUND = 404
CONFLICT = 409
UNKNOWN_OPERATION = 405

_MISSING = object()

# Bounds of what the simulator accepts. A real back-end stores ids and counts in 64-bit
# columns and money in a decimal column; past these a request is refused by name, never
# answered with a crash (issue 10).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_AMOUNT = Decimal("999999999.99")
MAX_UNIX_S = 4_102_444_800  # 2100-01-01: a time later than this is a mistake
MIN_YEAR, MAX_YEAR = 1900, 2099  # dates and open-ability times
# ASCII digits only: Python's Decimal, int() and strptime also take "1_000", fullwidth
# and other Unicode digits, which no back-end of the seeds writes.
_AMOUNT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_OA_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")
AMOUNT_RULE = (
    f'a decimal string such as "100.00": ASCII digits, at most two decimals, up to {MAX_AMOUNT}'
)


class SimError(Exception):
    """A refusal the simulator answers with a clean error envelope."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _is_int(value: Any, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


class Params:
    """Typed access to a JSON object of request parameters, naming the field on error."""

    def __init__(self, data: Any, where: str = "param") -> None:
        if not isinstance(data, dict):
            raise SimError(BAD_PARAMS, f"{where} must be an object")
        self._data = data
        self._where = where

    def __contains__(self, name: str) -> bool:
        return self._data.get(name) is not None

    def _get(self, name: str, default: Any) -> Any:
        value = self._data.get(name)
        if value is None:
            if default is _MISSING:
                raise SimError(BAD_PARAMS, f"{self._where}.{name} is required")
            return default
        return value

    def fail(self, name: str, expected: str) -> SimError:
        """The refusal of field ``name``: it ``must be {expected}``."""
        return SimError(BAD_PARAMS, f"{self._where}.{name} must be {expected}")

    def integer(
        self, name: str, default: Any = _MISSING, *, lo: int = INT64_MIN, hi: int = INT64_MAX
    ) -> Any:
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if not _is_int(value, lo, hi):
            raise self.fail(name, f"an integer from {lo} to {hi}")
        return value

    def text(self, name: str, default: Any = _MISSING, *, max_len: int = 500) -> Any:
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str) or len(value) > max_len or not _is_unicode(value):
            raise self.fail(name, f"a string of at most {max_len} characters")
        return value

    def boolean(self, name: str, default: Any = _MISSING) -> Any:
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, bool):
            raise self.fail(name, "true or false")
        return value

    def money(self, name: str, default: Any = _MISSING) -> Any:
        """A non-negative amount: "100.00", "100" or "0.5"; never "1e3", "1_000" or "NaN"."""
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str) or not _AMOUNT.fullmatch(value):
            raise self.fail(name, AMOUNT_RULE)
        amount = Decimal(value)
        if amount > MAX_AMOUNT:
            raise self.fail(name, AMOUNT_RULE)
        return amount

    def date(self, name: str, default: Any = _MISSING) -> Any:
        """A "YYYY-MM-DD" date (ASCII digits, years MIN_YEAR to MAX_YEAR)."""
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, str) and _DATE.fullmatch(value):
            with contextlib.suppress(ValueError):
                day = date.fromisoformat(value)
                if MIN_YEAR <= day.year <= MAX_YEAR:
                    return day
        raise self.fail(name, f"a date YYYY-MM-DD from {MIN_YEAR} to {MAX_YEAR}")

    def oa_time(self, name: str, default: Any = _MISSING) -> Any:
        """An open-ability "YYYY-MM-DD HH:MM:SS" UTC time as an aware datetime."""
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, str) and _OA_TIME.fullmatch(value):
            with contextlib.suppress(ValueError):
                moment = datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
                if MIN_YEAR <= moment.year <= MAX_YEAR:
                    return moment
        raise self.fail(name, f'a time "YYYY-MM-DD HH:MM:SS" from {MIN_YEAR} to {MAX_YEAR}')

    def integers(self, name: str, default: Any = _MISSING) -> Any:
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, list) or not all(_is_int(v, INT64_MIN, INT64_MAX) for v in value):
            raise self.fail(name, f"a list of integers from {INT64_MIN} to {INT64_MAX}")
        return value

    def objects(self, name: str, default: Any = _MISSING) -> Any:
        """A list of objects, each as :class:`Params` (``name[i]`` in error messages)."""
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, list):
            raise self.fail(name, "a list of objects")
        return [Params(item, f"{self._where}.{name}[{i}]") for i, item in enumerate(value)]

    def obj(self, name: str, default: Any = _MISSING) -> Any:
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        return Params(value, f"{self._where}.{name}")

    def raw(self, name: str, default: Any = None) -> Any:
        return self._data.get(name, default)


def _is_unicode(text: str) -> bool:
    """False for a lone surrogate ("\\ud800" in JSON): no database stores one."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
