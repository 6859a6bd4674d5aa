"""Every setting lives once, in the schema: the removed twins are gone, the property's
currency flows from ``[backend] currency`` to the terminal, the screens and the receipt,
``kiosk sim`` takes its defaults from the schema, and nothing declared goes unread."""

from __future__ import annotations

import inspect
import re
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from hardware.payment.config import PaymentConfig
from kiosk.api.pms import PmsClient
from kiosk.backends.base import ArrivalsSource, BackendError, PropertyBackend
from kiosk.backends.factory import open_backend
from kiosk.cli import build_parser
from kiosk.cli.sim import settings as sim_settings
from kiosk.config import BackendConfig, KioskConfig, QrConfig, SimConfig
from kiosk.config_schema import Setting, section_model, sections, walk
from kiosk.demo import DEMO_QR_KEY, builtin_scripts, demo_config
from kiosk.demo.script import GuestScript, run_script, values_from_manifest
from kiosk.journeys.messages import View
from kiosk.runtime import start_runtime
from kiosk.sim.demo import seed_demo, write_manifest
from kiosk.sim.server import SimServer
from tests.conftest import SIM_NOW, SIM_TOKEN
from tests.journey_kit import durable_outbox

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ("kiosk", "hardware", "screens")


def production_sources() -> dict[Path, str]:
    """Python and kv (kv rules read attributes too)."""
    files = [p for d in PRODUCTION for p in (ROOT / d).rglob("*") if p.suffix in (".py", ".kv")]
    return {p: p.read_text() for p in sorted(files)}


def test_the_removed_twins_are_refused() -> None:
    assert "max_length" not in QrConfig.model_fields
    assert "currency" not in PaymentConfig.model_fields
    for table in ({"qr": {"max_length": 300}}, {"devices": {"payment": {"currency": "EUR"}}}):
        with pytest.raises(ValidationError):
            KioskConfig(**table)


@pytest.mark.parametrize(
    ("literal", "setting"), [("CNY", "currency"), ("+86", "phone_country_code")]
)
def test_the_propertys_facts_are_written_once_in_production_code(
    literal: str, setting: str
) -> None:
    """No back-end, terminal or receipt hard-codes the property's currency or calling code:
    only the schema's default does (the property simulator, the other side, is left out)."""
    quoted = re.compile(rf"""["']{re.escape(literal)}["']""")
    simulator = ROOT / "kiosk" / "sim"
    where = [
        f"{path.relative_to(ROOT)}:{n}"
        for path, text in production_sources().items()
        if not path.is_relative_to(simulator)
        for n, line in enumerate(text.splitlines(), 1)
        if quoted.search(line)
    ]
    assert where == [f"kiosk/config.py:{_line_of('kiosk/config.py', f'{setting}: str') + 1}"]


def _line_of(relative: str, needle: str) -> int:
    lines = (ROOT / relative).read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if needle in line)


async def test_the_property_currency_reaches_terminal_screens_and_receipt(
    tmp_path: Path,
) -> None:
    config = demo_config(tmp_path, KioskConfig(backend=BackendConfig(currency="EUR")))
    runtime = await start_runtime(config)
    try:
        await runtime.start_background()
        runtime.devices.printer.offline = True  # the receipt on screen, as text to read
        manifest = write_manifest(
            tmp_path / "manifest.json", runtime.sim, runtime.demo, DEMO_QR_KEY.encode()
        )
        script = GuestScript.load(next(p for p in builtin_scripts() if p.stem == "balance_due"))
        views: list[View] = []

        async def seen(view: View) -> None:
            views.append(view)

        report = await run_script(
            runtime.journey, script, values_from_manifest(manifest), on_view=seen
        )
        assert report.passed, report.failures
        shown = {v.params["currency"] for v in views if "currency" in v.params}
        assert shown == {"EUR"}
        receipt = [row for v in views for row in v.params.get("receipt_rows", [])]
        assert any("EUR" in row for row in receipt), receipt
        assert not any("CNY" in row for row in receipt)
        charged = {r.currency for r in runtime.payment_log.records()}
        assert charged == {"EUR"}
    finally:
        await runtime.aclose()


def test_backends_are_told_the_propertys_settings() -> None:
    """No adapter has a default of its own for a [backend] setting to fall back on."""
    from kiosk.backends.openability import OpenAbilityBackend
    from kiosk.backends.pms import PmsBackend

    told: list[tuple[type[PropertyBackend], str]] = [  # type: ignore[list-item]
        (PmsBackend, "currency"),
        (PmsBackend, "pms_id"),
        (PmsBackend, "country_code"),
        (OpenAbilityBackend, "currency"),
    ]
    for adapter, name in told:
        parameter = inspect.signature(adapter).parameters[name]
        assert parameter.default is inspect.Parameter.empty, (adapter.__name__, name)


# --- kiosk sim ------------------------------------------------------------------------------


def sim_args(*argv: str):  # type: ignore[no-untyped-def]
    return build_parser().parse_args(["sim", *argv])


def test_kiosk_sim_repeats_no_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KIOSK_SIM__PORT", "KIOSK_BACKEND__TOKEN", "KIOSK_JOURNEY__TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    args = sim_args()
    flags = ("command", "func", "no_demo", "verbose")
    options = {k: v for k, v in vars(args).items() if k not in flags}
    assert options and all(v is None for v in options.values()), options
    s = sim_settings(args)
    defaults = KioskConfig()
    assert s.sim == SimConfig()
    assert s.db == defaults.state.dir / "sim.sqlite"
    assert s.token == defaults.backend.token.get_secret_value()
    assert s.timezone == defaults.journey.timezone
    assert s.qr_key is None  # the default kiosk trusts no signature: the codes are unsigned


def test_kiosk_sim_takes_the_kiosks_file_and_options_override(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(
        '[backend]\ntoken = "site-token"\n[qr]\nsigning_key = "site-key"\n'
        '[journey]\ntimezone = "Asia/Shanghai"\n[sim]\nport = 8765\nlatency_ms = 60\n'
    )
    s = sim_settings(sim_args("--config", str(path), "--port", "9000"))
    assert (s.token, s.qr_key, s.timezone) == ("site-token", b"site-key", "Asia/Shanghai")
    assert (s.sim.port, s.sim.latency_ms) == (9000, 60)
    with pytest.raises(ValidationError):
        sim_settings(sim_args("--failure-rate", "2"))  # the schema's bounds hold for options


# --- nothing declared goes unread -----------------------------------------------------------


def test_every_setting_is_read_somewhere() -> None:
    """A setting is read when production code outside the schema's own class bodies names it
    as an attribute (``config.port``), or its model's methods do (``self.site_key_a``).
    A name shared with other code can hide an unread setting; a name read nowhere cannot."""
    models: list[type[BaseModel]] = [KioskConfig]
    models += [section_model(KioskConfig, path) for path in sections(KioskConfig)]
    bodies = {model: inspect.getsource(model) for model in models}
    corpus = "\n".join(production_sources().values())
    for body in bodies.values():
        corpus = corpus.replace(body, "")
    unread = [
        setting.key
        for setting in walk(KioskConfig)
        if not _read(setting, corpus, bodies[_owner(setting)])
    ]
    assert unread == []


def _owner(setting: Setting) -> type[BaseModel]:
    if len(setting.path) == 1:
        return KioskConfig
    return section_model(KioskConfig, setting.path[:-1])


def _read(setting: Setting, corpus: str, body: str) -> bool:
    name = setting.path[-1]
    return bool(re.search(rf"\.{name}\b", corpus) or re.search(rf"self\.{name}\b", body))


async def test_pms_id_is_kept_because_the_prefetch_reads_it(
    sim_server: SimServer, tmp_path: Path
) -> None:
    """``[backend] pms_id`` names the property in getAccomlist/getAllRoomList (the offline
    arrivals prefetch, added since issue 8 was filed); nothing else tells the kiosk which
    property it is before the first guest, so it stays."""
    seed_demo(sim_server, seed=1, timezone="UTC")  # the demo property is pms_id 1
    start, end = SIM_NOW, SIM_NOW + timedelta(days=2)
    async with PmsClient(sim_server.url, SIM_TOKEN) as client:
        for pms_id, found in ((1, True), (2, False)):
            config = BackendConfig(base_url=sim_server.url, token=SIM_TOKEN, pms_id=pms_id)
            outbox = durable_outbox(tmp_path / str(pms_id), pms=client)
            backend = open_backend(config, outbox, client=client)
            assert isinstance(backend, ArrivalsSource)
            if found:
                assert (await backend.arrivals(start, end)).rooms
            else:
                with pytest.raises(BackendError):
                    await backend.arrivals(start, end)
