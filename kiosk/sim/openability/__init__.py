"""Simulated open-ability API (seeds 000 + 001): handlers by command.

``USER_COMMANDS`` (amenity bookings of a residence) and ``HOTEL_COMMANDS`` (hotel orders
on residences) map each command to ``handler(conn, params, ctx) -> result``; the server
runs each in one write transaction. :mod:`.property` sets up what no command creates.
"""

from collections.abc import Callable
from typing import Any

from kiosk.sim.openability import amenities, bookings, orders

USER_COMMANDS: dict[str, Callable[..., Any]] = {
    "get_booking_list": bookings.get_booking_list,
    "get_booking_info": bookings.get_booking_info,
    "get_booking_amenity_list": amenities.get_booking_amenity_list,
    "get_booking_time_list": amenities.get_booking_time_list,
    "create_booking_info": bookings.create_booking_info,
    "create_code_booking_info": bookings.create_code_booking_info,
    "delete_booking_info": bookings.delete_booking_info,
    "batch_delete_booking_info": bookings.batch_delete_booking_info,
}
HOTEL_COMMANDS: dict[str, Callable[..., Any]] = {
    "get_order_list": orders.get_order_list,
    "get_order_info": orders.get_order_info,
    "create_order_info": orders.create_order_info,
    "update_order_info": orders.update_order_info,
    "delete_order_info": orders.delete_order_info,
}
