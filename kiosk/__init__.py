"""Lobby kiosk core: API clients, back-end adapters, journeys, outbox, simulator.

Importable without Kivy (the UI lives in ``screens/``).
"""

__version__ = "0.1.0"
