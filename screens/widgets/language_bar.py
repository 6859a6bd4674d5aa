"""One button per catalogue, each named in its own language, on every screen."""

from __future__ import annotations

from kivy.app import App
from kivy.uix.boxlayout import BoxLayout

from screens.widgets.big_button import BigButton


class LanguageBar(BoxLayout):
    """Switches the whole UI's language; the current one is shown as primary."""

    def on_parent(self, _widget: object, parent: object) -> None:
        if parent is None or self.children:
            return
        app = App.get_running_app()
        for language in app.catalogue.languages:
            button = BigButton(text=language.name, choice_id=language.code, compact=True)
            button.primary = language.code == app.lang
            button.bind(on_release=lambda b: app.choose_language(b.choice_id))
            self.add_widget(button)
        app.bind(lang=self._highlight)

    def _highlight(self, _app: object, lang: str) -> None:
        for button in self.children:
            button.primary = button.choice_id == lang
