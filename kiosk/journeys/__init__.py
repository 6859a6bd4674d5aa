"""Guest journeys as plain async state machines, driven by a UI or by a script (no Kivy)."""
