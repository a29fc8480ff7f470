"""The README is true: its configuration table names every setting with its real default, and
its snippets run as pasted."""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from pydantic import AliasChoices

from campaign_service.cli import build_parser
from campaign_service.settings import Settings
from tests.ops.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def configuration_rows() -> dict[str, str]:
    text = README.read_text()
    section = text[text.index("## Configuration") :]
    section = section[: section.index("\n## ", 1)]
    return dict(re.findall(r"^\| `([A-Z0-9_]+)` \| ([^|]+) \|", section, flags=re.MULTILINE))


def env_name(field: str) -> str:
    alias = Settings.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"CAMPAIGN_SERVICE_{field.upper()}"


def test_every_setting_is_in_the_configuration_table() -> None:
    rows = configuration_rows()
    missing = [env_name(f) for f in Settings.model_fields if env_name(f) not in rows]
    assert missing == []
    unknown = set(rows) - {env_name(f) for f in Settings.model_fields}
    assert unknown == set()


def test_documented_defaults_match_the_code() -> None:
    rows = configuration_rows()
    for field, info in Settings.model_fields.items():
        documented = rows[env_name(field)].strip()
        if info.default_factory is not None:
            continue  # computed per machine (the data directory)
        if info.default is None:
            assert documented == "unset", field
        else:
            assert documented == f"`{info.default}`", field


# Every fenced block of the README, and how the tests hold it to "works as pasted".
RUN = "run"  # executed below, as pasted (the address and database pointed at this test's)
SYNTAX = "syntax"  # cannot run here (Docker, pip from the index, a server that never stops):
# parsed by bash, and the commands it names exist
SH_BLOCKS = {
    "Two commands": SYNTAX,  # .ci/run runs the test command itself (checked below)
    "Where the data lives": RUN,
    "With Docker Compose": SYNTAX,
    "Walk-through with curl": RUN,
    "With Vapi's Python SDK": SYNTAX,  # pip from the index; the test extra has the SDK
    "Per-org provider settings and Vapi keys": SYNTAX,  # needs an org and a key file
    "A fake Vapi for local runs": SYNTAX,  # a server that runs until stopped
    "Real calls through Vapi": RUN,  # on free ports (test_the_vapi_local_run_ends_every_call)
    "Audiences: CSV import, do-not-call, export (extensions)": SYNTAX,  # needs the user's files
    "Development": SYNTAX,
    "The user's server: pre-dial checks, campaign events, duplicating": SYNTAX,  # needs an org
}
# Python blocks: the SDK example runs after the walk-through (it needs its KEY); the others run
# on their own.
PY_BLOCKS = {
    "With Vapi's Python SDK": "after the walk-through",
    "A fake Vapi for local runs": RUN,
    "Verifying event signatures": RUN,
}


def fenced_blocks() -> list[tuple[str, str, str]]:
    """(section heading, language, code) of every fenced block, in order."""
    blocks, heading = [], ""
    for match in re.finditer(
        r"^(#{2,3}) ([^\n]+)$|^```(\w*)\n(.*?)^```$", README.read_text(), re.MULTILINE | re.DOTALL
    ):
        if match.group(1):
            heading = match.group(2).strip()
        else:
            blocks.append((heading, match.group(3), match.group(4)))
    return blocks


def sh_blocks(heading: str) -> list[str]:
    return [code for head, lang, code in fenced_blocks() if lang == "sh" and head == heading]


def test_every_block_is_accounted_for() -> None:
    blocks = fenced_blocks()
    assert all(lang in ("sh", "python", "text", "json") for _, lang, _ in blocks), blocks
    assert {head for head, lang, _ in blocks if lang == "sh"} == set(SH_BLOCKS)
    python = [head for head, lang, _ in blocks if lang == "python"]
    assert sorted(python) == sorted(PY_BLOCKS)


def python_block(heading: str) -> str:
    (code,) = [code for head, lang, code in fenced_blocks() if lang == "python" and head == heading]
    return code


def test_json_blocks_are_json() -> None:
    """JSON examples (fields of a request body) parse, wrapped in braces when they are a
    fragment of an object."""
    examples = [code.strip() for _, lang, code in fenced_blocks() if lang == "json"]
    assert examples
    for text in examples:
        json.loads(text if text.startswith(("{", "[")) else "{" + text + "}")


def test_python_blocks_that_stand_alone_run_as_pasted(tmp_path: Path) -> None:
    for heading, how in PY_BLOCKS.items():
        if how != RUN:
            continue
        script = tmp_path / "snippet.py"
        script.write_text(python_block(heading))
        done = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, (heading, done.stderr)


def command_names(parser: argparse.ArgumentParser) -> set[str]:
    """Every (sub)command the CLI really has, at any depth."""
    names: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                names |= {name} | command_names(sub)
    return names


def test_blocks_that_cannot_run_here_parse_and_name_real_commands() -> None:
    commands = command_names(build_parser())
    for heading in SH_BLOCKS:
        for code in sh_blocks(heading):
            checked = subprocess.run(["bash", "-n"], input=code, text=True, capture_output=True)
            assert checked.returncode == 0, (heading, checked.stderr)
            for used in re.findall(r"campaign-service ([a-z-]+)", code):
                assert used in commands, (heading, used)
            for path in re.findall(r"(?:^|\s)((?:bench|\.ci)/[\w./-]+)", code):
                assert (ROOT / path).exists(), (heading, path)
    install_and_test = sh_blocks("Two commands")[0].splitlines()[4]
    ci = (ROOT / ".ci" / "run").read_text().replace(" -q ", " ")  # CI installs quietly
    assert install_and_test in ci


def pasted_shell(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A folder where `.venv/bin/...` is this test run's virtualenv, and an environment."""
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    env = {k: v for k, v in os.environ.items() if k not in ("KEY", "ID")}
    env["CAMPAIGN_SERVICE_LOG_LEVEL"] = "WARNING"
    return tmp_path, env


def run_pasted(code: str, cwd: Path, env: dict[str, str]) -> str:
    """Run a block as a user pasting it into bash would, stopping at the first failure."""
    script = "set -euo pipefail\n" + code
    done = subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, text=True, capture_output=True, timeout=180
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_walk_through_and_the_sdk_example_run_as_pasted(
    live_server: LiveServer, database_url: str, tmp_path: Path
) -> None:
    cwd, env = pasted_shell(tmp_path)
    env["DATABASE_URL"] = database_url
    address = live_server.base_url.removeprefix("http://")
    (walk_through,) = sh_blocks("Walk-through with curl")
    sdk_example = python_block("With Vapi's Python SDK")
    assert "127.0.0.1:8000" in walk_through
    assert "127.0.0.1:8000" in sdk_example
    (cwd / "sdk_example.py").write_text(sdk_example.replace("127.0.0.1:8000", address))
    # The walk-through, then the SDK example in the same terminal (it needs the KEY).
    code = walk_through.replace("127.0.0.1:8000", address) + "\n.venv/bin/python sdk_example.py\n"
    output = run_pasted(code, cwd, env).splitlines()

    org = json.loads(output[0])
    assert org["apiKey"].startswith("csk_")
    created = json.loads(output[1])
    assert created["name"] == "Q2 Sales Campaign"
    assert len(created["calls"]) == 2
    got, listed, calls, ended, deleted = (json.loads(line) for line in output[2:7])
    assert got["id"] == created["id"]
    assert "results" in listed
    assert "results" in calls
    assert ended["status"] == "ended"
    assert deleted["id"] == created["id"]
    assert output[7].startswith("created ")
    assert output[7].endswith(" scheduled")
    assert output[8:] == ["From the SDK scheduled 0 calls ended"]


def test_the_reset_snippet_empties_the_embedded_database(passable_tmp: Path) -> None:
    tmp_path = passable_tmp
    cwd, env = pasted_shell(tmp_path)
    env.pop("DATABASE_URL", None)
    env.pop("XDG_RUNTIME_DIR", None)
    env["CAMPAIGN_SERVICE_HOME"] = str(tmp_path / "data")
    run_pasted(".venv/bin/campaign-service migrate", cwd, env)
    pgdata = tmp_path / "data" / "pgdata"
    assert (pgdata / "PG_VERSION").exists()

    (snippet,) = sh_blocks("Where the data lives")
    output = run_pasted(snippet, cwd, env)
    assert json.loads(output)["pgdata"] == str(pgdata)
    assert not pgdata.exists()
    assert (tmp_path / "data").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_vapi_local_run_ends_every_call(database_url: str, tmp_path: Path) -> None:
    cwd, env = pasted_shell(tmp_path)
    env["DATABASE_URL"] = database_url
    (block,) = sh_blocks("Real calls through Vapi")
    assert "127.0.0.1:8000" in block
    assert "127.0.0.1:8111" in block
    code = block.replace("8000", str(_free_port())).replace("8111", str(_free_port()))
    output = run_pasted(code, cwd, env).splitlines()
    assert output[-2] == "5"
    dials = json.loads(output[-1].replace("'", '"'))
    assert dials == {f"+1415555010{i}": 1 for i in range(1, 6)}
