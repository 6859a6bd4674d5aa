"""Sessions, CSRF tokens and the login throttle of the console.

Sessions live in the console's memory (a restart logs everyone out): the cookie holds only
a random token. Each session has its own CSRF token, which every state-changing request
must carry (``X-CSRF-Token`` header or ``csrf`` form field); before a login, the login
form's token is bound to a cookie of its own (double submit).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from kiosk.remote.console.accounts import Role

PRUNE_ABOVE = 10_000  # throttle entries kept before the stale ones are forgotten


def same_token(expected: str, presented: str | None) -> bool:
    """Constant-time comparison; a missing or empty token never matches."""
    return bool(expected) and bool(presented) and hmac.compare_digest(expected, presented or "")


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class Session:
    token: str
    user: str
    role: Role
    csrf: str
    last_used: float
    credential: str = ""  # the password hash it logged in with: a new password ends it

    @property
    def may_command(self) -> bool:
        return self.role == "operator"


@dataclass
class Sessions:
    """The logged-in sessions, by cookie token; one unused for ``idle_s`` is gone."""

    idle_s: float
    clock: Callable[[], float] = time.monotonic
    _sessions: dict[str, Session] = field(default_factory=dict)

    def create(self, user: str, role: Role, credential: str = "") -> Session:
        now = self.clock()
        # Sessions nobody came back to are dropped here, so they cannot pile up.
        for token in [t for t, s in self._sessions.items() if now - s.last_used > self.idle_s]:
            del self._sessions[token]
        session = Session(new_token(), user, role, new_token(), now, credential)
        self._sessions[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        """The live session of ``token`` (its idle time starts again), else None."""
        session = self._sessions.get(token or "")
        if session is None:
            return None
        now = self.clock()
        if now - session.last_used > self.idle_s:
            del self._sessions[session.token]
            return None
        session.last_used = now
        return session

    def alive(self, session: Session) -> bool:
        """Whether ``session`` is still logged in, without counting as a use (a live
        stream must not keep an idle session open)."""
        current = self._sessions.get(session.token)
        return current is session and self.clock() - session.last_used <= self.idle_s

    def drop(self, token: str | None) -> None:
        self._sessions.pop(token or "", None)


@dataclass
class LoginThrottle:
    """After ``max_failures`` failed logins for one key (a user name, a client address)
    within ``lockout_s``, that key's logins are refused for ``lockout_s``, right password
    or not."""

    max_failures: int
    lockout_s: float
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, list[float]] = field(default_factory=dict)
    _locked_until: dict[str, float] = field(default_factory=dict)

    def retry_after(self, keys: Iterable[str]) -> float:
        """Seconds until a login for ``keys`` is accepted again (0: now)."""
        now = self.clock()
        waits = [self._locked_until.get(key, 0.0) - now for key in keys]
        return max([0.0, *waits])

    def failed(self, keys: Iterable[str]) -> None:
        now = self.clock()
        if len(self._failures) + len(self._locked_until) > PRUNE_ABOVE:
            self._prune(now)
        for key in keys:
            recent = [t for t in self._failures.get(key, []) if now - t < self.lockout_s]
            recent.append(now)
            self._failures[key] = recent
            if len(recent) >= self.max_failures:
                self._locked_until[key] = now + self.lockout_s
                self._failures[key] = []

    def _prune(self, now: float) -> None:
        """Forget keys with no failure in the window and no lockout running (made-up user
        names must not grow the console's memory without bound)."""
        for key in [
            k
            for k, times in self._failures.items()
            if not times or now - times[-1] >= self.lockout_s
        ]:
            del self._failures[key]
        for key in [k for k, until in self._locked_until.items() if until <= now]:
            del self._locked_until[key]

    def succeeded(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._failures.pop(key, None)
