"""What reading a request body strictly costs: api/strict_json.py against plain json.loads.

A 10,000-customer create body (1.5 MB) is parsed RUNS times by each, interleaved, and the
medians are printed with their ratio (json.loads is the floor: FastAPI's own parse).

    python bench/strict_json.py [--runs 21] [--customers 10000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from campaign_service.api.strict_json import parse_request_json


def body(customers: int) -> bytes:
    return json.dumps(
        {
            "name": "bench",
            "assistantId": "asst_bench",
            "phoneNumberId": "pn_bench",
            "assistantOverrides": {"variableValues": {"campaign": "spring"}},
            "customers": [
                {
                    "number": f"+1415{i:07d}",
                    "name": f"Customer {i}",
                    "externalId": f"crm-{i}",
                    "assistantOverrides": {"variableValues": {"plan": "gold", "rank": i}},
                }
                for i in range(customers)
            ],
        }
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--customers", type=int, default=10_000)
    args = parser.parse_args()
    data = body(args.customers)
    floor: list[float] = []
    strict: list[float] = []
    for _ in range(args.runs):
        started = time.perf_counter()
        json.loads(data)
        floor.append(time.perf_counter() - started)
        started = time.perf_counter()
        parse_request_json(data)
        strict.append(time.perf_counter() - started)
    low, high = statistics.median(floor), statistics.median(strict)
    print(f"body: {len(data) / 1e6:.2f} MB, {args.customers} customers, {args.runs} runs each")
    print(f"json.loads (floor):  {low * 1e3:.1f} ms")
    print(f"strict parse:        {high * 1e3:.1f} ms  ({high / low:.2f} x the floor)")


if __name__ == "__main__":
    main()
