"""Operator PIN: hashing, checking, lockout after 3 wrong PINs for 5 minutes, kept over a
restart in the state database, log hygiene."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.lockout import locks_in_force
from kiosk.operator_access import AccessResult, OperatorAccess, PinHashError, hash_pin
from kiosk.state import StateDb

PIN = "482913"
FAST = 1_000  # iterations: the scheme is the same, the tests stay quick


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 4, 6, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state(tmp_path: Path) -> Iterator[StateDb]:
    db = StateDb.in_dir(tmp_path)
    yield db
    db.close()


@pytest.fixture
def access(clock: Clock, state: StateDb) -> OperatorAccess:
    return OperatorAccess(hash_pin(PIN, iterations=FAST), state, clock=clock)


def test_hash_is_salted_and_holds_no_pin() -> None:
    first, second = hash_pin(PIN, iterations=FAST), hash_pin(PIN, iterations=FAST)
    assert first != second
    assert PIN not in first
    assert first.startswith("pbkdf2_sha256$1000$")


def test_right_pin_granted_wrong_pin_denied(access: OperatorAccess) -> None:
    assert access.attempt("000000") is AccessResult.DENIED
    assert access.attempt(PIN) is AccessResult.GRANTED
    assert access.locked_until is None


def test_three_wrong_pins_lock_for_five_minutes(access: OperatorAccess, clock: Clock) -> None:
    assert access.attempt("1") is AccessResult.DENIED
    assert access.attempt("2") is AccessResult.DENIED
    assert access.attempt("3") is AccessResult.LOCKED
    assert access.locked_until == clock.now + timedelta(minutes=5)
    clock.now += timedelta(minutes=4, seconds=59)
    assert access.attempt(PIN) is AccessResult.LOCKED  # even the right PIN
    clock.now += timedelta(seconds=1)
    assert access.locked_until is None
    assert access.attempt(PIN) is AccessResult.GRANTED


def test_lockout_end_resets_the_count(access: OperatorAccess, clock: Clock) -> None:
    for pin in ("1", "2", "3"):
        access.attempt(pin)
    clock.now += timedelta(minutes=5)
    assert access.attempt("4") is AccessResult.DENIED  # a fresh count, not locked again


def test_success_resets_the_count(access: OperatorAccess) -> None:
    access.attempt("1")
    access.attempt("2")
    assert access.attempt(PIN) is AccessResult.GRANTED
    assert access.attempt("3") is AccessResult.DENIED


def test_lock_and_count_survive_a_restart(tmp_path: Path, clock: Clock) -> None:
    """A new process on the same state directory: the count goes on, the lock holds."""
    pin_hash = hash_pin(PIN, iterations=FAST)
    first = StateDb.in_dir(tmp_path)
    OperatorAccess(pin_hash, first, clock=clock).attempt("1")
    first.close()
    second = StateDb.in_dir(tmp_path)
    assert OperatorAccess(pin_hash, second, clock=clock).attempt("2") is AccessResult.DENIED
    second.close()
    third = StateDb.in_dir(tmp_path)
    assert OperatorAccess(pin_hash, third, clock=clock).attempt("3") is AccessResult.LOCKED
    third.close()

    state = StateDb.in_dir(tmp_path)
    restarted = OperatorAccess(pin_hash, state, clock=clock)
    assert restarted.locked_until == clock.now + timedelta(minutes=5)
    assert restarted.attempt(PIN) is AccessResult.LOCKED
    # Staff can see it, and the audit table says when it happened.
    (lock,) = locks_in_force(state, clock.now)
    assert (lock.scope, lock.subject, lock.failures) == ("operator_pin", "menu", 3)
    (audit,) = state.query("SELECT actor, action, detail FROM audit")
    assert tuple(audit)[:2] == ("kiosk", "operator_pin locked")
    clock.now += timedelta(minutes=5)
    assert restarted.attempt(PIN) is AccessResult.GRANTED
    state.close()


def test_configurable_limits(clock: Clock, state: StateDb) -> None:
    access = OperatorAccess(
        hash_pin(PIN, iterations=FAST),
        state,
        clock=clock,
        max_failures=1,
        lockout=timedelta(seconds=30),
    )
    assert access.attempt("9") is AccessResult.LOCKED
    assert access.locked_until == clock.now + timedelta(seconds=30)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        PIN,
        "md5$1$00$00",
        "pbkdf2_sha256$x$00$00",
        "pbkdf2_sha256$0$00$00",
        "pbkdf2_sha256$10$zz$00",
        "pbkdf2_sha256$10$00",
    ],
)
def test_malformed_hash_is_a_typed_error_without_the_value(bad: str, state: StateDb) -> None:
    with pytest.raises(PinHashError) as err:
        OperatorAccess(bad, state)
    assert bad not in str(err.value) or bad == ""


def test_pin_never_logged(access: OperatorAccess, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for pin in ("713705", "713706", "713707", PIN):
        access.attempt(pin)
    text = caplog.text
    assert "locked" in text
    for pin in ("713705", "713706", "713707", PIN):
        assert pin not in text
