"""Choosing a language: one big button per catalogue, named in its own language."""

from __future__ import annotations

from kivy.app import App

from kiosk.journeys.messages import Step, View
from screens.base import StepScreen
from screens.kv import load_kv
from screens.widgets.big_button import BigButton


class LanguageScreen(StepScreen):
    step = Step.LANGUAGE

    def render(self, view: View) -> None:
        # The journey's choices are the same languages: one button each, drawn here by name.
        self.frame.choices.clear_widgets()
        app = App.get_running_app()
        languages = self.ids.languages
        languages.clear_widgets()
        for language in app.catalogue.languages:
            button = BigButton(text=language.name, primary=language.code == app.lang)
            button.choice_id = language.code
            button.bind(on_release=lambda b: app.choose_language(b.choice_id))
            languages.add_widget(button)


load_kv(__file__)
