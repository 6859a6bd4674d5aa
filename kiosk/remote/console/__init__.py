"""The operators' browser console (``kiosk console``, docs/fleet.md): a small ASGI app
(Starlette, uvicorn, Jinja2 templates, plain JavaScript with server-sent events) that reads
the fleet from the broker through ``kiosk.remote.operator`` and sends signed commands.

Needs the ``console`` extra; the kiosk itself never imports it."""
