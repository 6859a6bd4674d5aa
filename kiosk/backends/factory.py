"""The configured property back-end: ``[backend] kind`` picks the adapter (issue 4, item 1).

Start-up makes the client (:func:`open_client`), the outbox over it
(``DirectOutbox.for_clients``) and then the adapter (:func:`open_backend`); it closes
the client when the kiosk stops. ``base_url`` "" (the embedded simulator) is resolved
to the simulator's URL before this point.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from kiosk.api.openability import OpenAbilityClient
from kiosk.api.pms import PmsClient
from kiosk.backends.base import PropertyBackend
from kiosk.backends.openability import OpenAbilityBackend
from kiosk.backends.pms import PmsBackend
from kiosk.config import BackendConfig
from kiosk.outbox import Outbox

_CLIENTS: dict[str, type[PmsClient] | type[OpenAbilityClient]] = {
    "pms": PmsClient,
    "openability": OpenAbilityClient,
}


def open_client(config: BackendConfig) -> PmsClient | OpenAbilityClient:
    """The API client of the configured kind; the caller closes it (``aclose``)."""
    if not config.base_url:
        raise ValueError("backend base_url is empty: start the simulator and use its URL")
    return _CLIENTS[config.kind](
        config.base_url,
        config.token.get_secret_value(),
        timeout=config.timeout_s,
        read_retries=config.read_retries,
        max_reply_bytes=config.max_reply_bytes,
    )


def open_backend(
    config: BackendConfig,
    outbox: Outbox,
    *,
    client: PmsClient | OpenAbilityClient | None = None,
    kiosk_id: str | None = None,
    clock: Callable[[], datetime] | None = None,
) -> PropertyBackend:
    """The adapter of ``config.kind`` over ``client`` (made by :func:`open_client` if None).

    ``outbox`` sends the adapter's mutations; give it the same client. ``kiosk_id`` names
    this kiosk in open-ability claim references (default: the host name); ``clock`` is
    open-ability's "now" for choosing the current order.
    """
    client = client or open_client(config)
    if not isinstance(client, _CLIENTS[config.kind]):
        raise ValueError(f"backend kind {config.kind!r} needs a {_CLIENTS[config.kind].__name__}")
    if isinstance(client, PmsClient):
        return PmsBackend(
            client,
            outbox,
            currency=config.currency,
            pms_id=config.pms_id,
            country_code=config.phone_country_code,
        )
    return OpenAbilityBackend(
        client, outbox, currency=config.currency, kiosk_id=kiosk_id, clock=clock
    )
