"""The seeded demo property (issue 2, item 4) and its manifest of QR codes.

pms_id 1 with four room types and eighteen rooms; today's arrivals cover the cases a
kiosk meets, guests in the house since yesterday (on the fourth type's floor) the cases
of check-out; open-ability residences with orders, amenities and unclaimed booking
codes. Deterministic for a given seed and day. Seeding goes through the simulator's
own handlers (the same rules as over HTTP), except for the rooms, which no API creates.
A database that is already seeded is left alone: the demo survives restarts.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import qrcode

from kiosk.api.pms_types import IdType
from kiosk.qr_payload import BookingCodeRef, PmsOrderRef, encode_payload
from kiosk.sim import pms
from kiosk.sim.openability.demo import seed_openability
from kiosk.sim.params import Params
from kiosk.sim.pms import property as pms_property
from kiosk.sim.server import SimContext, SimServer

PMS_ID = 1
DEFAULT_TIMEZONE = "Asia/Shanghai"
META_KEY = "demo"

ROOM_TYPES = (
    # name, short name, nightly price, floor, room names
    ("Standard King 标准大床房", "King", "388.00", 2, ("201", "202", "203", "204", "205")),
    ("Twin 双床房", "Twin", "428.00", 3, ("301", "302", "303", "304")),
    ("Deluxe Suite 豪华套房", "Suite", "888.00", 5, ("501", "502", "503")),
    # the rooms of guests leaving today (the check-out journey: LEAVING), apart from the
    # arrivals'
    ("Family Room 家庭房", "Family", "528.00", 6, ("601", "602", "603", "604", "605", "606")),
)

SURNAMES = ("Wang", "Li", "Zhang", "Liu", "Chen", "Smith", "Garcia", "Tanaka", "Müller", "Kim")
GIVEN = ("Wei", "Fang", "Min", "Jing", "Lei", "Anna", "Lucas", "Yuki", "Jonas", "Sora")


@dataclass(frozen=True)
class Arrival:
    """One demo case: what the kiosk should meet when this booking is scanned."""

    case: str
    room_type: str  # short name
    rooms: tuple[str | None, ...]  # room names; None: a stay with no room assigned
    nights: int = 1
    paid: str = "all"  # "all", "none" or an amount already paid
    arrives_in_days: int = 0
    then: str | None = None  # "check_in", "cancel", "dirty"
    signed: bool = True
    expected: str = "checked_in"  # the outcome a scripted guest reaches
    registered: bool = False  # the guest's name and ID are on file: not asked at the kiosk


ARRIVALS = (
    Arrival("prepaid", "King", ("201",), registered=True),
    Arrival("balance_due", "King", ("202",), nights=2, paid="100.00"),
    Arrival("two_rooms", "Twin", ("301", "302")),
    Arrival("unassigned_room", "Suite", (None,)),
    Arrival("already_checked_in", "King", ("203",), then="check_in", expected="already_checked_in"),
    Arrival("cancelled", "Twin", ("303",), then="cancel", expected="cancelled"),
    Arrival("tomorrow", "Suite", ("501",), arrives_in_days=1, expected="wrong_day"),
    Arrival("dirty_room", "King", ("204",), then="dirty"),
    Arrival("unsigned_qr", "Twin", ("304",), signed=False),
    # amenity booking: a guest staying now, in the room of open-ability residence 503
    Arrival("amenity_guest", "Suite", ("503",), then="check_in", expected="already_checked_in"),
    # the key journey: in the house since yesterday, with a card, a door PIN and an e-key
    Arrival(
        "in_house_keys",
        "Twin",
        ("303",),
        nights=2,
        arrives_in_days=-1,
        then="in_house",
        expected="already_checked_in",
    ),
)


def seed_demo(server: SimServer, *, seed: int, timezone: str = DEFAULT_TIMEZONE) -> dict[str, Any]:
    """Seed the demo property once; the stored demo description (arrivals, booking codes)."""
    with server.db.transaction() as conn:
        row = conn.execute("SELECT value FROM sim_meta WHERE key = ?", (META_KEY,)).fetchone()
        if row is not None:
            return json.loads(row["value"])
        rng = random.Random(seed)
        ctx = SimContext(now=server.clock(), rng=rng)
        tz = ZoneInfo(timezone)
        rooms = _seed_rooms(conn)
        pms_property.set_timezone(conn, PMS_ID, timezone)
        today = ctx.now.astimezone(tz).date()
        arrivals = [_seed_arrival(conn, ctx, rooms, a, today, tz) for a in ARRIVALS]
        codes = seed_openability(conn, rng, ctx.now)
        in_house = [_seed_in_house(conn, ctx, rooms, h, today, tz) for h in IN_HOUSE]
        # the check-out journey: guests in the house since yesterday, leaving today
        in_house += [_seed_leaving(conn, ctx, rooms, g, today, tz) for g in LEAVING]
        demo = {
            "pms_id": PMS_ID,
            "timezone": timezone,
            "arrivals": arrivals,
            "booking_codes": codes,
            "in_house": in_house,  # extend stay and check-out
        }
        conn.execute(
            "INSERT INTO sim_meta (key, value) VALUES (?, ?)", (META_KEY, json.dumps(demo))
        )
    return demo


def _seed_rooms(conn: Any) -> dict[str, dict[str, int]]:
    rooms: dict[str, dict[str, int]] = {}
    for name, short, price, floor, room_names in ROOM_TYPES:
        type_id = pms_property.add_room_type(conn, PMS_ID, name, short, price)
        for room_name in room_names:
            room_id = pms_property.add_room(conn, PMS_ID, type_id, room_name, floor)
            rooms[room_name] = {"room_id": room_id, "room_type_id": type_id}
        rooms[short] = {"room_type_id": type_id, "price": price}  # type: ignore[dict-item]
    return rooms


def _call(conn: Any, ctx: SimContext, path: str, params: dict[str, Any]) -> Any:
    return pms.ROUTES[path](conn, Params(params), ctx)


def _seed_arrival(
    conn: Any, ctx: SimContext, rooms: dict, arrival: Arrival, today: date, tz: ZoneInfo
) -> dict[str, Any]:
    rng = ctx.rng
    start_day = today + timedelta(days=arrival.arrives_in_days)
    start = datetime.combine(start_day, time(14, 0), tz)
    end = datetime.combine(start_day + timedelta(days=arrival.nights), time(12, 0), tz)
    price = rooms[arrival.room_type]["price"]
    amount = f"{Decimal(price) * arrival.nights:.2f}"
    surname, given = rng.choice(SURNAMES), rng.choice(GIVEN)
    phone = "139" + "".join(rng.choice("0123456789") for _ in range(8))
    tenant = {"name": f"{given} {surname}", "phone": phone, "id_type": 0, "id_number": ""}
    if arrival.registered:  # a passport on file, as an online check-in leaves it
        # From the phone, not the generator: the other cases keep their guests.
        tenant.update(id_type=int(IdType.PASSPORT), id_number="E" + phone[-8:])
    room_list = []
    for room_name in arrival.rooms:
        item: dict[str, Any] = {
            "accom_type": 10,
            "checkin_start_time": int(start.timestamp()),
            "checkin_end_time": int(end.timestamp()),
            "amount": amount,
            "accom_status": 40,
            "tenant_list": [dict(tenant)],
        }
        if room_name is None:
            item.update(room_id=0, room_type_id=rooms[arrival.room_type]["room_type_id"])
        else:
            item["room_id"] = rooms[room_name]["room_id"]
        room_list.append(item)
    created = _call(
        conn,
        ctx,
        "/api/v1/pmsOrder/create",
        {
            "pms_id": PMS_ID,
            "name": f"{given} {surname}",
            "phone": phone,
            "room_list": room_list,
            "reminder_list": [],
        },
    )
    order_id = created["order_id"]
    total = sum(Decimal(r["amount"]) for r in room_list)
    paid = {"all": f"{total:.2f}", "none": None}.get(arrival.paid, arrival.paid)
    if paid:
        _call(
            conn,
            ctx,
            "/api/v1/pmsOrder/cashier",
            {
                "order_id": order_id,
                "bills": [
                    {"bill_type": 10, "name": "Online prepayment", "amount": paid, "remark": "demo"}
                ],
            },
        )
    detail = _call(conn, ctx, "/api/v1/pmsOrder/getAccomDetail", {"order_id": order_id})
    stays = detail["accom_list"]
    if arrival.then == "check_in":
        _call(
            conn,
            ctx,
            "/api/v1/pmsOrder/checkIn",
            {
                "order_id": order_id,
                "checkin_rooms": [
                    {"accom_id": s["accom_id"], "room_id": s["room_id"]} for s in stays
                ],
            },
        )
    elif arrival.then == "cancel":
        _call(
            conn,
            ctx,
            "/api/v1/pmsOrder/cancelBook",
            {"accom_ids": [s["accom_id"] for s in stays], "penalty_amount": "0.00"},
        )
    elif arrival.then == "dirty":
        for s in stays:
            pms_property.set_dirty(conn, s["room_id"], True)
    elif arrival.then == "in_house":
        _seed_keys_guest(conn, ctx, order_id, stays, phone)
    return {
        "case": arrival.case,
        "expected": arrival.expected,
        "order_id": order_id,
        "order_no": detail.get("order_no"),
        "signed": arrival.signed,
        "second_factor": {"surname": surname, "phone_last4": phone[-4:]},
    }


def _seed_keys_guest(
    conn: Any, ctx: SimContext, order_id: int, stays: list[dict[str, Any]], phone: str
) -> None:
    """The key journey's stay: checked in, one card recorded, a door PIN and an e-key sent."""
    _call(
        conn,
        ctx,
        "/api/v1/pmsOrder/checkIn",
        {
            "order_id": order_id,
            "checkin_rooms": [{"accom_id": s["accom_id"], "room_id": s["room_id"]} for s in stays],
        },
    )
    for s in stays:
        validity = {
            "accom_id": s["accom_id"],
            "start_time": s["checkin_start_time"],
            "end_time": s["checkin_end_time"],
        }
        card = "".join(ctx.rng.choice("0123456789ABCDEF") for _ in range(8))
        _call(
            conn,
            ctx,
            "/api/v1/pmsOrder/addAccomCard",
            {"accom_id": s["accom_id"], "card_uid": card},
        )
        contact = {"country_code": "+86", "phone": phone}
        _call(
            conn,
            ctx,
            "/api/v1/pmsDevice/sendOfflinePassword",
            {**validity, "phone_list": [contact]},
        )
        _call(
            conn,
            ctx,
            "/api/v1/pmsDevice/sendAccessLockKey",
            {
                **validity,
                "receiver_name": "Guest",
                "receiver_account": phone,
                "country_code": "+86",
            },
        )



# --- guests leaving today (the check-out journey) -------------------------------------------------


@dataclass(frozen=True)
class Leaving:
    """A booking checked in yesterday for two nights, each room with a card on record."""

    case: str
    rooms: tuple[str, ...]
    extras: tuple[tuple[int, str, int], ...] = ()  # consumption: (consume_id, price, num)
    # Paid at this kiosk's terminal beyond the bill: the sale the refund goes back to
    # (``kiosk demo`` makes the sale on the simulated terminal; "kiosk_sale" in the entry).
    overpaid: str | None = None
    signed: bool = True
    expected: str = "checked_out"


LEAVING = (
    Leaving("checkout_balance_due", ("601",), extras=((1, "30.00", 2),)),
    Leaving("checkout_refund", ("602",), overpaid="100.00"),
    Leaving("checkout_two_rooms", ("603", "604"), signed=False),
)
CARD_UID_BASE = 0xC0DE0000  # the in-house rooms' cards: C0DE0001, C0DE0002, ...


def _seed_leaving(
    conn: Any, ctx: SimContext, rooms: dict, guest: Leaving, today: date, tz: ZoneInfo
) -> dict[str, Any]:
    rng = ctx.rng
    start = datetime.combine(today - timedelta(days=1), time(14, 0), tz)
    end = datetime.combine(today + timedelta(days=1), time(12, 0), tz)
    surname, given = rng.choice(SURNAMES), rng.choice(GIVEN)
    phone = "138" + "".join(rng.choice("0123456789") for _ in range(8))
    tenant = {
        "name": f"{given} {surname}",
        "phone": phone,
        "id_type": int(IdType.PASSPORT),
        "id_number": "E" + phone[-8:],
    }
    room_list = []
    for name in guest.rooms:
        room_type_id = rooms[name]["room_type_id"]
        price = next(
            r for r in rooms.values() if r.get("room_type_id") == room_type_id and "price" in r
        )["price"]
        room_list.append(
            {
                "accom_type": 10,
                "room_id": rooms[name]["room_id"],
                "checkin_start_time": int(start.timestamp()),
                "checkin_end_time": int(end.timestamp()),
                "amount": f"{Decimal(price) * 2:.2f}",
                "accom_status": 40,
                "tenant_list": [tenant],
            }
        )
    order_id = _call(
        conn,
        ctx,
        "/api/v1/pmsOrder/create",
        {
            "pms_id": PMS_ID,
            "name": tenant["name"],
            "phone": phone,
            "room_list": room_list,
            "reminder_list": [],
        },
    )["order_id"]
    total = sum(Decimal(r["amount"]) for r in room_list)
    bills = [
        {"bill_type": 10, "name": "Online prepayment", "amount": f"{total:.2f}", "remark": "demo"}
    ]
    sale = None
    if guest.overpaid:
        reference = f"pay-demo-{guest.case}"[:32]
        sale = {"reference": reference, "amount": guest.overpaid}
        # As the PMS adapter books a kiosk payment: "<terminal ref> kiosk-ref:<bill ref>".
        bills.append(
            {
                "bill_type": 10,
                "name": "Kiosk payment",
                "amount": guest.overpaid,
                "remark": f"{reference} kiosk-ref:bill-{reference}",
            }
        )
    _call(conn, ctx, "/api/v1/pmsOrder/cashier", {"order_id": order_id, "bills": bills})
    detail = _call(conn, ctx, "/api/v1/pmsOrder/getAccomDetail", {"order_id": order_id})
    stays = detail["accom_list"]
    _call(
        conn,
        ctx,
        "/api/v1/pmsOrder/checkIn",
        {
            "order_id": order_id,
            "checkin_rooms": [{"accom_id": s["accom_id"], "room_id": s["room_id"]} for s in stays],
        },
    )
    cards = []
    for stay in stays:
        uid = f"{CARD_UID_BASE + int(stay['room_id']):08X}"
        _call(
            conn,
            ctx,
            "/api/v1/pmsOrder/addAccomCard",
            {"accom_id": stay["accom_id"], "card_uid": uid},
        )
        cards.append(uid)
    for consume_id, price, num in guest.extras:
        item = {"consume_id": consume_id, "date": today.isoformat(), "price": price, "num": num}
        _call(
            conn,
            ctx,
            "/api/v1/pmsOrder/addAccomBill",
            {"accom_id": stays[0]["accom_id"], "bill_list": [item]},
        )
    return {
        "case": guest.case,
        "expected": guest.expected,
        "order_id": order_id,
        "order_no": detail.get("order_no"),
        "signed": guest.signed,
        "second_factor": {"surname": surname, "phone_last4": phone[-4:]},
        "card_uid": cards[0],
        "card_uids": cards,
        "kiosk_sale": sale,
    }

def write_manifest(
    path: Path, server: SimServer, demo: dict[str, Any], signing_key: bytes | None
) -> dict[str, Any]:
    """Write the manifest JSON at ``path`` and a PNG of every QR payload beside it."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    arrivals = []
    for a in demo["arrivals"]:
        ref = PmsOrderRef(order_id=a["order_id"], order_no=a["order_no"])
        payload = encode_payload(ref, signing_key=signing_key if a["signed"] else None)
        arrivals.append({**a, "qr_payload": payload, "qr_png": _qr_png(folder, a["case"], payload)})
    codes = []
    for c in demo["booking_codes"]:
        ref = BookingCodeRef(residence_id=c["residence_id"], booking_code=c["booking_code"])
        payload = encode_payload(ref, signing_key=signing_key)
        codes.append({**c, "qr_payload": payload, "qr_png": _qr_png(folder, c["case"], payload)})
    in_house = []  # extend stay
    for h in demo.get("in_house", ()):
        ref = PmsOrderRef(order_id=h["order_id"], order_no=h["order_no"])
        payload = encode_payload(ref, signing_key=signing_key if h["signed"] else None)
        in_house.append({**h, "qr_payload": payload, "qr_png": _qr_png(folder, h["case"], payload)})
    manifest = {
        "base_url": server.url,
        "token": server.token,
        "pms_id": demo["pms_id"],
        "timezone": demo["timezone"],
        "arrivals": arrivals,
        "booking_codes": codes,
        "in_house": in_house,
    }
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest


def _qr_png(folder: Path, case: str, payload: str) -> str:
    name = f"qr-{case}.png"
    qrcode.make(payload, border=4).save(folder / name)
    return name


# --- extend stay: guests in house since yesterday, each with a room card on record ----------


@dataclass(frozen=True)
class InHouse:
    """One in-house demo case: checked in yesterday until tomorrow noon, in a room of its
    own (added here, so the arrivals' rooms and their free rooms stay as they were)."""

    case: str
    room_type: str  # short name
    room: str
    floor: int
    card_uid: str  # the card issued at check-in, on record (addAccomCard)
    booked_after: bool = False  # another guest has the room from the stay's last day
    signed: bool = True
    expected: str = "extended"


IN_HOUSE = (
    InHouse("extend_card", "King", "206", 2, "E1C0FFEE"),
    InHouse("extend_qr", "King", "207", 2, "E2C0FFEE", signed=False),
    InHouse("extend_taken", "Suite", "504", 5, "E3C0FFEE", booked_after=True,
            expected="refused:room_taken"),
)  # fmt: skip


def _seed_in_house(
    conn: Any, ctx: SimContext, rooms: dict, guest: InHouse, today: date, tz: ZoneInfo
) -> dict[str, Any]:
    type_id = rooms[guest.room_type]["room_type_id"]
    room_id = pms_property.add_room(conn, PMS_ID, type_id, guest.room, guest.floor)
    price = Decimal(rooms[guest.room_type]["price"])
    surname, given = ctx.rng.choice(SURNAMES), ctx.rng.choice(GIVEN)
    phone = "139" + "".join(ctx.rng.choice("0123456789") for _ in range(8))

    def booking(first_day: date, nights: int) -> int:
        start = datetime.combine(first_day, time(14, 0), tz)
        end = datetime.combine(first_day + timedelta(days=nights), time(12, 0), tz)
        amount = f"{price * nights:.2f}"
        tenant = {"name": f"{given} {surname}", "phone": phone, "id_type": int(IdType.PASSPORT),
                  "id_number": "E" + phone[-8:]}  # fmt: skip
        stay = {"accom_type": 10, "checkin_start_time": int(start.timestamp()),
                "checkin_end_time": int(end.timestamp()), "amount": amount, "accom_status": 40,
                "room_id": room_id, "tenant_list": [tenant]}  # fmt: skip
        order = {"pms_id": PMS_ID, "name": tenant["name"], "phone": phone, "room_list": [stay],
                 "reminder_list": []}  # fmt: skip
        order_id = _call(conn, ctx, "/api/v1/pmsOrder/create", order)["order_id"]
        bill = {"bill_type": 10, "name": "Online prepayment", "amount": amount, "remark": "demo"}
        _call(conn, ctx, "/api/v1/pmsOrder/cashier", {"order_id": order_id, "bills": [bill]})
        return int(order_id)

    order_id = booking(today - timedelta(days=1), 2)
    detail = _call(conn, ctx, "/api/v1/pmsOrder/getAccomDetail", {"order_id": order_id})
    accom_id = detail["accom_list"][0]["accom_id"]
    _call(
        conn,
        ctx,
        "/api/v1/pmsOrder/checkIn",
        {"order_id": order_id, "checkin_rooms": [{"accom_id": accom_id, "room_id": room_id}]},
    )
    _call(conn, ctx, "/api/v1/pmsOrder/addAccomCard",
          {"accom_id": accom_id, "card_uid": guest.card_uid})  # fmt: skip
    card = _call(conn, ctx, "/api/v1/pmsOrder/generateRoomCard", {"accom_id": accom_id})
    if guest.booked_after:
        booking(today + timedelta(days=1), 1)
    return {
        "case": guest.case,
        "expected": guest.expected,
        "order_id": order_id,
        "order_no": detail.get("order_no"),
        "accom_id": accom_id,
        "signed": guest.signed,
        "second_factor": {"surname": surname, "phone_last4": phone[-4:]},
        # the guest's card: its UID and the key it holds ("@<case>.card" in a script)
        "card": f"{guest.card_uid}/{card['ic_card_string']}",
    }
