"""Staff access to the hidden operator menu: a PIN checked against a salted hash, with lockout.

The configuration holds only ``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>`` (make one
with ``python -m kiosk.operator_access``); the PIN itself is never stored or logged. After
``max_failures`` wrong PINs in a row the menu is locked for ``lockout``, during which even
the right PIN is refused. The count and the lock are kept in the state database, so
restarting the kiosk (or pulling its plug) neither resets the count nor lifts the lock.
Kivy-free; the clock is injectable for tests.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from hardware.health import DeviceHealth
from kiosk.lockout import Lockout
from kiosk.state import StateDb

log = logging.getLogger(__name__)

_SCHEME = "pbkdf2_sha256"
_MENU = "menu"  # the lockout's subject: one menu per kiosk
DEFAULT_ITERATIONS = 200_000  # about 0.3 s on a Pi 4: cheap for staff, slow for guessing


class PinHashError(ValueError):
    """The configured PIN hash is not in the ``pbkdf2_sha256$...`` format."""


class AccessResult(StrEnum):
    GRANTED = "granted"
    DENIED = "denied"  # wrong PIN, not (yet) locked
    LOCKED = "locked"  # too many wrong PINs: nothing is checked until the lockout ends


class OperatorPort(Protocol):
    """What the operator menu may see and do; the kiosk core implements it."""

    def health(self) -> list[DeviceHealth]: ...

    def set_out_of_service(self, on: bool) -> None: ...

    def request_staff(self) -> None: ...

    def acknowledge_staff(self) -> None: ...


def hash_pin(pin: str, *, iterations: int = DEFAULT_ITERATIONS, salt: bytes | None = None) -> str:
    """The configuration value for ``pin``."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return f"{_SCHEME}${iterations}${salt.hex()}${digest.hex()}"


def _parse(pin_hash: str) -> tuple[int, bytes, bytes]:
    parts = pin_hash.split("$")
    try:
        scheme, iterations, salt, digest = parts
        if scheme != _SCHEME or int(iterations) < 1:
            raise ValueError(scheme)
        return int(iterations), bytes.fromhex(salt), bytes.fromhex(digest)
    except ValueError:
        # The message names the format, never the configured value.
        raise PinHashError(
            f"operator PIN hash must be {_SCHEME}$<iterations>$<salt>$<hash>"
        ) from None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class OperatorAccess:
    """Checks PIN attempts; the failure count and lockout live in ``state``."""

    def __init__(
        self,
        pin_hash: str,
        state: StateDb,
        *,
        clock: Callable[[], datetime] = _utc_now,
        max_failures: int = 3,
        lockout: timedelta = timedelta(minutes=5),
    ) -> None:
        self._iterations, self._salt, self._digest = _parse(pin_hash)
        self._locks = Lockout(
            state, "operator_pin", max_failures=max_failures, duration=lockout, clock=clock
        )

    @property
    def locked_until(self) -> datetime | None:
        """When the current lockout ends; None when not locked."""
        return self._locks.locked_until(_MENU)

    def attempt(self, pin: str) -> AccessResult:
        """Check one PIN entry (blocking for the hash's cost: call it off the UI loop)."""
        if self.locked_until is not None:
            log.warning("operator PIN entered during lockout; not checked")
            return AccessResult.LOCKED
        candidate = hashlib.pbkdf2_hmac("sha256", pin.encode(), self._salt, self._iterations)
        if hmac.compare_digest(candidate, self._digest):
            self._locks.succeeded(_MENU)
            log.info("operator menu opened")
            return AccessResult.GRANTED
        lock = self._locks.failed(_MENU)
        if lock is not None:
            log.warning(
                "operator PIN wrong %d times: locked until %s",
                lock.failures,
                lock.until.isoformat(),
            )
            return AccessResult.LOCKED
        left = self._locks.failures_left(_MENU)
        log.warning("operator PIN wrong (%d more before the lockout)", left)
        return AccessResult.DENIED


if __name__ == "__main__":
    import getpass

    entered = getpass.getpass("Operator PIN: ")
    if not entered.isdigit() or len(entered) < 4:
        raise SystemExit("the PIN must be at least 4 digits")
    if getpass.getpass("Again: ") != entered:
        raise SystemExit("the two entries differ")
    print(hash_pin(entered))
