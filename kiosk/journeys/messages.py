"""The messages between a journey and whatever drives it (the Kivy UI, a script, a test).

The journey sends :class:`View` objects — which step to show and the values to show on
it — and receives :class:`Action` objects — what the guest did. Neither side calls into
the other (Anthias's split of UI and agent): the UI renders views and posts actions, so
the same journey runs under Kivy, a demo script or a test. Texts are i18n keys looked up
in the catalogues of ``assets/i18n``; values are plain data (Decimal amounts, aware UTC
datetimes, strings), never widgets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

T = TypeVar("T")


class Step(StrEnum):
    """One screen of a journey; each has its own screen (and kv file) in ``screens/``."""

    ATTRACT = "attract"  # idle loop: "Touch to start / scan your booking"
    LANGUAGE = "language"  # pick a language
    SCAN = "scan"  # live camera preview with a guide frame; "type the reference" choice
    TYPE_REFERENCE = "type_reference"  # on-screen keyboard for a booking reference
    IDENTITY = "identity"  # second factor for unsigned payloads (surname or phone digits)
    SUMMARY = "summary"  # dates, rooms, guests, amount due
    REGISTER = "register"  # guest registration for one stay (name, ID type and number)
    ROOM = "room"  # room assignment when a stay has none
    PAYMENT = "payment"  # present card on the terminal; progress; declined -> choices
    BUSY = "busy"  # a back-end or device step in progress, with a progress message
    KEYS = "keys"  # how many cards per room
    KEY_PROGRESS = "key_progress"  # dispense / encode / verify / present, card n of N
    RECEIPT = "receipt"  # printed, or shown on screen with a QR when the printer is out
    DONE = "done"  # room number, floor, directions, Wi-Fi, door PIN
    REFUSAL = "refusal"  # any refusal: the message key says which, choices say what next
    OUT_OF_SERVICE = "out_of_service"  # taken out of service by staff or by a fault
    # amenity booking (amenity.py)
    AMENITY_MENU = "amenity_menu"  # an in-house guest's options: book, my bookings, a code
    AMENITY_PICK = "amenity_pick"  # one of a list: an amenity, a day, one of my bookings
    AMENITY_SLOT = "amenity_slot"  # the day's slots, those taken or closed greyed out
    AMENITY_BOOKED = "amenity_booked"  # one booking: time, state, PIN code (to keep or cancel)
    # walk-in (walk_in.py)
    WALK_IN_NIGHTS = "walk_in_nights"  # how many nights, each with its check-out
    WALK_IN_ROOM = "walk_in_room"  # one room type: photo, nightly rate, total; book or next
    # extend stay
    EXTEND_START = "extend_start"  # insert the room card, or use the booking's code instead
    EXTEND_CARD = "extend_card"  # found by the booking: insert the room card to update it
    EXTEND_NIGHTS = "extend_nights"  # how many more nights, each choice priced
    EXTEND_DONE = "extend_done"  # the new check-out time
    # the key journey (extra or lost key) and e-keys
    KEY_MENU = "key_menu"  # an extra key, or a lost one
    KEY_LOST = "key_lost"  # what a lost key changes, honestly (an RF card stays valid)
    KEY_DONE = "key_done"  # the new card is out: room, door PIN, e-key
    EKEY = "ekey"  # an e-key sent to the guest's phone (or why not)
    # the check-out journey
    CHECKOUT_START = "checkout_start"  # insert the room card, or scan the booking
    CHECKOUT_ROOMS = "checkout_rooms"  # which of the booking's rooms leave
    CHECKOUT_FOLIO = "checkout_folio"  # nights, extras, payments; due or overpaid
    CHECKOUT_CARDS = "checkout_cards"  # return the other room cards into the slot
    CHECKOUT_DONE = "checkout_done"  # checked out (the other rooms stay, when some do)


class ActionKind(StrEnum):
    CHOOSE = "choose"  # value: the id of one of the view's choices
    TEXT = "text"  # value: what the guest typed (the view's input)
    QR = "qr"  # value: a decoded QR payload (untrusted text)
    LANGUAGE = "language"  # value: a catalogue code, e.g. "en", "zh_Hans", "zh_Hant"
    CANCEL = "cancel"  # the guest gave up: back to the attract screen, data wiped
    TIMEOUT = "timeout"  # the inactivity timer of the view ran out


@dataclass(frozen=True)
class Choice:
    """A button: ``id`` comes back in ``Action(CHOOSE, id)``; ``label`` is an i18n key."""

    id: str
    label: str
    primary: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)  # values for the label's placeholders
    enabled: bool = True  # False: shown greyed out (a slot taken), cannot be chosen


@dataclass(frozen=True)
class TextInput:
    """What the guest may type on this view."""

    kind: str = "text"  # "text" (letters, digits) or "digits"
    max_length: int = 40
    placeholder: str = ""  # i18n key
    secret: bool = False  # shown as dots (operator PIN)


@dataclass(frozen=True)
class View:
    """One screen's worth of state. ``params`` fill the placeholders of ``title`` and
    ``message`` and carry the step's data (e.g. ``rooms``, ``amount_due``)."""

    step: Step
    title: str
    message: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()
    input: TextInput | None = None
    progress: tuple[int, int] | None = None  # (this step, of so many) for the progress bar
    timeout_s: float | None = 60.0  # inactivity allowed here; None: no guest timer (busy)
    language: str = ""  # the guest's language as the journey knows it (set when shown)


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    value: str = ""


@dataclass
class Channel:
    """The two queues between a journey and its driver, on the one asyncio loop."""

    views: asyncio.Queue[View] = field(default_factory=asyncio.Queue)
    actions: asyncio.Queue[Action] = field(default_factory=asyncio.Queue)


class WatchedQueue(asyncio.Queue[T]):
    """A queue that shows each item put on it to its ``watchers`` first (``put`` goes
    through ``put_nowait``), so followers of a channel (the fleet agent, the sound) see
    it without changing either end. A watcher runs on the loop and must not block."""

    def __init__(self, *watchers: Callable[[T], None]) -> None:
        super().__init__()
        self.watchers = list(watchers)

    def put_nowait(self, item: T) -> None:
        for seen in self.watchers:
            seen(item)
        super().put_nowait(item)


def watched_channel() -> Channel:
    """A channel whose queues followers can watch (``views.watchers.append(...)``)."""
    return Channel(views=WatchedQueue(), actions=WatchedQueue())
