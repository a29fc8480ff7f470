"""Running the fake: in a background thread (tests) or in the foreground (the CLI command)."""

from __future__ import annotations

import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import uvicorn

from campaign_service.fakevapi.app import create_fake_app
from campaign_service.fakevapi.config import FakeVapiConfig
from campaign_service.fakevapi.fake import FakeVapi


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free port with no window for another process.
    Connections made before the server runs wait in the backlog."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def _server(app: Any) -> uvicorn.Server:
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=5
    )
    return uvicorn.Server(config)


class ServerThread:
    """Any ASGI app served by uvicorn in a daemon thread on a socket of its own."""

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        before_stop: Callable[[], None] | None = None,
    ) -> None:
        self._sock = bind(host, port)
        self.url = _url(self._sock)
        self._server = _server(app)
        self._before_stop = before_stop
        self._stopped = False
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def start(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server thread did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving; calling it again does nothing."""
        if self._stopped:
            return
        self._stopped = True
        if self._before_stop is not None:
            self._before_stop()
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class RunningFakeVapi:
    """A fake Vapi serving on `url`; `fake` is its Python API."""

    def __init__(self, fake: FakeVapi, server: ServerThread) -> None:
        self.fake = fake
        self.url = server.url
        self._server = server

    def stop(self) -> None:
        """Stop serving (clients then get connection errors, as when Vapi is unreachable)."""
        self._server.stop()


@contextmanager
def run_fake_vapi(
    config: FakeVapiConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningFakeVapi]:
    """A fake Vapi in a background thread for the duration of the block."""
    fake = FakeVapi(config)
    server = ServerThread(
        create_fake_app(fake), host=host, port=port, before_stop=fake.release_held
    )
    server.start()
    running = RunningFakeVapi(fake, server)
    try:
        yield running
    finally:
        server.stop()


def serve_fake_vapi(config: FakeVapiConfig, *, host: str, port: int) -> None:
    """Serve in the foreground until SIGINT or SIGTERM; prints the URL once listening."""
    fake = FakeVapi(config)
    sock = bind(host, port)
    server = _server(create_fake_app(fake))
    # uvicorn stops on SIGTERM, then re-raises it: make that a normal exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"fake Vapi listening on {_url(sock)}", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
