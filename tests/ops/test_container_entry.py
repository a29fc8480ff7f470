"""The image's entry point, without Docker: build the wheel as the Dockerfile does, install it
(non-editable) into a fresh virtualenv, and start the compose file's api and worker commands with
the compose file's environment against a fresh database.

Slow (a wheel build and a virtualenv install from the package index, about a minute with a warm
pip cache). It runs by default; `-m "not slow"` leaves it out locally.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.ops.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile's last stage, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    instructions = [tuple(line.split(None, 1)) for line in lines if line and line[0] != "#"]
    last_from = max(i for i, (word, *_) in enumerate(instructions) if word.upper() == "FROM")
    return [(i[0].upper(), i[1] if len(i) > 1 else "") for i in instructions[last_from:]]


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, args in dockerfile_instructions():
        if word == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(args))  # type: ignore[misc]
    return env


def dockerfile_exec_form(word: str) -> list[str]:
    (args,) = [a for w, a in dockerfile_instructions() if w == word]
    if word == "HEALTHCHECK":
        args = args[args.index("CMD ") + len("CMD ") :]
    command: list[str] = json.loads(args)
    return command


def compose_service(name: str) -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    service: dict[str, Any] = compose["services"][name]
    return service


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a fresh virtualenv with the project's wheel installed from the index."""
    root = tmp_path_factory.mktemp("container")
    wheels = root / "wheels"

    def run(*args: str | Path) -> None:
        subprocess.run([str(a) for a in args], check=True, timeout=240, capture_output=True)

    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", wheels, ROOT)
    (wheel,) = wheels.glob("campaign_service-*.whl")
    run(sys.executable, "-m", "venv", root / "venv")
    bin_dir = root / "venv" / "bin"
    run(bin_dir / "pip", "install", "--disable-pip-version-check", wheel)
    return bin_dir


@pytest.fixture
def service_env(
    installed: Path, empty_database: Callable[[], str], tmp_path: Path
) -> dict[str, dict[str, str]]:
    """What the api and worker containers see (image ENV, then the compose file's environment),
    with the database, the ports and the data directory pointed here."""
    database_url = empty_database()
    envs = {}
    for name in ("api", "worker"):
        env = {
            "PATH": f"{installed}{os.pathsep}/usr/bin:/bin",
            "HOME": str(tmp_path),
            "LANG": "C.UTF-8",
            **dockerfile_env(),
            **{k: str(v) for k, v in compose_service(name)["environment"].items()},
        }
        env["DATABASE_URL"] = database_url
        env["CAMPAIGN_SERVICE_HOME"] = str(tmp_path / "home")
        envs[name] = env
    envs["api"]["CAMPAIGN_SERVICE_PORT"] = str(free_port())
    envs["worker"]["CAMPAIGN_SERVICE_WORKER_METRICS_PORT"] = str(free_port())
    return envs


@pytest.fixture
def start(
    tmp_path: Path,
) -> Iterator[Callable[[str, list[str], dict[str, str]], subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []

    def launch(name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{name}.log").open("wb")
        process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=log, stderr=log)
        processes.append(process)
        return process

    yield launch
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"no answer from {url} within {START_TIMEOUT}s:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as `docker stop` sends; the process must finish in time and not crash."""
    process.send_signal(signal.SIGTERM)
    # uvicorn re-raises the signal after its graceful shutdown, so -SIGTERM is a clean stop.
    assert process.wait(timeout=STOP_TIMEOUT) in (0, -signal.SIGTERM)


def test_image_contract() -> None:
    assert dockerfile_exec_form("CMD") == ["campaign-service", "serve"]
    assert dockerfile_env()["CAMPAIGN_SERVICE_HOST"] == "0.0.0.0"
    assert dockerfile_exec_form("HEALTHCHECK") == [
        "python",
        "-m",
        "campaign_service.observability.probe",
    ]
    users = [args for word, args in dockerfile_instructions() if word == "USER"]
    assert users
    assert users[-1].split(":")[0] not in ("0", "root")
    api, worker = compose_service("api"), compose_service("worker")
    assert api["command"][:2] == dockerfile_exec_form("CMD")
    assert worker["command"] == ["campaign-service", "worker"]
    assert worker["environment"]["DATABASE_URL"] == api["environment"]["DATABASE_URL"]
    assert api["depends_on"]["db"]["condition"] == "service_healthy"
    # The API's /metrics shows every organization's totals: compose protects it with a token.
    assert api["environment"]["CAMPAIGN_SERVICE_METRICS_TOKEN"]


def assert_console_ships_in_the_wheel(base_url: str) -> None:
    """The console's page and every file it loads come from the installed wheel."""
    page = httpx.get(f"{base_url}/console")
    assert page.status_code == 200
    assert "Content-Security-Policy" in page.headers
    source = ROOT / "src" / "campaign_service" / "console" / "static"
    files = [p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()]
    assert len(files) >= 10
    for name in files:
        served = httpx.get(f"{base_url}/console/static/{name}")
        assert served.status_code == 200, name
        assert served.content == (source / name).read_bytes(), name


@pytest.mark.slow
def test_compose_api_and_worker_start_from_the_installed_wheel(
    installed: Path,
    service_env: dict[str, dict[str, str]],
    start: Callable[[str, list[str], dict[str, str]], subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    container_env = service_env["api"]
    base_url = f"http://127.0.0.1:{container_env['CAMPAIGN_SERVICE_PORT']}"
    worker_env = service_env["worker"]
    worker_metrics = f"http://127.0.0.1:{worker_env['CAMPAIGN_SERVICE_WORKER_METRICS_PORT']}"
    # Both migrate the empty database at once: the advisory lock lets one do it.
    api = start("api", compose_service("api")["command"], container_env)
    worker = start("worker", compose_service("worker")["command"], worker_env)
    wait_until_up(f"{base_url}/health", api, tmp_path / "api.log")
    wait_until_up(f"{worker_metrics}/metrics", worker, tmp_path / "worker.log")

    assert httpx.get(f"{base_url}/health").json() == {"status": "ok"}
    ready = httpx.get(f"{base_url}/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ok", "database": "ok"}
    healthcheck = dockerfile_exec_form("HEALTHCHECK")
    assert subprocess.run(healthcheck, env=container_env, timeout=30).returncode == 0

    # The README's quickstart: docker compose run --rm api campaign-service org create ...
    created = subprocess.run(
        ["campaign-service", "org", "create", "--name", "Acme"],
        env=container_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    key = json.loads(created.stdout)["apiKey"]
    headers = {"Authorization": f"Bearer {key}", "X-Request-ID": "container-test-1"}
    body = {
        "name": "Smoke",
        "assistantId": "asst_1",
        "phoneNumberId": "pn_1",
        "schedulePlan": {"earliestAt": "2099-01-01T00:00:00Z"},
        "customers": [{"number": "+14155550101"}],
    }
    response = httpx.post(f"{base_url}/campaigns", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["x-request-id"] == "container-test-1"
    assert httpx.get(f"{base_url}/docs").status_code == 200
    assert_console_ships_in_the_wheel(base_url)
    # Compose sets an operator token for /metrics (as an interpolated default).
    token = container_env["CAMPAIGN_SERVICE_METRICS_TOKEN"]
    assert httpx.get(f"{base_url}/metrics").status_code == 401
    scrape = httpx.get(f"{base_url}/metrics", headers={"Authorization": f"Bearer {token}"})
    assert "campaign_service_http_requests_total" in scrape.text

    assert worker.poll() is None, (tmp_path / "worker.log").read_text()
    assert "campaign_dispatcher_ticks_total" in httpx.get(f"{worker_metrics}/metrics").text
    worker_check = compose_service("worker")["healthcheck"]["test"]
    assert worker_check[0] == "CMD"
    assert subprocess.run(worker_check[1:], env=worker_env, timeout=30).returncode == 0

    stop(api)
    stop(worker)
    assert subprocess.run(healthcheck, env=container_env, timeout=30).returncode == 1
    assert subprocess.run(worker_check[1:], env=worker_env, timeout=30).returncode == 1

    lines = [json.loads(line) for line in (tmp_path / "api.log").read_text().splitlines()]
    assert "Application shutdown complete." in [e["message"] for e in lines]
    requests = [e for e in lines if e.get("request_id") == "container-test-1"]
    assert [(e["method"], e["route"], e["status"]) for e in requests] == [
        ("POST", "/campaigns", 201)
    ]
