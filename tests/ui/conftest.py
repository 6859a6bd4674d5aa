"""Real Kivy under a private Xvfb display, one app per test on the test's asyncio loop.

The window is 1080x1920 portrait at density 1, the kiosk's panel (docs/ui.md). Kivy's
environment is set here, before anything imports Kivy: no command-line parsing, logs
through Python logging, config in a throw-away KIVY_HOME.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

_KIVY_HOME = tempfile.mkdtemp(prefix="kivy-home-")
os.environ.update(
    KIVY_NO_ARGS="1",
    KIVY_LOG_MODE="PYTHON",
    KIVY_METRICS_DENSITY="1",
    KIVY_HOME=_KIVY_HOME,
    KIVY_NO_FILELOG="1",
)

from screens.virtual_display import NoVirtualDisplay, virtual_display  # noqa: E402
from tests.ui.driver import HEIGHT, WIDTH  # noqa: E402  (after Kivy's environment)


@pytest.fixture(scope="session")
def kivy_display() -> Iterator[str]:
    """An Xvfb server on a free display number (Xvfb picks it: -displayfd)."""
    if "kivy.core.window" in sys.modules:
        pytest.fail(
            "Kivy's window was created before Xvfb started: a test module imports screens/ or "
            "kivy.core at module level; import them inside the tests instead"
        )
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, _KIVY_HOME, ignore_errors=True)
        try:
            name = stack.enter_context(virtual_display(WIDTH, HEIGHT))
        except NoVirtualDisplay as exc:
            pytest.skip(str(exc))
        _configure_kivy()
        yield name


def _configure_kivy() -> None:
    from kivy.config import Config

    Config.set("graphics", "width", str(WIDTH))
    Config.set("graphics", "height", str(HEIGHT))
    Config.set("graphics", "resizable", "0")
    # No real mouse or touch devices: every touch in these tests is a synthetic MotionEvent.
    for name, _value in Config.items("input"):
        Config.remove_option("input", name)
    # Import every kv file into the global Builder now: each test's Builder copies it.
    import screens.app  # noqa: F401


@pytest.fixture
def ui_clock() -> Any:
    from tests.ui.driver import FixedClock

    return FixedClock(datetime(2026, 3, 4, 6, 0, tzinfo=UTC))


@pytest.fixture
async def ui(kivy_display: str, ui_clock: Any, tmp_path: Path) -> AsyncIterator[Any]:
    """A running ``KioskApp`` and the driver that stands in for the journey."""
    from tests.ui.driver import start_app

    async with start_app(ui_clock, tmp_path) as driver:
        yield driver
