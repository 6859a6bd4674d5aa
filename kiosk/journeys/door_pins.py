"""A door PIN for a stay, where the property's locks take them (``[journey] door_pins``):
shown at check-in, after a lost key, and for the new end of an extended stay.

The card opens the door; a PIN is a convenience, so a back-end that refuses or does not
answer leaves the guest without one rather than ending their journey.
"""

from __future__ import annotations

from kiosk.backends.base import PropertyBackend, Stay
from kiosk.journeys.payment import new_reference
from kiosk.journeys.refusals import Refused, backend_call
from kiosk.journeys.settings import JourneySettings


async def door_pin(backend: PropertyBackend, stay: Stay, settings: JourneySettings) -> str:
    """The stay's PIN valid for its whole range (made now when it has none); "" for none."""
    if not (settings.door_pins and stay.pin_lock):
        return ""
    call = backend.door_pin(stay, new_reference("pin"))
    try:
        pin = await backend_call(call, settings.backend_timeout_s)
    except Refused:
        return ""
    return pin or ""
