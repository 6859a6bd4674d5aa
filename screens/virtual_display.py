"""A private Xvfb display for the headless demo (and the UI tests): the real UI, no screen.

Kivy-free, so it can start before anything imports Kivy.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator


class NoVirtualDisplay(RuntimeError):
    pass


@contextlib.contextmanager
def virtual_display(width: int, height: int) -> Iterator[str]:
    """Start Xvfb on a free display number (Xvfb picks it), set DISPLAY, stop it after."""
    if shutil.which("Xvfb") is None:
        raise NoVirtualDisplay("Xvfb is not installed (apt-get install xvfb; .ci/bootstrap does)")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24",
         "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        server.kill()
        raise NoVirtualDisplay("Xvfb did not start")
    previous = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = f":{number}"
    try:
        yield os.environ["DISPLAY"]
    finally:
        server.terminate()
        server.wait(timeout=10)
        if previous is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = previous
