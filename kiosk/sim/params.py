"""Request validation for the simulator's handlers, and the error they raise.

The simulator parses requests on its own (not with the client's models), as a real
back-end would: the contract tests then check two independent readings of the seeds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

# Error codes the simulator answers with (PMS ``error_code``; open-ability ``code``).
# 444-447 are the seed's own; the others are the simulator's, documented in docs/simulator.md.
BAD_PARAMS = 400
UNAUTHORIZED = 401
NOT_FOUND = 404
CONFLICT = 409
UNKNOWN_OPERATION = 405

_MISSING = object()


class SimError(Exception):
    """A refusal the simulator answers with a clean error envelope."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


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

    def _fail(self, name: str, expected: str) -> SimError:
        return SimError(BAD_PARAMS, f"{self._where}.{name} must be {expected}")

    def integer(self, name: str, default: Any = _MISSING) -> Any:
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(name, "an integer")
        return value

    def text(self, name: str, default: Any = _MISSING, *, max_len: int = 500) -> Any:
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str) or len(value) > max_len:
            raise self._fail(name, f"a string of at most {max_len} characters")
        return value

    def boolean(self, name: str, default: Any = _MISSING) -> Any:
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, bool):
            raise self._fail(name, "true or false")
        return value

    def money(self, name: str, default: Any = _MISSING) -> Any:
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str):
            raise self._fail(name, 'a decimal string such as "100.00"')
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise self._fail(name, 'a decimal string such as "100.00"') from None
        if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
            raise self._fail(name, "a non-negative amount with at most two decimals")
        return amount

    def oa_time(self, name: str, default: Any = _MISSING) -> Any:
        """An open-ability "YYYY-MM-DD HH:MM:SS" UTC time as an aware datetime."""
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        try:
            return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        except (TypeError, ValueError):
            raise self._fail(name, 'a time "YYYY-MM-DD HH:MM:SS"') from None

    def integers(self, name: str, default: Any = _MISSING) -> Any:
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, list) or any(
            isinstance(v, bool) or not isinstance(v, int) for v in value
        ):
            raise self._fail(name, "a list of integers")
        return value

    def objects(self, name: str, default: Any = _MISSING) -> Any:
        """A list of objects, each as :class:`Params` (``name[i]`` in error messages)."""
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, list):
            raise self._fail(name, "a list of objects")
        return [Params(item, f"{self._where}.{name}[{i}]") for i, item in enumerate(value)]

    def obj(self, name: str, default: Any = _MISSING) -> Any:
        value = self._get(name, default)
        if value is default and default is not _MISSING:
            return value
        return Params(value, f"{self._where}.{name}")

    def raw(self, name: str, default: Any = None) -> Any:
        return self._data.get(name, default)
