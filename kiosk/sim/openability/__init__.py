"""Simulated open-ability API (seeds 000 + 001): handlers by command."""

from collections.abc import Callable
from typing import Any

USER_COMMANDS: dict[str, Callable[..., Any]] = {}
HOTEL_COMMANDS: dict[str, Callable[..., Any]] = {}
