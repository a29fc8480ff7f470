"""The layering rules hold, and the tools that check them would notice a break.

- import-linter contracts (pyproject.toml): domain packages import no web framework, the
  observability package does not import the API, the API does not import the engine, the
  provider interface imports no SQL.
- Raw SQL (`text(`) is written only in repositories, the read model and `db/`.
- Status names are spelled out only in the modules that define the statuses.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "campaign_service"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# Where SQL text may be written: a module named *repository, the read model, db/.
SQL_HOMES = ("readmodel", "db")
# Where status names may be spelled out as data: their definitions, and API documentation
# (request literals, response examples) that shows them to users.
STATUS_HOMES = {
    "calls/status.py",
    "campaigns/state.py",
    "campaigns/schemas.py",
    "api/examples.py",
    "api/response_examples.py",
}
CALL_ONLY_STATUSES = {"queued", "ringing", "forwarding"}
ALL_STATUSES = CALL_ONLY_STATUSES | {"scheduled", "in-progress", "ended"}


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def lint_imports(package_parent: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_contracts_hold() -> None:
    result = lint_imports(ROOT / "src", ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "forbidden_import", "contract"),
    [
        ("calls/repository.py", "import fastapi", "know nothing of the web framework"),
        ("api/app.py", "import campaign_service.dispatcher.worker", "does not run the engine"),
        ("observability/http.py", "import campaign_service.api.deps", "does not depend on"),
        ("telephony/base.py", "import sqlalchemy", "imports no SQL"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(
    tmp_path: Path, module: str, forbidden_import: str, contract: str
) -> None:
    copy = tmp_path / "src" / "campaign_service"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / module
    target.write_text(target.read_text() + f"\n{forbidden_import}  # the break under test\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    result = lint_imports(tmp_path / "src", tmp_path)
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert len(broken) == 1, result.stdout
    assert contract in broken[0], result.stdout


def _sql_text_calls(tree: ast.AST) -> list[int]:
    names = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "sqlalchemy"
        for alias in node.names
        if alias.name == "text"
    }
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id in names)
            or (
                isinstance(node.func, ast.Attribute)
                and node.func.attr == "text"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in {"sa", "sqlalchemy"}
            )
        )
    ]


def test_sql_text_only_in_repositories_the_read_model_and_db() -> None:
    misplaced = [
        f"{relative(path)}:{line}"
        for path in modules()
        if not path.stem.endswith("repository") and relative(path).split("/")[0] not in SQL_HOMES
        for line in _sql_text_calls(ast.parse(path.read_text()))
    ]
    assert misplaced == []


def test_the_sql_rule_would_catch_a_query_in_a_service() -> None:
    service = (
        "from sqlalchemy import text\nasync def f(s):\n    await s.execute(text('SELECT 1'))\n"
    )
    assert _sql_text_calls(ast.parse(service)) == [3]


def _status_literals(tree: ast.AST, names: set[str]) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and (node.value in names or any(f"'{n}'" in node.value for n in names))
    ]


def test_status_names_are_spelled_out_only_where_they_are_defined() -> None:
    misplaced = [
        f"{relative(path)}:{line}"
        for path in modules()
        if relative(path) not in STATUS_HOMES
        for line in _status_literals(ast.parse(path.read_text()), ALL_STATUSES)
    ]
    assert misplaced == []


def test_the_status_rule_would_catch_sql_that_names_a_status() -> None:
    sql = "x = \"SELECT 1 FROM calls WHERE status IN ('queued', 'ringing')\"\n"
    assert _status_literals(ast.parse(sql), ALL_STATUSES) == [1]
