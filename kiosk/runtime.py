"""Start-up: the configuration made into running parts — the state directory, back-end
(or the embedded simulator), the durable outbox and its relay, devices, and the check-in
journey — and their orderly shutdown.

Start-up order matters for money: the outbox first resets what a crash left in flight,
then every payment the log shows open is resolved (``resolve_unsettled``) before the
first guest, and the relay starts delivering what was queued. Shutdown closes the
devices only after the guest service has let its journey settle (``kiosk run``).

``kiosk run``, ``kiosk demo`` and the UI tests all assemble the kiosk here, so the demo
runs the production code paths with simulated parts in place of real ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hardware.card_encoder import make_encoder
from hardware.config import DevicesConfig
from hardware.dispenser import make_dispenser
from hardware.health import DeviceHealth, HealthLevel
from hardware.payment import make_payment_terminal
from hardware.printer import open_printer
from kiosk.api.openability import OpenAbilityClient
from kiosk.api.pms import PmsClient
from kiosk.backends.amenities import AmenityDesk
from kiosk.backends.base import ArrivalsSource, CheckoutBackend, checkout_verbs
from kiosk.backends.factory import open_backend, open_client
from kiosk.backends.openability import OpenAbilityBackend
from kiosk.backends.pms import PmsBackend, rooms_of_queued_check_ins
from kiosk.backends.walk_in import WalkInDesk
from kiosk.config import BackendConfig, KioskConfig
from kiosk.device_opener import DeviceOpener
from kiosk.housekeeping import run_housekeeping
from kiosk.i18n import Catalogue
from kiosk.journeys.amenity import AmenityJourney
from kiosk.journeys.checkin import CheckinJourney
from kiosk.journeys.checkout import CheckoutJourney
from kiosk.journeys.devices import Devices
from kiosk.journeys.extend import extend_journey
from kiosk.journeys.key_desk import KeyDeskJourney
from kiosk.journeys.keys import capture_stray_card
from kiosk.journeys.lobby import GuestJourney, Lobby
from kiosk.journeys.payment import PaymentLog
from kiosk.journeys.settlement import resolve_unsettled
from kiosk.journeys.walk_in import WalkInJourney
from kiosk.offline import ArrivalsCache, OfflineBackend, run_prefetch
from kiosk.outbox import DEAD, Backoff, DurableOutbox
from kiosk.sealing import Sealer
from kiosk.sound.guide import SoundGuide, open_sound
from kiosk.state import StateDb

if TYPE_CHECKING:
    from kiosk.remote.kiosk import RemoteKiosk

log = logging.getLogger("kiosk.runtime")


@dataclass
class Runtime:
    """The running kiosk core. ``demo`` is the seeded demo's description when embedded."""

    config: KioskConfig
    journey: CheckinJourney
    devices: Devices
    opener: DeviceOpener  # opens the devices start-up found missing, when they come back
    client: PmsClient | OpenAbilityClient
    outbox: DurableOutbox
    sim: Any = None  # the embedded simulator (demo, tests); never in production
    demo: dict[str, Any] | None = None
    cache: ArrivalsCache | None = None  # None: this back-end cannot work offline
    _closers: list[Any] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    config_path: Path | None = None  # the file the config came from (remote set_config)
    remote: RemoteKiosk | None = None  # the fleet agent, when [remote] names a broker
    amenity_desk: AmenityDesk | None = None  # [amenities] enabled: the amenity system
    walk_in_desk: WalkInDesk | None = None  # a PMS back-end: walk-in rooms are sold on it
    other_clients: list[OpenAbilityClient] = field(default_factory=list)  # closed with client
    lobby: Lobby = field(init=False)  # the attract screen's menu: check-in, then the others

    def __post_init__(self) -> None:
        others = other_journeys(
            self.config,
            self.journey,
            amenity_desk=self.amenity_desk,
            walk_in_desk=self.walk_in_desk,
        )
        self.lobby = self.journey.lobby(*others)

    sound: SoundGuide | None = None  # cues and speech; follows the guest service's channel

    @property
    def payment_log(self) -> PaymentLog:
        return self.journey.payment_log

    async def start_background(self) -> list[str]:
        """Resolve the payments a crash left open, then start the outbox relay. Returns a
        line per payment resolved. The fleet agent starts first, so a kiosk that takes
        long to resolve is seen online."""
        if self.config.remote.enabled and self.remote is None:
            from kiosk.remote.kiosk import RemoteKiosk  # MQTT only where a broker is named

            self.remote = RemoteKiosk.start(self)
        await capture_stray_card(self.devices.dispenser)
        resolved = await resolve_unsettled(
            self.payment_log, self.devices.terminal, self.journey.backend
        )
        for line in resolved:
            log.warning("payment left open at a restart resolved: %s", line)
        keep_s = self.config.state.keep_delivered_days * 86_400
        self._tasks.append(
            asyncio.create_task(run_housekeeping(self.outbox, keep_s), name="housekeeping")
        )
        self._tasks.append(
            asyncio.create_task(
                self.outbox.run_relay(self.config.state.relay_idle_s), name="outbox-relay"
            )
        )
        if self.sound is not None:  # speech is rendered while the first guest is served
            self._tasks.append(asyncio.create_task(self.sound.run(), name="sound"))
            self._tasks.append(asyncio.create_task(self.sound.prerender(), name="speech"))
        backend = self.journey.backend
        if self.cache is not None and isinstance(backend, OfflineBackend):
            prefetching = run_prefetch(
                backend,
                self.cache,
                self.config.journey.zone,
                self.config.offline.prefetch_interval_s,
                now=self.journey.now,
            )
            self._tasks.append(asyncio.create_task(prefetching, name="prefetch"))
        return resolved

    def health_sources(self) -> list[Callable[[], DeviceHealth]]:
        """The back-end's and each device's ``health`` (the operator menu, telemetry)."""
        parts = [self.devices.terminal, self.devices.dispenser, self.devices.encoder]
        if self.devices.printer is not None:
            parts.append(self.devices.printer)
        if self.sound is not None:  # the loudspeaker, and speech that cannot be made
            parts.append(self.sound)
        return [self.backend_health, *(part.health for part in parts),
                self.journey.reject_bin_health,
                *(j.operator_health for j in self.lobby.journeys  # lost keys
                  if isinstance(j, KeyDeskJourney))]  # fmt: skip

    def backend_health(self) -> DeviceHealth:
        """ "online" or "offline", and what the outbox holds: "offline, 3 queued"."""
        backend = self.journey.backend
        offline = isinstance(backend, OfflineBackend) and backend.offline
        queued, dead = self.outbox.depth(), self.outbox.counts().get(DEAD, 0)
        detail = f"{'offline' if offline else 'online'}, {queued} queued"
        if dead:
            detail += f", {dead} dead (kiosk outbox list)"
        level = HealthLevel.WARNING if offline or queued or dead else HealthLevel.OK
        return DeviceHealth("backend", level, detail)

    async def aclose(self) -> None:
        if self.remote is not None:  # "offline" while the broker is still there to hear it
            await self.remote.aclose()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for client in (self.client, *self.other_clients):
            await client.aclose()
        for close in reversed(self._closers):
            with contextlib.suppress(Exception):  # one device failing to close stops no other
                close()
        if self.sim is not None:
            self.sim.stop()
            self.sim.db.close()


def other_journeys(
    config: KioskConfig,
    checkin: CheckinJourney,
    *,
    amenity_desk: AmenityDesk | None = None,
    walk_in_desk: WalkInDesk | None = None,
) -> tuple[GuestJourney, ...]:
    """The journeys the attract screen offers after check-in, in the menu's order; each
    shares check-in's back-end, devices, payment log and catalogue."""
    journeys: list[GuestJourney] = []
    checkout = checkout_verbs(checkin.backend)  # check-out: where the back-end has its verbs
    if config.journey.checkout and checkout is not None:
        journeys.append(checkout_journey(checkin, checkout))
    extend = extend_journey(checkin) if config.journey.extend_stay else None
    if extend is not None:
        journeys.append(extend)
    key_desk = KeyDeskJourney.beside(checkin)  # key: where the back-end keeps card records
    if key_desk is not None:
        journeys.append(key_desk)
    if amenity_desk is not None:
        amenities = config.amenities
        journeys.append(
            AmenityJourney(
                checkin,
                amenity_desk,
                slot_minutes=amenities.slot_minutes,
                days_ahead=amenities.days_ahead,
                residences=amenities.residences,
            )
        )
    if config.walk_in.enabled and walk_in_desk is not None:
        walk_in = config.walk_in
        journeys.append(
            WalkInJourney(
                checkin,
                walk_in_desk,
                rates=walk_in.rates,
                currency=config.backend.currency,
                photos=walk_in.photos,
                max_nights=walk_in.max_nights,
                check_out_time=walk_in.check_out_time,
            )
        )
    return tuple(journeys)


def amenity_client(
    config: KioskConfig, backend: BackendConfig, client: PmsClient | OpenAbilityClient
) -> OpenAbilityClient | None:
    """The open-ability client of the amenities, when they are enabled: the back-end's own
    on an open-ability property, else one to ``[amenities] base_url`` (or to the embedded
    simulator, which speaks both APIs)."""
    amenities = config.amenities
    if not amenities.enabled:
        return None
    if isinstance(client, OpenAbilityClient) and not amenities.base_url:
        return client
    if not amenities.base_url and config.backend.base_url:
        raise ValueError("[amenities] base_url is needed: the back-end is a PMS")
    token = amenities.token or backend.token
    return OpenAbilityClient(
        amenities.base_url or backend.base_url,
        token.get_secret_value(),
        timeout=backend.timeout_s,
        read_retries=backend.read_retries,
        max_reply_bytes=backend.max_reply_bytes,
    )


def checkout_journey(checkin: CheckinJourney, backend: CheckoutBackend) -> CheckoutJourney:
    """Check-out on check-in's parts; its clock is check-in's (a script's clock move)."""
    return CheckoutJourney(
        backend,
        checkin.devices,
        checkin.settings,
        checkin.payment_log,
        checkin.catalogue,
        signing_key=checkin.signing_key,
        now=lambda: checkin.now(),
        qr_max_length=checkin.qr_max_length,
    )


def start_simulator(config: KioskConfig) -> tuple[Any, dict[str, Any]]:
    """The embedded property simulator of ``[sim]``, with the demo property seeded."""
    from kiosk.sim.demo import seed_demo  # the simulator only where no back-end is named
    from kiosk.sim.server import Faults, SimServer

    db = config.sim.database(config.state.dir)
    db.parent.mkdir(parents=True, exist_ok=True)
    server = SimServer(
        db,
        config.backend.token.get_secret_value(),
        host=config.sim.host,
        port=config.sim.port,
        faults=Faults(latency_ms=config.sim.latency_ms, failure_rate=config.sim.failure_rate),
    ).start()
    demo = seed_demo(server, seed=config.sim.seed, timezone=config.journey.timezone)
    return server, demo


def open_devices(config: DevicesConfig) -> tuple[Devices, DeviceOpener, list[Any]]:
    """The journey's devices from ``[devices]``, the opener that opens them (start-up
    retries those that are missing) and their ``close`` calls.

    A simulated dispenser and a simulated encoder are joined into one card path (the
    encoder's field is the dispenser's RF position), as the hardware is on a kiosk.
    """
    terminal = make_payment_terminal(config.payment)
    encoder = make_encoder(config.encoder)
    dispenser = make_dispenser(config.dispenser)
    if config.dispenser.driver == "sim" and config.encoder.driver == "sim":
        from kiosk.demo.devices import SimCardPath  # simulated devices only: never in production

        dispenser = SimCardPath(dispenser, encoder)  # type: ignore[arg-type]
    printer = open_printer(config.printer)
    # The encoder before the card path: opening the path empties the encoder's field.
    opener = DeviceOpener(
        {"encoder": encoder.open, "dispenser": dispenser.open, "payment": terminal.open}
    )
    closers = [terminal.close, dispenser.close, encoder.close, printer.close]
    devices = Devices(terminal=terminal, dispenser=dispenser, encoder=encoder, printer=printer)
    return devices, opener, closers


def devices_in_state_dir(config: KioskConfig) -> DevicesConfig:
    """``[devices]`` with the devices' memory (simulators', the ZVT journal) under the state
    directory."""
    payment, printer = config.devices.payment, config.devices.printer
    if payment.sim_journal is None:
        payment = payment.model_copy(
            update={"sim_journal": config.state.dir / "payment-sim.sqlite"}
        )
    if payment.zvt_journal is None:
        payment = payment.model_copy(
            update={"zvt_journal": config.state.dir / "payment-zvt.sqlite"}
        )
    if printer.sim_folder is None:
        printer = printer.model_copy(update={"sim_folder": config.state.dir / "receipts"})
    return config.devices.model_copy(update={"payment": payment, "printer": printer})


def open_state(config: KioskConfig) -> tuple[StateDb, Sealer]:
    """The state database and the key that seals guest data in it."""
    return StateDb(config.state.db), Sealer.for_state_dir(config.state.dir)


async def start_runtime(config: KioskConfig, config_path: Path | None = None) -> Runtime:
    """Everything the kiosk runs on; ``backend.base_url`` "" embeds the simulator.
    Call ``start_background`` before the first guest. ``config_path``: the file ``config``
    was read from, which a fleet command may edit."""
    sim, demo = None, None
    backend_config = config.backend
    if not backend_config.base_url:
        sim, demo = start_simulator(config)
        backend_config = backend_config.model_copy(update={"base_url": sim.url})
        log.info("embedded property simulator on %s", sim.url)
    client = open_client(backend_config)
    amenities = amenity_client(config, backend_config, client)
    db, sealer = open_state(config)
    backoff = Backoff(config.state.retry_base_s, config.state.retry_cap_s)
    clients: dict[str, Any] = {backend_config.kind: client}
    if amenities is not None:
        clients["openability"] = amenities
    outbox = DurableOutbox.for_clients(db, sealer, **clients, backoff=backoff)
    outbox.recover()
    backend = adapter = open_backend(backend_config, outbox, client=client)
    devices, opener, closers = open_devices(devices_in_state_dir(config))
    missing = opener.open_missing()
    if missing:
        log.error("devices missing at start-up: %s", "; ".join(missing.values()))
    closers.append(db.close)
    payment_log = PaymentLog(db)
    cache = None
    if config.offline.enabled and isinstance(backend, ArrivalsSource):
        cache = ArrivalsCache(db, sealer)
        terminal = devices.terminal
        backend = OfflineBackend(
            backend,
            cache,
            config.offline,
            lambda: terminal.health().level is not HealthLevel.FAULT,
            taken_rooms=lambda: rooms_of_queued_check_ins(outbox),
        )
    signing_key = config.qr.signing_key
    journey = CheckinJourney(
        backend,
        devices,
        config.journey,
        payment_log,
        Catalogue.load(tz=config.journey.timezone),
        signing_key=signing_key.get_secret_value().encode() if signing_key else None,
        qr_max_length=config.devices.camera.max_payload_bytes,
    )
    sound = open_sound(
        config.sound,
        config.devices.audio,
        journey.catalogue,
        config.state.dir / "speech",
        config.journey.zone,
    )
    closers.append(sound.player.close)
    parts = (config, journey, devices, opener, client, outbox, sim, demo, cache, closers)
    desk = None
    if amenities is not None:
        desk = OpenAbilityBackend(
            amenities, outbox, currency=backend_config.currency, clock=lambda: journey.now()
        )
    # Walk-in sells on the PMS itself: the offline wrapper has no rooms to sell.
    walk_in = adapter if isinstance(adapter, PmsBackend) else None
    runtime = Runtime(
        *parts, config_path=config_path, amenity_desk=desk, walk_in_desk=walk_in, sound=sound
    )
    if amenities is not None and amenities is not client:
        runtime.other_clients.append(amenities)
    return runtime
