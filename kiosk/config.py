"""The kiosk's configuration: a TOML file plus ``KIOSK_*`` environment, validated at start-up.

Environment variables override the file (``KIOSK_BACKEND__TOKEN`` sets
``[backend] token``), so secrets can stay out of the file. Every field has a
documented default; the defaults run the embedded simulator and simulated devices.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from hardware.config import DevicesConfig
from kiosk.appliance.credentials import CredentialsSource
from kiosk.journeys.settings import JourneySettings
from kiosk.offline.backend import OfflinePolicy

DEFAULT_CONFIG_PATH = Path("/etc/kiosk/kiosk.toml")


class BackendConfig(BaseModel):
    """``[backend]``: the property's back-end the kiosk speaks to."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["pms", "openability"] = Field(
        "pms", description="which API family (seed 004, or seeds 000+001)"
    )
    base_url: str = Field("", description='back-end URL; "" runs the embedded property simulator')
    token: SecretStr = Field(SecretStr("demo-token"), description="Bearer token")
    pms_id: int = Field(1, description="the PMS store id (pms_id) of this property")
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

    host: str = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535, description="0 picks a free port")
    db: Path | None = Field(
        None, description="SQLite state, survives restarts; None: <state dir>/sim.sqlite"
    )
    seed: int = Field(1, description="seed of the deterministic demo property")
    latency_ms: float = Field(0.0, ge=0)
    failure_rate: float = Field(0.0, ge=0, le=1)


class QrConfig(BaseModel):
    """``[qr]``: how booking QR codes are trusted (docs/qr-payload.md)."""

    model_config = ConfigDict(extra="forbid")

    signing_key: SecretStr | None = Field(
        None, description="property HMAC key; None: no payload is signed"
    )
    max_length: int = Field(512, ge=64, le=4096)


class OperatorConfig(BaseModel):
    """``[operator]``: the hidden staff menu (long press top-left, then the PIN)."""

    model_config = ConfigDict(extra="forbid")

    pin_hash: SecretStr | None = Field(
        None, description="pbkdf2 hash from `python -m kiosk.operator_access`; None: menu locked"
    )
    max_failures: int = Field(3, ge=1, le=10, description="wrong PINs before the lockout")
    lockout_s: float = Field(300.0, gt=0, description="how long the menu stays locked")


class UiConfig(BaseModel):
    """``[ui]``: the touch screen."""

    model_config = ConfigDict(extra="forbid")

    width: int = Field(1080, ge=320, description="window size in pixels (portrait panel)")
    height: int = Field(1920, ge=320)
    fullscreen: bool = Field(True, description="False: a window (development, demo)")
    warning_s: float = Field(20.0, gt=0, description='the "Are you still there?" countdown')


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


class KioskConfig(BaseSettings):
    """The whole configuration; see ``load_config``."""

    model_config = SettingsConfigDict(
        env_prefix="KIOSK_", env_nested_delimiter="__", extra="forbid"
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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides systemd's credentials, which override the file's values
        # (they come in as init kwargs).
        return (env_settings, CredentialsSource(settings_cls), init_settings)


class ConfigFileError(Exception):
    """The config file cannot be read (missing, unreadable, not TOML)."""


def load_config(path: Path | None = None) -> KioskConfig:
    """The configuration from ``path`` (TOML) and the environment; defaults without a path."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as fh:
                values = tomllib.load(fh)
        except OSError as exc:
            raise ConfigFileError(f"{path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigFileError(f"{path}: not TOML ({exc})") from None
    return KioskConfig(**values)
