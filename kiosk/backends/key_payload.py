"""The room-card payload format of DESIGN.md: the JSON the PMS's ``ic_card_string`` encodes.

``generateRoomCard`` answers the hex of ``{"room_id":32,"check_in_time":1743487200,
"check_out_time":1743570000}``; a back-end without that operation (open-ability) or an
offline kiosk composes the same bytes here, so one lock firmware reads every card.
"""

from __future__ import annotations

import json
from datetime import datetime

from kiosk.backends.base import KeyGrant, Stay


def compose_key_payload(room_id: int | str, valid_from: datetime, valid_until: datetime) -> bytes:
    """The card bytes for ``room_id`` valid from ``valid_from`` to ``valid_until`` (aware)."""
    if valid_from.tzinfo is None or valid_until.tzinfo is None:
        raise ValueError("key validity needs aware datetimes")
    if valid_until <= valid_from:
        raise ValueError("a key must end after it starts")
    fields = {
        "room_id": room_id,
        "check_in_time": int(valid_from.timestamp()),
        "check_out_time": int(valid_until.timestamp()),
    }
    return json.dumps(fields, separators=(",", ":")).encode("ascii")


def composed_grant(stay: Stay, room: str) -> KeyGrant:
    """The stay's key made here, for ``room`` (the PMS's room ids are ints, lock firmware
    compares numbers: an all-digit id goes as a number)."""
    room_id: int | str = int(room) if room.isascii() and room.isdigit() else room
    payload = compose_key_payload(room_id, stay.starts, stay.ends)
    return KeyGrant(stay.stay_id, payload, valid_from=stay.starts, valid_until=stay.ends)
