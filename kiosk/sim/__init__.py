"""Property simulator: a real HTTP server with SQLite state that speaks every seed operation.

The embedded default back-end for the demo, the tests and staff training.
``kiosk sim`` starts it; :class:`kiosk.sim.server.SimServer` embeds it.
"""
