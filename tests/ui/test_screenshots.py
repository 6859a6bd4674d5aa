"""Screenshots of every screen in every language on both panels (issue 12, Tests 1).

One app per orientation draws each step's screen (as the journey sends it) in English,
简体中文 and 繁體中文, switching the language on the screen shown rather than starting an
app per picture. Each screenshot must show something and nothing on it may overflow
(``layout_checks``). The pictures are kept as artefacts under ``out/screens/<orientation>/
<language>/<screen>.png``: look at them after a change to the screens.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kiosk.journeys.messages import Choice, Step, TextInput, View
from tests.ui.driver import UiDriver
from tests.ui.layout_checks import SIZES, every_view, not_blank, overflows

pytestmark = pytest.mark.timeout(150)

OUT = Path(__file__).resolve().parents[2] / "out" / "screens"
# Both panels drawn at 9/16 scale, as test_layout draws the landscape one: the layout is the
# panel's (a smaller window shows it scaled down), and software GL spends most of a
# screenshot's time putting the window's pixels on the X display.
WINDOWS = {"portrait": (608, 1080), "landscape": SIZES["landscape"]}
LANGS = ("en", "zh_Hans", "zh_Hant")
CANCEL = Choice("cancel", "common.cancel")
# The journey's views of the steps layout_checks.VIEWS draws only with a title and choices.
JOURNEY_VIEWS = {
    "language": View(Step.LANGUAGE, "language.title", "language.message",
                     choices=tuple(Choice(code, "language.name", params={"code": code})
                                   for code in LANGS)),
    "type_reference": View(
        Step.TYPE_REFERENCE, "type_reference.title", "type_reference.message", choices=(CANCEL,),
        input=TextInput(max_length=32, placeholder="type_reference.placeholder")),
    "identity": View(
        Step.IDENTITY, "identity.title", "identity.wrong",
        params={"prompt": "identity.phone_digits", "attempts_left": 2}, choices=(CANCEL,),
        input=TextInput(kind="digits", max_length=4, placeholder="identity.placeholder")),
    "register": View(Step.REGISTER, "register.title", "register.name",
                     params={"guest": 1, "guests": 2, "prompt": "register.name"},
                     choices=(CANCEL,), input=TextInput(max_length=60)),
    "busy": View(Step.BUSY, "busy.title", "busy.checking_in", timeout_s=None),
    "keys": View(Step.KEYS, "keys.title", "keys.message", params={"room": "201", "floor": 2},
                 choices=tuple(Choice(str(n), "keys.count", primary=n == 1, params={"count": n})
                               for n in (1, 2, 3))),
    "key_progress-present": View(Step.KEY_PROGRESS, "key_progress.title", "key_progress.present",
                                 params={"room": "201", "card": 2, "cards": 2}, progress=(2, 2),
                                 timeout_s=None),
    "out_of_service": View(Step.OUT_OF_SERVICE, "out_of_service.title", "out_of_service.message",
                           timeout_s=None),
}  # fmt: skip


def screens() -> dict[str, View]:
    views = dict(every_view())
    views.update(JOURNEY_VIEWS)
    return views


@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
async def test_every_screen_in_every_language(ui: UiDriver, orientation: str) -> None:
    out = OUT / orientation
    shutil.rmtree(out, ignore_errors=True)
    views = screens()
    assert {view.step for view in views.values()} == set(Step)  # every step has a screen
    problems: list[str] = []
    async with ui.window(*WINDOWS[orientation]):
        for n, (name, view) in enumerate(views.items()):
            await ui.show(view)
            # Every other screen takes the languages backwards: one redraw fewer per screen.
            for lang in LANGS if n % 2 == 0 else LANGS[::-1]:
                ui.app.lang = lang
                shot = await ui.grab(out / lang / f"{name}.png")
                where = f"{orientation} {lang} {name}"
                if shot.size != WINDOWS[orientation]:
                    problems.append(f"{where}: {shot.size}")
                if not not_blank(shot):
                    problems.append(f"{where}: blank")
                problems += [f"{where}: {problem}" for problem in overflows(ui)]
    assert problems == [], "\n".join(problems)
    assert len(list(out.glob("*/*.png"))) == len(views) * len(LANGS)
