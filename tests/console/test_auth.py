"""Sessions, CSRF token comparison and the login throttle, on a fake clock."""

from __future__ import annotations

import pytest

from kiosk.remote.console import auth
from kiosk.remote.console.auth import LoginThrottle, Sessions, same_token


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_csrf_tokens_must_match_and_be_present() -> None:
    assert same_token("abc", "abc")
    assert not same_token("abc", "abd")
    assert not same_token("abc", None)
    assert not same_token("abc", "")
    assert not same_token("", "")


def test_a_session_ends_after_its_idle_time() -> None:
    clock = Clock()
    sessions = Sessions(idle_s=60, clock=clock)
    session = sessions.create("olga", "operator")
    assert session.token != session.csrf and len(session.csrf) >= 40
    clock.now += 59
    assert sessions.get(session.token) is session  # a use: the idle time starts again
    clock.now += 59
    assert sessions.alive(session)
    clock.now += 2
    assert not sessions.alive(session)  # a live stream does not count as a use
    assert sessions.get(session.token) is None
    assert sessions.get(None) is None
    other = sessions.create("vic", "viewer")
    assert not other.may_command and session.may_command
    sessions.drop(other.token)
    assert sessions.get(other.token) is None


def test_logins_are_locked_out_after_the_failures() -> None:
    clock = Clock()
    throttle = LoginThrottle(max_failures=3, lockout_s=300, clock=clock)
    olga = ["user:olga", "addr:10.0.0.5"]
    for _ in range(2):
        throttle.failed(olga)
    assert throttle.retry_after(olga) == 0
    throttle.succeeded(olga)  # a success forgets the failures
    for _ in range(2):
        throttle.failed(olga)
    assert throttle.retry_after(olga) == 0
    throttle.failed(olga)
    assert throttle.retry_after(olga) == 300
    # The address is locked for another user name too, and the name from another address.
    assert throttle.retry_after(["user:vic", "addr:10.0.0.5"]) == 300
    assert throttle.retry_after(["user:olga", "addr:10.0.0.9"]) == 300
    assert throttle.retry_after(["user:vic", "addr:10.0.0.9"]) == 0
    clock.now += 301
    assert throttle.retry_after(olga) == 0


def test_old_failures_do_not_add_up() -> None:
    clock = Clock()
    throttle = LoginThrottle(max_failures=3, lockout_s=60, clock=clock)
    for _ in range(5):
        throttle.failed(["user:olga"])
        clock.now += 31  # two failures a minute: never three within the window
    assert throttle.retry_after(["user:olga"]) == 0


def test_stale_entries_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "PRUNE_ABOVE", 10)
    clock = Clock()
    throttle = LoginThrottle(max_failures=2, lockout_s=60, clock=clock)
    for n in range(10):
        throttle.failed([f"user:made-up-{n}"])
    clock.now += 61
    throttle.failed(["user:olga"])
    throttle.failed(["user:olga"])  # locked: kept
    throttle.failed(["user:vic"])  # over the limit: the stale ones go
    assert throttle.retry_after(["user:olga"]) == 60
    assert set(throttle._failures) | set(throttle._locked_until) == {"user:olga", "user:vic"}
    sessions = Sessions(idle_s=60, clock=clock)
    old = sessions.create("olga", "operator")
    clock.now += 61
    sessions.create("vic", "viewer")
    assert old.token not in sessions._sessions
