"""The suite's embedded PostgreSQL keeps its data in a folder of its own, never under pytest's
shared temporary root (pytest-of-USER), which another pytest run on the machine may reset."""

from __future__ import annotations

import shutil
import stat

import pytest

from tests.conftest import embedded_test_home


def test_the_embedded_test_server_lives_outside_pytests_shared_root(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    shared_root = tmp_path_factory.getbasetemp().resolve().parent
    homes = [embedded_test_home(), embedded_test_home()]
    try:
        for home in homes:
            assert not home.resolve().is_relative_to(shared_root), home
            assert not shared_root.is_relative_to(home.resolve())
            assert stat.S_IMODE(home.stat().st_mode) == 0o711
            assert list(home.iterdir()) == []
        assert homes[0] != homes[1]  # each run its own
    finally:
        for home in homes:
            shutil.rmtree(home)
