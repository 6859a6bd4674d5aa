"""``kiosk doctor`` through the real entry point: simulated devices, and the back-end check
against the property simulator over loopback (wrong token, refused port, a silent
server, HTTP 503) or the embedded default."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.sim.demo import seed_demo
from kiosk.sim.server import SimServer
from tests.conftest import SIM_TOKEN

pytestmark = pytest.mark.timeout(60)

WRONG_TOKEN = "wrong-token-0123456789abcdef"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The default config keeps simulator state under ./var: keep it in tmp_path.
    monkeypatch.chdir(tmp_path)


def write_config(tmp_path: Path, backend: str = "", devices: str = "") -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(f"[backend]\n{backend}\n{devices}", encoding="utf-8")
    return path


def doctor(capsys: pytest.CaptureFixture[str], config: Path | None = None) -> tuple[int, dict]:
    argv = ["doctor", "--json"] + (["--config", str(config)] if config else [])
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def backend_of(report: dict) -> dict:
    return next(check for check in report["checks"] if check["name"] == "backend")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.05)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in accepted:
        conn.close()
    server.close()


def test_defaults_are_healthy(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = doctor(capsys)

    assert code == 0
    assert report["overall"] == "ok"
    backend = backend_of(report)
    assert (backend["level"], backend["detail"], backend["driver"]) == (
        "ok",
        "embedded simulator",
        "pms",
    )
    names = [check["name"] for check in report["checks"]]
    assert {"backend", "camera", "payment"} <= set(names)
    assert all(check["level"] == "ok" for check in report["checks"])


def test_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^backend\s+pms\s+OK\s+embedded simulator$", out, re.MULTILINE), out
    assert out.rstrip().endswith("overall: OK")


def test_unreachable_backend_is_a_fault(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = closed_port()
    config = write_config(tmp_path, f'base_url = "http://127.0.0.1:{port}"')
    code, report = doctor(capsys, config)

    assert code == 1 and report["overall"] == "fault"
    backend = backend_of(report)
    assert backend["level"] == "fault"
    assert backend["detail"].startswith(f"getAllRoomList at 127.0.0.1:{port}: unreachable")


def test_credentials_in_the_url_are_refused_without_printing_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, 'base_url = "http://ops:hunter2@127.0.0.1:1"')
    assert main(["doctor", "--config", str(config)]) == 2
    captured = capsys.readouterr()
    assert "backend.base_url" in captured.err and "credentials" in captured.err
    assert "hunter2" not in captured.out + captured.err


def test_wrong_token_is_named_and_never_printed(
    tmp_path: Path,
    sim_server: SimServer,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    config = write_config(tmp_path, f'base_url = "{sim_server.url}"\ntoken = "{WRONG_TOKEN}"')
    code = main(["doctor", "--config", str(config)])
    out, err = capsys.readouterr()

    assert code == 1
    line = next(line for line in out.splitlines() if line.startswith("backend"))
    assert "FAULT" in line and "HTTP 401, the token was refused" in line
    assert WRONG_TOKEN not in out + err + caplog.text


def test_wrong_token_on_open_ability(
    tmp_path: Path, sim_server: SimServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path,
        f'kind = "openability"\nbase_url = "{sim_server.url}"\ntoken = "{WRONG_TOKEN}"',
    )
    code, report = doctor(capsys, config)
    assert code == 1
    assert backend_of(report)["detail"].startswith("get_order_list at ")
    assert backend_of(report)["metrics"]["status"] == 401


def test_server_errors_are_faults(
    tmp_path: Path, sim_server: SimServer, capsys: pytest.CaptureFixture[str]
) -> None:
    sim_server.faults.failure_rate = 1.0
    config = write_config(tmp_path, f'base_url = "{sim_server.url}"\ntoken = "{SIM_TOKEN}"')
    code, report = doctor(capsys, config)
    assert code == 1
    assert backend_of(report)["detail"].endswith(": HTTP 503")


def test_a_silent_backend_times_out_within_the_bound(
    tmp_path: Path, silent_server: int, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path, f'base_url = "http://127.0.0.1:{silent_server}"\ntimeout_s = 0.3'
    )
    started = time.monotonic()
    code, report = doctor(capsys, config)

    assert time.monotonic() - started < 5
    assert code == 1
    assert backend_of(report)["detail"].endswith("no answer within 0.3 s")


@pytest.mark.parametrize(
    ("kind", "path", "operation"),
    [
        ("pms", "/api/v1/pmsRoom/getAllRoomList", "getAllRoomList"),
        ("openability", "get_order_list", "get_order_list"),
    ],
)
def test_reachable_backend_is_ok(
    tmp_path: Path,
    sim_server: SimServer,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    path: str,
    operation: str,
) -> None:
    from kiosk.sim import openability, pms

    assert path in {**pms.ROUTES, **openability.HOTEL_COMMANDS}
    seed_demo(sim_server, seed=1)  # pms_id 1 must exist for getAllRoomList
    config = write_config(
        tmp_path, f'kind = "{kind}"\nbase_url = "{sim_server.url}"\ntoken = "{SIM_TOKEN}"'
    )
    code, report = doctor(capsys, config)

    backend = backend_of(report)
    assert (code, backend["level"]) == (0, "ok"), backend
    assert backend["detail"].startswith(f"{operation} at 127.0.0.1:{sim_server.port} answered in")
    assert SIM_TOKEN not in json.dumps(report)


def test_a_faulty_device_fails_the_doctor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path, devices=f'[devices.camera]\nsource = "files"\npaths = ["{tmp_path / "no"}"]'
    )
    code, report = doctor(capsys, config)
    assert code == 1 and report["overall"] == "fault"
    assert backend_of(report)["level"] == "ok"
    camera = next(check for check in report["checks"] if check["name"] == "camera")
    assert camera["level"] == "fault"


def test_a_missing_or_broken_config_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kiosk.cli import main

    broken = tmp_path / "kiosk.toml"
    broken.write_text("[backend\n")
    for path, says in ((tmp_path / "none.toml", "No such file"), (broken, "not TOML")):
        assert main(["doctor", "--config", str(path)]) == 2
        err = capsys.readouterr().err
        assert "config error" in err and says in err and "Traceback" not in err
