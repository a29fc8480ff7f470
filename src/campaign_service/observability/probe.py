"""Container health checks (the slim image has no curl).

`python -m campaign_service.observability.probe` exits 0 if the API's /health answers 200 on
CAMPAIGN_SERVICE_PORT; `... probe worker` does the same for a worker's /metrics on
CAMPAIGN_SERVICE_WORKER_METRICS_PORT.
"""

from __future__ import annotations

import os
import sys
import urllib.request

TIMEOUT_SECONDS = 4.0
TARGETS = {
    "api": ("CAMPAIGN_SERVICE_PORT", "8000", "/health"),
    "worker": ("CAMPAIGN_SERVICE_WORKER_METRICS_PORT", "9100", "/metrics"),
}


def probe(port: int, path: str = "/health") -> bool:
    """True if http://127.0.0.1:PORT/PATH answers 200 in time."""
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}{path}", timeout=TIMEOUT_SECONDS
        ) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    target = args[0] if args else "api"
    if target not in TARGETS:
        sys.exit(f"usage: python -m campaign_service.observability.probe [{'|'.join(TARGETS)}]")
    # Read the variable directly: building Settings would also validate unrelated settings.
    variable, default, path = TARGETS[target]
    sys.exit(0 if probe(int(os.environ.get(variable, default)), path) else 1)


if __name__ == "__main__":
    main()
