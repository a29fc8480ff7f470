"""The long schemathesis run: every check, every phase (stateful included), many examples.

tests/ops/test_fuzz.py runs the same configuration (tests/ops/schemathesis/) with 20 examples
per operation; this runs more against `campaign-service serve --no-dispatcher` in a scratch
database (DATABASE_URL's server if set, else the embedded PostgreSQL), prints the cases run
and the failures found, and exits non-zero on any failure.

    python bench/fuzz.py [--max-examples 200] [--seed 20261130] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from create_campaign import _new_api_key, uvicorn_server
from scratch import scratch_database

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "tests" / "ops" / "schemathesis" / "config.toml"
HOOKS = "tests.ops.schemathesis.hooks"


def run_schemathesis(base: str, api_key: str, args: argparse.Namespace, log: Path) -> int:
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": HOOKS,
        "PYTHONPATH": str(REPO),
        "CAMPAIGN_SERVICE_FUZZ_KEY": api_key,  # the bearer scheme's key (config.toml)
    }
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{base}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        "--workers",
        str(args.workers),
        "--no-color",
    ]
    with tempfile.TemporaryDirectory() as cwd, log.open("w") as out:
        return subprocess.run(
            command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env
        ).returncode


async def run(url: str, args: argparse.Namespace, log: Path) -> tuple[int, float]:
    api_key = await _new_api_key(url)
    async with uvicorn_server(url) as base:
        started = time.monotonic()
        code = await asyncio.to_thread(run_schemathesis, base, api_key, args, log)
        return code, time.monotonic() - started


def report(args: argparse.Namespace, log: Path, seconds: float) -> None:
    text = log.read_text()
    cases = re.search(r"(\d+) generated", text)
    failures = re.search(r"(\d+) found (\d+) unique failures?", text)
    phases = re.findall(r"([✅❌⏭]) (Examples|Coverage|Fuzzing|Stateful)\n", text)
    print(f"examples per operation: {args.max_examples}, seed {args.seed}")
    print(f"test cases generated:   {cases.group(1) if cases else '?'}")
    print(f"failures:               {failures.group(2) if failures else 0}")
    print("phases:                 " + ", ".join(f"{name} {mark}" for mark, name in phases))
    print(f"run time:               {seconds:.0f} s (full output: {log})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--log", default=os.path.join(tempfile.gettempdir(), "fuzz.log"))
    arguments = parser.parse_args()
    log_path = Path(arguments.log)
    # schemathesis sends thousands of bad keys on purpose: keep the failed-key throttle (which
    # has tests of its own) out of the way of the server it starts.
    os.environ.setdefault("CAMPAIGN_SERVICE_AUTH_FAILURE_LIMIT", str(10**9))
    with scratch_database("cs_fuzz") as database:
        exit_code, elapsed = asyncio.run(run(database, arguments, log_path))
    report(arguments, log_path, elapsed)
    sys.exit(exit_code)
