"""How a guest's journey ended, for the operator, telemetry and transcripts.

Every journey (check-in, check-out, extend, keys, amenities, walk-in) ends in one
``JourneyResult``; it carries no guest personal data, so logs and telemetry may show it.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.journeys.messages import Step


@dataclass(frozen=True)
class JourneyResult:
    """How one run ended; no guest personal data, so transcripts and logs may show it."""

    outcome: str  # checked_in, refused:<reason>, cancelled_by_guest, timed_out, ...
    steps: tuple[Step, ...]  # screens shown, consecutive repeats folded
    language: str
    payments: tuple[str, ...] = ()  # references approved at the terminal
    voided: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()  # outcome unknown or void failed: for the operator
    unrecorded: tuple[str, ...] = ()  # approved, but the folio entry failed: for the operator
    cards: tuple[str, ...] = ()  # UIDs of the cards the guest took
    cards_not_taken: tuple[str, ...] = ()  # presented, left, captured
    rejected_cards: int = 0
    unerased_cards: tuple[str, ...] = ()  # in the reject bin still holding a key: for staff
    receipt: str = "none"  # printed, on_screen, none
    journey: str = "checkin"  # which journey ran (its menu name); "" when none was chosen
    cards_returned: tuple[str, ...] = ()  # check-out: UIDs of the cards taken back and captured
