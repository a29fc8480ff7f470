"""A database the CLI cannot use is one line on stderr that says what failed and what to change,
for every command: no traceback, never the password."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from tests.ops.conftest import free_port
from tests.test_cli import base_env, run_all

PASSWORD = "s3cret-pw"
EVERY_COMMAND = [
    ("serve", "--port", "0"),
    ("worker",),
    ("migrate",),
    ("org", "create", "--name", "Acme"),
    ("org", "list"),
    ("key", "create", "--org", "6f1b0c3e-2d4a-4c55-9a8e-0d7f2b9c1a10"),
    ("key", "revoke", "6f1b0c3e-2d4a-4c55-9a8e-0d7f2b9c1a10"),
    ("key", "list", "6f1b0c3e-2d4a-4c55-9a8e-0d7f2b9c1a10"),
]
SOME_COMMANDS = [("migrate",), ("org", "list")]


def assert_one_line_error(result, *needles: str) -> None:
    assert result.returncode == 1, (result.args, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, (result.args, result.stderr)
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0], (result.args, lines[0])
    assert PASSWORD not in result.stderr


def check(url: str, commands: list[tuple[str, ...]], *needles: str, **env: str) -> None:
    environment = {**base_env(), "DATABASE_URL": url, **env}
    for result in run_all(*((args, environment) for args in commands)):
        assert_one_line_error(result, *needles)


def test_nothing_listening_on_that_port():
    url = f"postgresql://app:{PASSWORD}@127.0.0.1:{free_port()}/campaigns"
    check(url, EVERY_COMMAND, "127.0.0.1", "connection refused", "DATABASE_URL")


def test_a_role_the_server_does_not_know(database_url):
    url = make_url(database_url).set(username="no_such_role_cs", password=PASSWORD)
    check(
        url.render_as_string(hide_password=False),
        EVERY_COMMAND,
        "refused the login",
        'role "no_such_role_cs" does not exist',
    )


def test_a_database_that_does_not_exist(database_url):
    url = make_url(database_url).set(database="cs_no_such_database")
    check(
        url.render_as_string(hide_password=False),
        SOME_COMMANDS,
        "the database 'cs_no_such_database' does not exist",
        "createdb cs_no_such_database",
    )


def test_an_unknown_host():
    url = f"postgresql://app:{PASSWORD}@db.invalid:5432/campaigns"
    check(url, SOME_COMMANDS, "cannot find the database host 'db.invalid'")


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        (f"mysql://app:{PASSWORD}@db:3306/campaigns", "unsupported scheme 'mysql'"),
        (f"sqlite:///{PASSWORD}.db", "unsupported scheme 'sqlite'"),
        ("localhost:5432", "is not a database URL"),
    ],
)
def test_a_url_that_is_not_postgresql(url, needle):
    check(url, SOME_COMMANDS, needle, "postgresql://")


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never says a word (a firewall that swallows packets, a hung
    server): the command must give up after CAMPAIGN_SERVICE_DB_CONNECT_TIMEOUT."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def test_a_server_that_never_answers(silent_server):
    url = f"postgresql://app:{PASSWORD}@127.0.0.1:{silent_server}/campaigns"
    check(url, SOME_COMMANDS, "no answer from the database", "within 1 s", **_timeout(1))


def _timeout(seconds: int) -> dict[str, str]:
    return {"CAMPAIGN_SERVICE_DB_CONNECT_TIMEOUT": str(seconds)}


SSL_REQUEST = struct.pack("!ii", 8, 80877103)


def _password_rejecting_server(listener: socket.socket) -> None:
    """Speaks just enough of PostgreSQL's protocol to refuse a password as the server does:
    ask for it in clear text, then answer FATAL 28P01 (invalid_password)."""
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            if conn.recv(8192) == SSL_REQUEST:
                conn.sendall(b"N")  # no TLS here; the client goes on in plain text
                conn.recv(8192)  # the startup message
            conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
            conn.recv(8192)  # the password
            fields = b'SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "app"\0\0'
            conn.sendall(b"E" + struct.pack("!i", len(fields) + 4) + fields)


def test_a_wrong_password():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        threading.Thread(target=_password_rejecting_server, args=(listener,), daemon=True).start()
        port = listener.getsockname()[1]
        url = f"postgresql://app:{PASSWORD}@127.0.0.1:{port}/campaigns"
        check(url, SOME_COMMANDS, "refused the password for user 'app'")
