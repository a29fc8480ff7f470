"""Container health check: `python -m campaign_service.observability.probe` exits 0 if /health
answers 200 on this machine (the slim image has no curl)."""

from __future__ import annotations

import os
import sys
import urllib.request

TIMEOUT_SECONDS = 4.0


def probe(port: int, path: str = "/health") -> bool:
    """True if http://127.0.0.1:PORT/PATH answers 200 in time."""
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}{path}", timeout=TIMEOUT_SECONDS
        ) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def main() -> None:
    # Read the variable directly: building Settings would also validate unrelated settings.
    port = int(os.environ.get("CAMPAIGN_SERVICE_PORT", "8000"))
    sys.exit(0 if probe(port) else 1)


if __name__ == "__main__":
    main()
