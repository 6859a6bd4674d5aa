"""Value formats of the simulated open-ability back-end: ids, times, times of day."""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, time

from kiosk.sim.params import Params

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_TIME_OF_DAY = re.compile(r"[0-9]{2}:[0-9]{2}")


def new_id(rng: random.Random, prefix: str) -> str:
    """An id in the seeds' shape: a one-letter kind and 32 hex digits ("r31adc2...")."""
    return f"{prefix}{rng.getrandbits(128):032x}"


def to_text(moment: datetime) -> str:
    """An aware datetime as the stored and sent "YYYY-MM-DD HH:MM:SS" UTC text."""
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def from_text(text: str) -> datetime:
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)


def time_of_day(text: str) -> time:
    """A stored "HH:MM" time of day."""
    return time.fromisoformat(text)


def at(day: date, hhmm: str) -> datetime:
    """``day`` at the stored time of day ``hhmm``, UTC."""
    return datetime.combine(day, time_of_day(hhmm), UTC)


def param_date(params: Params, name: str) -> date:
    """A required "YYYY-MM-DD" parameter."""
    return params.date(name)


def check_time_of_day(text: str) -> str:
    """``text`` if it is a valid "HH:MM" (for the property set-up helpers)."""
    if not _TIME_OF_DAY.fullmatch(text):
        raise ValueError("times of day are 'HH:MM'")
    time_of_day(text)
    return text
