"""What the UI tests share about a screen's layout: the views each screen is drawn with,
and the checks that a screenshot shows something and that nothing overflows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from PIL import Image, ImageStat

from kiosk.journeys.messages import Choice, Step, View
from tests.ui.driver import UiDriver

# The landscape panel's 1920x1080 layout is drawn at 9/16 scale: GLX under Xvfb does not draw
# a window grown wider than it was first made, and the layout is the same (a window smaller
# than the panel shows the panel's layout scaled down, as the 540x960 demo window does).
SIZES = {"portrait": (1080, 1920), "landscape": (1080, 608), "desktop": (540, 960)}
ARRIVAL = datetime(2026, 3, 4, 7, 0, tzinfo=UTC)
DEPARTURE = datetime(2026, 3, 6, 4, 0, tzinfo=UTC)
RECEIPT_ROWS = [
    "        Check-in receipt        ",
    "--------------------------------",
    "Booking                 BK-20417",
    "Guest                         S.",
    "Room                         201",
    "Arrival        04 Mar 2026 15:00",
    "--------------------------------",
    "Paid                 1,352.00 CNY",
    "Card                   **** 4242",
    "--------------------------------",
    " Thank you and enjoy your stay  ",
]
CONTINUE = Choice("continue", "common.continue", primary=True)
VIEWS = {
    "attract": View(Step.ATTRACT, "attract.title", "attract.message",
                    choices=(Choice("start", "attract.start", primary=True),)),
    "scan": View(Step.SCAN, "scan.title", "scan.message",
                 choices=(Choice("type_reference", "scan.type_reference"),
                          Choice("cancel", "common.cancel"))),
    "summary": View(
        Step.SUMMARY, "summary.title", "summary.message",
        params={"guest_name": "Synthname Oquirk", "arrival": ARRIVAL, "departure": DEPARTURE,
                "nights": 2, "rooms": "1", "guests": 2, "amount_due": Decimal("1352.00"),
                "currency": "CNY"},
        choices=(CONTINUE, Choice("not_mine", "summary.not_mine")),
    ),
    "room": View(Step.ROOM, "room.title", "room.message",
                 choices=(Choice("205", "room.option", params={"room": "205", "floor": ""}),
                          Choice("312", "room.option", params={"room": "312", "floor": 3}))),
    "payment": View(Step.PAYMENT, "payment.title", "payment.message",
                    params={"amount_due": Decimal("1352.00"), "currency": "CNY"},
                    choices=(Choice("pay", "payment.pay", primary=True),
                             Choice("cancel", "common.cancel"))),
    "key_progress": View(Step.KEY_PROGRESS, "key_progress.title", "key_progress.encode",
                         params={"room": "201", "card": 1, "cards": 2}, progress=(1, 2)),
    "receipt": View(Step.RECEIPT, "receipt.title", "receipt.on_screen",
                    params={"receipt_rows": RECEIPT_ROWS, "receipt_qr": "https://hotel.example/r/1"},
                    choices=(CONTINUE,)),
    "done": View(
        Step.DONE, "done.title", "done.message",
        params={"rooms": [{"room": "201", "floor": 2, "directions": "Lift to the left, then right",
                           "door_pin": "730519"}],
                "wifi_ssid": "Harbour-Guest", "wifi_password": "sea-breeze"},
        choices=(Choice("finish", "done.finish", primary=True),),
    ),
    "refusal": View(Step.REFUSAL, "refusal.unknown_code.title", "refusal.unknown_code.message",
                    choices=(Choice("try_again", "common.try_again", primary=True),
                             Choice("finish", "common.start_over"))),
}  # fmt: skip


def overflows(ui: UiDriver) -> list[str]:
    """What does not fit: a label's text wider than its box, a widget outside the window,
    a body smaller than what it holds."""
    from kivy.core.window import Window
    from kivy.uix.label import Label

    from screens.widgets.step_frame import StepFrame

    problems = []
    screen = ui.app.manager.current_screen
    for widget in screen.walk(restrict=True):
        if not shown(widget):
            continue
        if isinstance(widget, Label) and widget.text and widget.width > 1:
            if widget.texture_size[0] > widget.width + 1:
                problems.append(f"{widget.text!r}: text {widget.texture_size[0]} > {widget.width}")
            x0, y0 = widget.to_window(widget.x, widget.y)
            x1, y1 = widget.to_window(widget.right, widget.top)
            if x0 < -1 or y0 < -1 or x1 > Window.width + 1 or y1 > Window.height + 1:
                problems.append(f"{widget.text!r}: outside the window ({x0:.0f},{y0:.0f})")
        if isinstance(widget, StepFrame):
            fixed = sum(c.height for c in widget.body.children if c.size_hint_y is None)
            if widget.body.height + 1 < fixed:
                problems.append(f"body {widget.body.height:.0f} px < its content {fixed:.0f} px")
            problems += outside(widget.body)
    return problems


def outside(body: Any) -> list[str]:
    """Labels drawn beyond the body's top or bottom (over the title or the choices)."""
    from kivy.uix.label import Label

    bottom, top = body.to_window(0, body.y)[1], body.to_window(0, body.top)[1]
    return [
        f"{w.text!r}: outside the body"
        for w in body.walk(restrict=True)
        if isinstance(w, Label) and w.text and shown(w)
        and (w.to_window(0, w.y)[1] < bottom - 1 or w.to_window(0, w.top)[1] > top + 1)
    ]  # fmt: skip


def shown(widget: Any) -> bool:
    from kivy.uix.widget import Widget

    while isinstance(widget, Widget):  # up to the window
        if getattr(widget, "opacity", 1) == 0:
            return False
        widget = widget.parent
    return True


def not_blank(shot: Image.Image) -> bool:
    stats = ImageStat.Stat(shot.convert("L"))
    return stats.stddev[0] > 10 and len(shot.getcolors(1 << 20) or ()) > 50


TITLES = {Step.REFUSAL: "refusal.cancelled.title"}


def every_view() -> Iterator[tuple[str, View]]:
    """One view per step: its VIEWS entry where it has one, else its title and two choices."""
    rich = {view.step: view for view in VIEWS.values()}
    for step in Step:
        title = TITLES.get(step, f"{step.value}.title")
        choices = (Choice("x", "common.back", primary=True), Choice("y", "common.cancel"))
        plain = View(step, title, choices=choices, timeout_s=None)
        yield step.value, rich.get(step, plain)
