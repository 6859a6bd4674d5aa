"""``kiosk play``: one guest script through the check-in journey, without a UI.

The kiosk as ``kiosk run`` assembles it (``kiosk.runtime``: the config's back-end and
devices, the same state directory), with a scripted guest (docs/journey-script.md) in
place of the touch screen. Start-up resolves payments a previous run left open and starts
the outbox relay, as ``kiosk run`` does, so a run killed midway is picked up by the next.

"@name" values of the script come from ``--manifest`` (the JSON ``kiosk sim --manifest``
writes). With the embedded simulator (``backend.base_url`` "") the manifest is written
from it (to ``--manifest``, or ``<state dir>/play/manifest.json``). The script's back-end
moves (``backend_down``, ``lose_replies``, ``backend_outage``, ``clock``) turn the
simulator's knobs: the embedded one directly, an external ``kiosk sim`` through its admin
paths (with the configured token).

Exit codes: 0 the script's expectations were met, 1 they were not, 2 a config or
script error (no config file, a malformed script, a move that does not fit the screen).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiosk.config import KioskConfig
    from kiosk.demo.script import GuestScript, ScriptBackend, ScriptReport
    from kiosk.runtime import Runtime

log = logging.getLogger("kiosk.play")


class _PlayError(Exception):
    """The run cannot start or go on: a config, manifest or script problem (exit 2)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "play",
        help="play one guest script through the check-in journey, without a UI",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", type=Path, required=True, help="the kiosk's TOML config")
    p.add_argument("--script", type=Path, required=True, help="a guest script (JSON)")
    p.add_argument(
        "--manifest",
        type=Path,
        help="the demo manifest (kiosk sim --manifest) for the script's @name values; "
        "with the embedded simulator: where to write it",
    )
    p.add_argument("--json", action="store_true", help="the journey's result as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kiosk.config import load_config
    from kiosk.demo.script import GuestScript, ScriptError

    if not args.config.is_file():
        print(f"no config file at {args.config}", file=sys.stderr)
        return 2
    config = load_config(args.config)
    try:
        script = GuestScript.load(args.script)
        report = asyncio.run(_play(config, script, args.manifest))
    except (ScriptError, _PlayError) as exc:
        print(f"kiosk play: {exc}", file=sys.stderr)
        return 2
    _print_report(report, args.json)
    return 0 if report.passed else 1


async def _play(config: KioskConfig, script: GuestScript, manifest: Path | None) -> ScriptReport:
    from kiosk.demo.script import run_script, values_from_manifest
    from kiosk.runtime import start_runtime

    # An external back-end's manifest is read before anything starts: a wrong path costs
    # no start-up. The embedded simulator's is written once it runs.
    values = _read_manifest(manifest, config) if config.backend.base_url else {}
    runtime = await start_runtime(config)
    try:
        if runtime.opener.missing:  # a scripted guest does not wait for a device to come
            raise _PlayError("devices missing: " + "; ".join(runtime.opener.missing.values()))
        resolved = await runtime.start_background()
        for line in resolved:
            print(f"payment left open by an earlier run resolved: {line}", file=sys.stderr)
        if runtime.sim is not None:
            values = values_from_manifest(_write_manifest(runtime, manifest))
        report = await run_script(
            runtime.journey,
            script,
            values,
            backend=_script_backend(runtime),
            lobby=runtime.lobby,
        )
        queued = runtime.outbox.depth()
        if queued:
            log.warning("%d back-end write(s) still queued in the outbox (kiosk outbox)", queued)
        return report
    finally:
        await runtime.aclose()


def _read_manifest(path: Path | None, config: KioskConfig) -> dict[str, str]:
    from kiosk.demo.script import values_from_manifest

    if path is None:
        return {}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _PlayError(f"manifest {path}: {exc}") from exc
    if not isinstance(manifest, dict):
        raise _PlayError(f"manifest {path}: not a JSON object")
    made_by = str(manifest.get("base_url", "")).rstrip("/")
    if made_by and made_by != config.backend.base_url:
        log.warning("the manifest was written by the simulator at %s, not the configured "
                    "back-end: its codes may not be found", made_by)  # fmt: skip
    try:
        return values_from_manifest(manifest)
    except (KeyError, TypeError, AttributeError) as exc:
        raise _PlayError(f"manifest {path}: not a kiosk sim manifest ({exc!r})") from exc


def _write_manifest(runtime: Runtime, path: Path | None) -> dict[str, Any]:
    """The embedded simulator's manifest, with the QR codes signed by the config's key."""
    from kiosk.sim.demo import write_manifest  # only where the simulator runs in-process

    assert runtime.demo is not None
    path = path or runtime.config.state.dir / "play" / "manifest.json"
    key = runtime.config.qr.signing_key
    signing_key = key.get_secret_value().encode() if key else None
    return write_manifest(path, runtime.sim, runtime.demo, signing_key)


def _script_backend(runtime: Runtime) -> ScriptBackend:
    """The simulator's knobs for the script's back-end moves: the embedded simulator by
    direct calls, an external one (``kiosk sim``) over its admin paths."""
    from kiosk.demo.script import SimAdminBackend, SimServerBackend

    if runtime.sim is not None:
        return SimServerBackend(runtime.sim)
    backend = runtime.config.backend
    return SimAdminBackend(
        backend.base_url, backend.token.get_secret_value(), timeout=backend.timeout_s
    )


def _print_report(report: ScriptReport, as_json: bool) -> None:
    result = report.result
    if as_json:
        body = {**asdict(result), "passed": report.passed, "failures": list(report.failures)}
        print(json.dumps(body, indent=2, ensure_ascii=False))
        return
    verdict = "as expected" if report.passed else "NOT as expected"
    print(
        f"{result.outcome}: payments {len(result.payments)}, cards {len(result.cards)}, "
        f"receipt {result.receipt} ({verdict})"
    )
    for failure in report.failures:
        print(f"  {failure}")
