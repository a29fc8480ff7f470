"""The `worker` command: dispatches on its own and serves its engine metrics."""

from __future__ import annotations

import signal
import socket

import httpx

from tests.conftest import campaign_body
from tests.dispatcher.conftest import scalar
from tests.dispatcher.test_crash import _wait_for, _worker


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_worker_runs_a_campaign_and_serves_its_metrics(
    client, org, sessions, database_url, tmp_path
):
    port = _free_port()
    campaign = await client.post("/campaigns", json=campaign_body(n=3), headers=org.headers)
    worker = _worker(database_url, tmp_path, CAMPAIGN_SERVICE_WORKER_METRICS_PORT=str(port))
    try:

        async def ended() -> bool:
            status = await scalar(
                sessions, "SELECT status FROM campaigns WHERE id = :id", id=campaign.json()["id"]
            )
            return status == "ended"

        await _wait_for(ended, seconds=60)
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    placed = [line for line in text.splitlines() if line.startswith("campaign_calls_placed_total")]
    assert placed
    assert float(placed[0].split()[-1]) == 3.0
