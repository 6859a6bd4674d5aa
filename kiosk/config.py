"""The kiosk's configuration: a TOML file plus ``KIOSK_*`` environment, validated at start-up.

This schema (with the sections it composes) is the only place a setting and its default
live; ``kiosk config template`` and docs/configuration.md are rendered from it
(``kiosk.config_schema``). Environment variables override the file
(``KIOSK_BACKEND__TOKEN`` sets ``[backend] token``) and systemd credentials named after
a secret setting (``backend.token``) override the file too, so secrets can stay out of
it. The defaults run the embedded simulator and simulated devices.
"""

from __future__ import annotations

import math
import os
import tomllib
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from hardware.config import DevicesConfig
from kiosk.config_schema import ENV_DELIMITER, ENV_PREFIX, walk
from kiosk.journeys.settings import JourneySettings
from kiosk.offline.backend import OfflinePolicy
from kiosk.sound.settings import SoundSettings

DEFAULT_CONFIG_PATH = Path("/etc/kiosk/kiosk.toml")


class BackendConfig(BaseModel):
    """``[backend]``: the property's back-end the kiosk speaks to."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["pms", "openability"] = Field(
        "pms", description="which API family (seed 004, or seeds 000+001)"
    )
    base_url: str = Field("", description='back-end URL; "" runs the embedded property simulator')
    token: SecretStr = Field(
        SecretStr("demo-token"), description="the Bearer token every request carries"
    )
    pms_id: int = Field(
        1, ge=1, description="pms: this property's store id (pms_id), for the arrivals prefetch"
    )
    phone_country_code: str = Field(
        "+86",
        pattern=r"^\+[0-9]{1,4}$",
        description="pms: the calling code of guests' phones, which the PMS keeps without "
        "one (door PINs and e-keys sent by SMS)",
    )
    currency: str = Field(
        "CNY",
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217 code of the back-end's amounts: what the terminal charges in "
        "and what screens and receipts show",
    )
    timeout_s: float = Field(
        10.0, gt=0, le=120, description="deadline of one request: connect, send, whole reply"
    )
    max_reply_bytes: int = Field(
        4 * 1024 * 1024, ge=64 * 1024, le=256 * 1024 * 1024,
        description="a longer reply is refused as it arrives (a write's then may have landed)",
    )  # fmt: skip
    read_retries: int = Field(2, ge=0, le=10, description="retries of read-only calls")

    @field_validator("base_url")
    @classmethod
    def _plain_http_url(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("base_url must be an http(s) URL")
        if parts.username or parts.password:
            # Credentials in a URL end up in logs; the token field carries the secret.
            raise ValueError("base_url must not carry credentials; use token")
        return value.rstrip("/")


class SimConfig(BaseModel):
    """``[sim]``: the embedded property simulator (demo, tests, staff training)."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="the address it listens on")
    port: int = Field(0, ge=0, le=65535, description="its TCP port; 0 picks a free port")
    db: Path | None = Field(
        None, description="SQLite state, survives restarts; unset: <state dir>/sim.sqlite"
    )
    seed: int = Field(1, description="seed of the deterministic demo property")
    latency_ms: float = Field(0.0, ge=0, description="latency added to every request")
    failure_rate: float = Field(
        0.0, ge=0, le=1, description="share of requests answered 503 (fault drills)"
    )

    def database(self, state_dir: Path) -> Path:
        """The SQLite file: ``db``, or ``sim.sqlite`` in the state directory."""
        return self.db or state_dir / "sim.sqlite"


class QrConfig(BaseModel):
    """``[qr]``: how booking QR codes are trusted (docs/qr-payload.md)."""

    model_config = ConfigDict(extra="forbid")

    signing_key: SecretStr | None = Field(
        None, description="the property's HMAC key; unset: every code needs a second factor"
    )


class OperatorConfig(BaseModel):
    """``[operator]``: the hidden staff menu (long press top-left, then the PIN)."""

    model_config = ConfigDict(extra="forbid")

    pin_hash: SecretStr | None = Field(
        None, description="pbkdf2 hash from `python -m kiosk.operator_access`; unset: menu locked"
    )
    max_failures: int = Field(3, ge=1, le=10, description="wrong PINs before the lockout")
    lockout_s: float = Field(300.0, gt=0, description="how long the menu stays locked")


HEX_COLOUR = r"^#[0-9A-Fa-f]{6}$"


class ThemeConfig(BaseModel):
    """``[ui.theme]``: the property's brand on the screens; unset fields come from ``preset``."""

    model_config = ConfigDict(extra="forbid")

    preset: Literal["harbour", "jade"] = Field(
        "harbour",
        description="the shipped theme to start from: harbour (light, blue and gold) or "
        "jade (dark, green and gold)",
    )
    hotel_name: str | None = Field(
        None, max_length=60, description="the name in the header and on the attract screen"
    )
    logo: Path | None = Field(None, description="the logo, a PNG file (square looks best)")
    primary: str | None = Field(
        None, pattern=HEX_COLOUR, description="brand colour of the header and main buttons, #RRGGBB"
    )
    accent: str | None = Field(
        None, pattern=HEX_COLOUR, description="second brand colour (step indicator), #RRGGBB"
    )
    attract_image: Path | None = Field(
        None, description="background photo of the attract screen (PNG or JPEG)"
    )
    base: Literal["light", "dark"] | None = Field(
        None, description="light or dark screens behind the brand colours"
    )


class UiConfig(BaseModel):
    """``[ui]``: the touch screen."""

    model_config = ConfigDict(extra="forbid")

    width: int = Field(
        1080, ge=320, description="window width in pixels (1080 portrait, 1920 landscape)"
    )
    height: int = Field(1920, ge=320, description="window height in pixels")
    fullscreen: bool = Field(True, description="false: a window (development, demo)")
    warning_s: float = Field(
        20.0, gt=0, description='the "Are you still there?" countdown before a screen times out'
    )
    panel_diagonal_in: float = Field(
        21.5,
        gt=0,
        le=100,
        description="the panel's visible diagonal in inches: touch targets are checked "
        "against 9 mm at this size and the width x height resolution",
    )
    low_reach: bool = Field(
        False,
        description="wheelchair-height layout: on a portrait panel every control stays in "
        "the lower two thirds of the screen (the header with its buttons moves to the bottom)",
    )
    theme: ThemeConfig = ThemeConfig()
    card_slot: Literal["below", "left", "right"] = Field(
        "below",
        description="where the card dispenser's slot is, seen by a guest facing the screen: "
        '"take your card" points there',
    )

    @property
    def px_per_mm(self) -> float:
        """Pixels per millimetre of the panel (square pixels)."""
        return math.hypot(self.width, self.height) / (self.panel_diagonal_in * 25.4)


class StateConfig(BaseModel):
    """``[state]``: where the kiosk keeps everything that must survive a restart."""

    model_config = ConfigDict(extra="forbid")

    dir: Path = Field(
        Path("var/state"),
        description="the state directory: outbox, payment log, caches, the simulated "
        "devices' memory, the data key (systemd: StateDirectory=)",
    )
    relay_idle_s: float = Field(
        5.0, gt=0, le=300, description="how often the outbox relay looks for due entries"
    )
    retry_base_s: float = Field(1.0, gt=0, le=60, description="first backoff of a failed write")
    retry_cap_s: float = Field(300.0, gt=0, le=3600, description="longest backoff between tries")
    shutdown_grace_s: float = Field(
        30.0, gt=0, le=300, description="on SIGTERM: time for the journey to reach a safe point"
    )
    keep_delivered_days: float = Field(
        7.0, ge=0, le=90, description="delivered outbox entries are purged after this"
    )

    @property
    def db(self) -> Path:
        return self.dir / "kiosk.sqlite"


class RemoteConfig(BaseModel):
    """``[remote]``: the fleet agent (MQTT 5) and the operator's ``kiosk fleet`` (docs/fleet.md).

    No broker: no agent, the kiosk runs on its own. The same section serves an operator's
    machine: the brokers, its own credentials and the fleet key the commands are signed
    with."""

    model_config = ConfigDict(extra="forbid")

    brokers: list[str] = Field(
        [],
        description='broker URLs, tried in turn (fail-over): "mqtt://host:1883", TLS '
        '"mqtts://host:8883"; empty: no fleet agent',
    )
    kiosk_id: str = Field(
        "",
        pattern=r"^[A-Za-z0-9_.-]{0,64}$",
        description="this kiosk's id: its topics, its MQTT client id and user name; "
        '"" the host name',
    )
    site: str = Field("", max_length=64, description="the site (hotel) the kiosk belongs to")
    username: str = Field(
        "", description='MQTT user name; "" the kiosk id (an operator\'s machine: anonymous)'
    )
    password: SecretStr | None = Field(None, description="MQTT password")
    tls_ca_file: Path | None = Field(
        None, description="CA certificates that sign the brokers' (mqtts://); unset: the system's"
    )
    tls_cert_file: Path | None = Field(
        None, description="client certificate (PEM) for brokers that ask for one"
    )
    tls_key_file: Path | None = Field(None, description="the client certificate's private key")
    topic_prefix: str = Field(
        "fleet/v1",
        pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$",
        description="first levels of every topic: "
        "<prefix>/<kiosk>/status|telemetry|event|cmd|reply",
    )
    keepalive_s: int = Field(
        30, ge=5, le=600,
        description="MQTT keep-alive; a kiosk silent for 1.5 times this is declared offline",
    )  # fmt: skip
    telemetry_interval_s: float = Field(
        60.0, ge=1, le=3600, description="how often the kiosk publishes its telemetry"
    )
    reconnect_min_s: float = Field(
        1.0, gt=0, le=60, description="first wait before connecting again after a failure"
    )
    reconnect_max_s: float = Field(
        60.0, gt=0, le=3600, description="longest wait between connection attempts (backoff)"
    )
    command_secret: SecretStr | None = Field(
        None,
        description="this kiosk's HMAC-SHA256 key for commands (`kiosk fleet secret KIOSK` "
        "derives it from the fleet key); unset: every command is refused",
    )
    fleet_key: SecretStr | None = Field(
        None,
        description="operator side: the key each kiosk's command secret is derived from "
        "(HMAC of the kiosk id); never on a kiosk",
    )
    command_max_age_s: float = Field(
        30.0, ge=1, le=600,
        description="a command signed further than this from the kiosk's clock is refused",
    )  # fmt: skip
    log_tail_lines: int = Field(
        500, ge=10, le=10_000, description="log records the kiosk keeps for the log-tail command"
    )

    @field_validator("brokers")
    @classmethod
    def _broker_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            parts = urlsplit(url)
            if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
                raise ValueError("a broker URL is mqtt://host[:port] or mqtts://host[:port]")
            if parts.username or parts.password:
                raise ValueError("a broker URL must not carry credentials; use username/password")
        return value

    @property
    def enabled(self) -> bool:
        return bool(self.brokers)


class AmenitiesConfig(BaseModel):
    """``[amenities]``: amenity booking for in-house guests (seed 000, open-ability)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description='offer "Book an amenity" on the attract screen')
    base_url: str = Field(
        "",
        description='the open-ability server of the amenities; "" is the back-end itself '
        "(an open-ability back-end, or the embedded simulator)",
    )
    token: SecretStr | None = Field(
        None, description="its Bearer token; unset: the back-end's token"
    )
    slot_minutes: int = Field(60, ge=15, le=240, description="the length of a booking")
    days_ahead: int = Field(
        3, ge=1, le=14, description="how many days (today first) a guest may book"
    )
    residences: dict[str, str] = Field(
        default_factory=dict,
        description="room name -> open-ability residence id, where the PMS's room names "
        "differ from the residences' numbers",
    )

    @field_validator("base_url")
    @classmethod
    def _plain_http_url(cls, value: str) -> str:
        return BackendConfig._plain_http_url(value)


class WalkInConfig(BaseModel):
    """``[walk_in]``: selling tonight's free rooms to guests without a booking (PMS only)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description='offer "Book a room" on the attract screen')
    rates: dict[str, Decimal] = Field(
        default_factory=dict,
        description='room type id -> the nightly rate the kiosk sells it at, e.g. {"1" = '
        '"388.00"}; types without a rate are not sold',
    )
    photos: dict[str, Path] = Field(
        default_factory=dict, description="room type id -> a photo of the room (JPEG or PNG)"
    )
    max_nights: int = Field(3, ge=1, le=14, description="the longest stay the kiosk sells")
    check_out_time: time = Field(time(12, 0), description="local time a walk-in stay ends")

    @field_validator("rates")
    @classmethod
    def _positive_money(cls, rates: dict[str, Decimal]) -> dict[str, Decimal]:
        for rate in rates.values():
            if not rate.is_finite() or rate <= 0 or rate != rate.quantize(Decimal("0.01")):
                raise ValueError("a rate is an amount above zero with at most two decimals")
        return rates


class ConsoleConfig(BaseModel):
    """``[console]``: the operators' browser console, ``kiosk console`` (docs/fleet.md); it
    reads the fleet through ``[remote]`` of the same file."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="address the console listens on")
    port: int = Field(8080, ge=1, le=65535, description="port the console listens on")
    accounts_file: Path = Field(
        Path("/etc/kiosk/console-accounts.json"),
        description="operator accounts (scrypt hashes, mode 0600), written by "
        "`kiosk console adduser NAME --role viewer|operator` and `deluser NAME`; read again "
        "when it changes",
    )
    audit_log: Path = Field(
        Path("var/console/audit.jsonl"),
        description="append-only JSON lines: every command sent, by whom, its reply; logins",
    )
    tls_cert_file: Path | None = Field(
        None, description="certificate (PEM) to serve HTTPS itself; unset: plain HTTP"
    )
    tls_key_file: Path | None = Field(None, description="the certificate's private key (PEM)")
    secure_cookies: bool = Field(
        True,
        description="session cookies only over HTTPS; false only for plain HTTP on loopback "
        "(tests), refused on any other address",
    )
    session_idle_min: float = Field(
        60.0, gt=0, le=1440, description="a session unused this long is logged out"
    )
    login_max_failures: int = Field(
        5, ge=1, le=100, description="failed logins (per user name or address) before a lockout"
    )
    login_lockout_s: float = Field(
        300.0, gt=0, le=86400, description="how long logins stay refused after the failures"
    )
    offline_alert_min: float = Field(
        10.0, gt=0, le=10080, description="a kiosk offline longer than this is an alert"
    )
    command_timeout_s: float = Field(
        30.0, ge=1, le=600, description="a command with no reply after this is marked unanswered"
    )
    events_kept: int = Field(
        50, ge=1, le=1000, description="recent events the console keeps per kiosk"
    )


class KioskConfig(BaseSettings):
    """The whole configuration; see ``load_config``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter=ENV_DELIMITER, extra="forbid"
    )

    backend: BackendConfig = BackendConfig()
    state: StateConfig = StateConfig()
    offline: OfflinePolicy = OfflinePolicy()
    sim: SimConfig = SimConfig()
    qr: QrConfig = QrConfig()
    devices: DevicesConfig = DevicesConfig()
    journey: JourneySettings = JourneySettings()
    operator: OperatorConfig = OperatorConfig()
    ui: UiConfig = UiConfig()
    remote: RemoteConfig = RemoteConfig()
    amenities: AmenitiesConfig = AmenitiesConfig()
    walk_in: WalkInConfig = WalkInConfig()
    console: ConsoleConfig = ConsoleConfig()
    sound: SoundSettings = SoundSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the file's values and systemd's credentials, which
        # come in as init kwargs (``load_config``).
        return (env_settings, init_settings)


class ConfigFileError(Exception):
    """The config file cannot be read (missing, unreadable, not TOML)."""


def load_config(path: Path | None = None) -> KioskConfig:
    """The configuration from ``path`` (TOML), credentials and the environment; defaults
    without a path."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as fh:
                values = tomllib.load(fh)
        except OSError as exc:
            raise ConfigFileError(f"{path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigFileError(f"{path}: not TOML ({exc})") from None
    for keys, secret in credentials().items():
        section = values
        for key in keys[:-1]:
            section = section.setdefault(key, {})
            if not isinstance(section, dict):
                break  # the file's own error ("not a table") is reported by validation
        else:
            section[keys[-1]] = secret
    return KioskConfig(**values)


def credentials() -> dict[tuple[str, ...], str]:
    """Secret settings that systemd passes as credentials (``LoadCredential=``), each
    named after its setting: ``$CREDENTIALS_DIRECTORY/backend.token``."""
    folder = os.environ.get("CREDENTIALS_DIRECTORY")
    if not folder:
        return {}
    found = {}
    for setting in walk(KioskConfig):
        file = Path(folder) / setting.key
        if setting.secret and file.is_file():
            try:
                secret = file.read_text().strip()
            except (OSError, UnicodeDecodeError):
                raise ConfigFileError(f"credential {setting.key} cannot be read") from None
            # Empty is "not set": the installer creates every credential file, so that the
            # unit starts, and the operator fills in those the property provides.
            if secret:
                found[setting.path] = secret
    return found


def credential_names() -> list[str]:
    """The credential files the kiosk reads: one per secret setting, named by its key (the
    outbox key, ``outbox-key``, is ``kiosk.sealing``'s own)."""
    return [setting.key for setting in walk(KioskConfig) if setting.secret]


def config_errors(exc: ValidationError) -> list[str]:
    """One line per bad setting: its dotted name and what is wrong, never the value (it may
    be a secret)."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        where = ".".join(str(part) for part in error["loc"])
        lines.append(f"{where}: {error['msg']}")
    return lines
