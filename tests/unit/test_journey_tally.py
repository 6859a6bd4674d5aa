"""The fleet's count of today's journeys: every journey's success is "completed"; only the
check-in raises its own events."""

from __future__ import annotations

from datetime import date

from kiosk.remote.kiosk import JourneyTally


def test_every_journey_counts_and_only_check_in_raises_events() -> None:
    tally = JourneyTally(lambda: date(2026, 12, 6))
    assert tally.add("checked_in") == "checkin_completed"
    assert tally.add("refused:wrong_day") == "checkin_failed"
    for outcome, journey in [("checked_out", "checkout"), ("extended", "extend"),
                             ("key_replaced", "key"), ("amenity_done", "amenity"),
                             ("checked_in", "walk_in")]:  # fmt: skip
        assert tally.add(outcome, journey) is None
    assert tally.add("refused:card_unknown", "extend") is None
    assert tally.add("cancelled_by_guest", "checkout") is None
    counts = tally.counts
    assert (counts.completed, counts.failed, counts.abandoned) == (6, 0, 1)
    assert counts.refused == {"wrong_day": 1, "card_unknown": 1}
