"""The kiosk's widgets; importing this package registers them and loads their kv rules."""

from pathlib import Path

from screens.kv import load_kv
from screens.widgets import (  # noqa: F401  (each import registers classes the kv rules name)
    big_button,
    camera_preview,
    card_progress,
    cards,
    contrast_toggle,
    header,
    icon,
    keyboard,
    language_bar,
    operator_menu,
    pin_pad,
    progress_bar,
    speech_toggle,
    staff_button,
    step_frame,
    text,
    timeout_overlay,
)

load_kv(str(Path(__file__).with_name("widgets.kv")))
