"""Offline check-in: the arrivals cache, its prefetch, and the back-end that falls back on it.

When the property's back-end is unreachable (or answers 5xx), :class:`OfflineBackend`
answers the journey's reads from the arrivals prefetched into the state database
(``ArrivalsCache``), composes the key payload itself, and lets the writes queue in the
durable outbox; what may happen offline is ``[offline]`` in the config (``OfflinePolicy``).
"""

from kiosk.offline.backend import OfflineBackend, OfflinePolicy
from kiosk.offline.cache import ArrivalsCache
from kiosk.offline.prefetch import prefetch, run_prefetch

__all__ = ["ArrivalsCache", "OfflineBackend", "OfflinePolicy", "prefetch", "run_prefetch"]
