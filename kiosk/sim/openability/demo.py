"""The open-ability part of the demo property: residences with today's orders, amenities,
and booking codes for the kiosk to claim.

Deterministic for a given ``rng`` and ``now``. Orders and the already-used code go
through the simulator's own handlers (the same rules as over HTTP); residences,
amenities and codes, which no command creates, through :mod:`.property`.
Amenity windows are UTC times of day; the codes book slots tomorrow (UTC), so they
stay claimable for the whole demo day.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from kiosk.sim.openability import bookings, orders
from kiosk.sim.openability import property as oa_property
from kiosk.sim.openability.values import to_text
from kiosk.sim.params import Params
from kiosk.sim.server import SimContext

PICTURES = "https://sim.lobby-kiosk.invalid/amenity/{}.png"
SURNAMES = ("Wang", "Li", "Zhang", "Chen", "Smith", "Garcia", "Tanaka", "Kim")
GIVEN = ("Wei", "Fang", "Min", "Anna", "Lucas", "Yuki", "Jonas", "Sora")

AMENITIES = (
    # name, window, closed slots, requires approval, description
    ("Gym", ("00:00", "15:00"), (("04:00", "05:00"),), False, "Cardio and weights, level 2"),
    ("Pool", ("01:00", "13:00"), (("05:00", "06:00"),), False, "Indoor pool, level 3"),
    ("Meeting room", ("01:00", "10:00"), (("04:00", "05:00"),), True, "Eight seats, level 1"),
)


@dataclass(frozen=True)
class CodeCase:
    """One demo booking code: what the kiosk should meet when it is scanned."""

    case: str
    residence_no: str
    building: str
    room_type: str
    amenity: str
    starts: time  # tomorrow, UTC
    duration: int  # minutes
    then: str | None = None  # "check_in": the order is already checked in; "claim": code used


CASES = (
    CodeCase("oa_gym", "101", "A", "King", "Gym", time(2, 0), 60),
    CodeCase("oa_pool", "102", "A", "King", "Pool", time(3, 0), 90),
    CodeCase("oa_meeting_room", "201", "B", "Suite", "Meeting room", time(6, 0), 120),
    CodeCase("oa_already_checked_in", "202", "B", "Suite", "Gym", time(7, 0), 60, "check_in"),
    CodeCase("oa_code_already_used", "203", "B", "King", "Pool", time(8, 0), 60, "claim"),
    # the residence of the PMS's room 503, where the demo's amenity guest stays
    CodeCase("oa_amenity_guest", "503", "B", "Suite", "Pool", time(9, 0), 60, "check_in"),
)


def seed_openability(
    conn: sqlite3.Connection, rng: random.Random, now: datetime
) -> list[dict[str, Any]]:
    """Seed residences, today's orders, amenities and codes; the codes as
    ``[{"residence_id", "booking_code", "case"}]``."""
    ctx = SimContext(now=now, rng=rng)
    room_types = {
        short: oa_property.add_room_type(conn, rng, name)
        for short, name in (("King", "Standard King"), ("Suite", "Deluxe Suite"))
    }
    amenity_ids = {
        name: oa_property.add_amenity(
            conn,
            rng,
            name=name,
            window=window,
            closed=closed,
            requires_approval=approval,
            description=description,
            picture_url=PICTURES.format(name.lower().replace(" ", "-")),
        )
        for name, window, closed, approval, description in AMENITIES
    }
    today = now.astimezone(UTC).date()
    arrival = datetime.combine(today, time(6, 0), UTC)
    codes = []
    for case in CASES:
        surname, given = rng.choice(SURNAMES), rng.choice(GIVEN)
        residence_id = oa_property.add_residence(
            conn,
            rng,
            residence_no=case.residence_no,
            building_name=case.building,
            family_name=f"{surname} family",
            room_type_id=room_types[case.room_type],
        )
        created = orders.create_order_info(
            conn,
            Params(
                {
                    "residence_id": residence_id,
                    "start_time": to_text(arrival),
                    "finish_time": to_text(arrival + timedelta(hours=22)),
                    "source": "demo",
                    "enable_booking": True,
                    "guest": {
                        "guest_name": f"{given} {surname}",
                        "email": f"{given.lower()}.{surname.lower()}@example.org",
                        "phone": "139" + "".join(rng.choice("0123456789") for _ in range(8)),
                        "id_card": "".join(rng.choice("0123456789") for _ in range(18)),
                    },
                }
            ),
            ctx,
        )
        if case.then == "check_in":
            orders.update_order_info(
                conn, Params({"order_id": created["order_id"], "order_state": "checked_in"}), ctx
            )
        code = oa_property.add_booking_code(
            conn,
            rng,
            residence_id=residence_id,
            amenity_id=amenity_ids[case.amenity],
            start=datetime.combine(today + timedelta(days=1), case.starts, UTC),
            duration=case.duration,
        )
        if case.then == "claim":
            bookings.create_code_booking_info(
                conn, Params({"residence_id": residence_id, "booking_code": code}), ctx
            )
        codes.append({"residence_id": residence_id, "booking_code": code, "case": case.case})
    return codes
