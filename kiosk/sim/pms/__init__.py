"""Simulated PMS (seed 004): handlers by path in ``ROUTES``."""

from collections.abc import Callable
from typing import Any

ROUTES: dict[str, Callable[..., Any]] = {}
