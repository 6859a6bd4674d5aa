"""On-screen keyboard: letters and digits, or a digits-only pad; the kiosk has no keyboard.

The typed text is held here only until it is submitted or ``clear()`` is called (the app
clears it whenever guest data must go). ``secret`` shows dots instead of the text.
"""

from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty, NumericProperty, OptionProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from screens.widgets.big_button import BigButton

LETTER_ROWS = ("1234567890", "QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM-")
DIGIT_ROWS = ("123", "456", "789")
DELETE, SUBMIT, SPACE = "\b", "\n", " "
SPECIAL_LABELS = {DELETE: "keyboard.delete", SUBMIT: "keyboard.ok", SPACE: "keyboard.space"}


class OnScreenKeyboard(BoxLayout):
    """A display line and key rows; dispatches ``on_submit(text)`` when OK is pressed."""

    mode = OptionProperty("text", options=["text", "digits"])
    max_length = NumericProperty(40)
    secret = BooleanProperty(False)
    placeholder = StringProperty("")  # already translated
    text = StringProperty("")
    shown = StringProperty("")  # what the display line shows
    key_height = NumericProperty(0)  # every key row's (kv)

    __events__ = ("on_submit",)

    def on_kv_post(self, _base_widget: object) -> None:
        # The key rows live in the kv rule's ids, which exist only from here on.
        self.bind(mode=self._build_keys, text=self._show, secret=self._show)
        App.get_running_app().bind(lang=self._label_specials)  # they follow the language
        self._build_keys()

    def configure(self, mode: str, max_length: int, secret: bool, placeholder: str) -> None:
        self.mode, self.max_length, self.secret, self.placeholder = (
            mode,
            max_length,
            secret,
            placeholder,
        )
        self.clear()

    def clear(self) -> None:
        self.text = ""
        self._show()

    def press(self, key: str) -> None:
        if key == DELETE:
            self.text = self.text[:-1]
        elif key == SUBMIT:
            if self.text.strip():
                self.dispatch("on_submit", self.text.strip())
        elif len(self.text) < self.max_length:
            self.text += key

    def on_submit(self, text: str) -> None:
        """Default handler of the event (the screen binds its own)."""

    def _show(self, *_args: object) -> None:
        self.shown = "•" * len(self.text) if self.secret else self.text

    def _build_keys(self, *_args: object) -> None:
        keys: GridLayout = self.ids.key_grid
        keys.clear_widgets()
        app = App.get_running_app()
        rows = DIGIT_ROWS if self.mode == "digits" else LETTER_ROWS
        columns = max(len(row) for row in rows)
        keys.cols = columns
        for row in rows:
            for char in row.ljust(columns):
                keys.add_widget(self._key(char, char) if char != " " else BoxLayout())
        specials = [DELETE, SUBMIT] if self.mode == "digits" else [SPACE, DELETE, SUBMIT]
        bottom: BoxLayout = self.ids.bottom_row
        bottom.clear_widgets()
        for key in specials:
            button = self._key(key, app.tr(SPECIAL_LABELS[key], app.lang))
            button.primary = key == SUBMIT
            bottom.add_widget(button)
        if self.mode == "digits":
            bottom.add_widget(self._key("0", "0"), index=1)

    def _label_specials(self, app: App, lang: str) -> None:
        for button in self.ids.bottom_row.children:
            if button.choice_id in SPECIAL_LABELS:
                button.text = app.tr(SPECIAL_LABELS[button.choice_id], lang)

    def _key(self, key: str, label: str) -> BigButton:
        button = BigButton(text=label, choice_id=key, size_hint_y=1)  # the row's height
        button.bind(on_release=lambda b: self.press(b.choice_id))
        return button
