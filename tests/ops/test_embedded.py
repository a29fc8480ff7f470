"""The embedded PostgreSQL changes the mode of no folder outside its data directory, which is
private (0700). Run as root (as here in CI), the server library would otherwise open every
parent folder to all users."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

START = (
    "import sys; from pathlib import Path;"
    "from campaign_service.embedded import start_embedded;"
    "print(start_embedded(Path(sys.argv[1])))"
)


def modes(path: Path) -> dict[Path, int]:
    """The mode of `path` and of every folder above it."""
    return {folder: stat.S_IMODE(folder.stat().st_mode) for folder in [path, *path.parents]}


def start_in_subprocess(home: Path) -> subprocess.CompletedProcess[str]:
    # A process of its own: the server stops when its last user process exits.
    return subprocess.run(
        [sys.executable, "-c", START, str(home)],
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.slow
def test_no_parent_folder_changes_mode_and_the_data_stays_private(passable_tmp: Path) -> None:
    tmp_path = passable_tmp
    home = tmp_path / "outer" / "inner" / "home"
    home.mkdir(parents=True)
    # Modes a user might choose: others may pass but not list. Widening them is the defect.
    for folder, mode in ((tmp_path / "outer", 0o711), (home.parent, 0o710), (home, 0o711)):
        folder.chmod(mode)
    before = modes(home)

    started = start_in_subprocess(home)

    assert started.returncode == 0, started.stderr
    assert started.stdout.strip().startswith("postgresql://")
    assert modes(home) == before
    assert stat.S_IMODE((home / "pgdata").stat().st_mode) == 0o700


@pytest.mark.skipif(os.geteuid() != 0, reason="the server user question arises only as root")
def test_a_parent_the_server_user_cannot_pass_is_named_not_opened(tmp_path: Path) -> None:
    home = tmp_path / "private" / "home"
    home.mkdir(parents=True)
    (tmp_path / "private").chmod(0o700)
    before = modes(home)

    started = start_in_subprocess(home)

    assert started.returncode != 0
    assert f"cannot pass through {tmp_path / 'private'} (mode 0700)" in started.stderr
    assert "CAMPAIGN_SERVICE_HOME" in started.stderr
    assert modes(home) == before


@pytest.mark.skipif(os.geteuid() != 0, reason="the server user question arises only as root")
def test_binaries_the_server_user_cannot_reach_are_copied_once_not_opened(
    passable_tmp: Path,
) -> None:
    """A virtualenv inside root's private home: the server's binaries are run from a copy
    under the data directory, and the private folder stays private."""
    from campaign_service.embedded import reachable_binaries

    tmp_path = passable_tmp
    private = tmp_path / "root-home"
    install = private / "venv" / "pginstall18"
    (install / "bin").mkdir(parents=True)
    (install / "bin" / "postgres").write_text("#!/bin/sh\n")
    (install / "lib").mkdir()
    private.chmod(0o700)
    home = tmp_path / "home"
    home.mkdir()
    before = modes(install)

    usable = reachable_binaries(install, home, "nobody")

    assert usable == home / "postgres" / "pginstall18"
    assert (usable / "bin" / "postgres").read_text() == "#!/bin/sh\n"
    assert modes(install) == before
    (usable / "bin" / "postgres").write_text("kept")
    assert reachable_binaries(install, home, "nobody") == usable  # copied once
    assert (usable / "bin" / "postgres").read_text() == "kept"
    # Where the server user can reach the original, it is used as it is.
    reachable = tmp_path / "opt" / "pginstall18"
    (reachable / "bin").mkdir(parents=True)
    assert reachable_binaries(reachable, home, "nobody") == reachable


def test_root_keeps_its_data_in_the_service_state_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Root's home is private: as root the default data directory is /var/lib's."""
    from campaign_service import settings as settings_module

    monkeypatch.delenv("CAMPAIGN_SERVICE_HOME", raising=False)
    monkeypatch.setattr(settings_module.os, "geteuid", lambda: 0)
    assert settings_module.Settings().home == Path("/var/lib/campaign-service")
    monkeypatch.setattr(settings_module.os, "geteuid", lambda: 1000)
    assert settings_module.Settings().home != Path("/var/lib/campaign-service")
