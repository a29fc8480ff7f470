"""Crash chaos, the long version: worker processes SIGKILLed every second or two while
campaigns run, a user ending one campaign in the middle, and the same run without kills for
comparison. Prints calls, kills, lease recovery time (kill -> the dead worker's leases taken
over) p50/max, run times, and every violation of the rules (see tests/dispatcher/chaos.py).

    python bench/chaos.py [--calls 3000] [--workers 3] [--rounds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scratch import scratch_database

from tests.dispatcher.chaos import Chaos, Plan


def plan(calls: int, workers: int, kills: bool, seed: int) -> Plan:
    share = calls // 10
    return Plan(
        orgs=(
            # Two campaigns share an org limit of 12; the second has a retry plan and calling
            # hours that close mid-run (as in tests/dispatcher/test_chaos.py).
            (12, ((share * 4, 8), (share * 3, 6, "control"))),
            (6, ((share * 3, 6, "control"),)),  # retries, and hours that stay open
        ),
        workers=workers,
        kills=kills,
        seed=seed,
        timeout=1800,
    )


def run(calls: int, workers: int, kills: bool, seed: int) -> str:
    with scratch_database("cs_bench_chaos") as url, tempfile.TemporaryDirectory() as home:
        result = asyncio.run(Chaos(url, Path(home), plan(calls, workers, kills, seed)).run())
    for violation in result.violations:
        print(f"    VIOLATION: {violation}")
    return result.summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    for round_ in range(args.rounds):
        # Interleaved: the run without kills is the floor of the one with kills.
        print(f"round {round_ + 1}")
        print("  without kills:", run(args.calls, args.workers, False, 7 + round_))
        print("  with kills:   ", run(args.calls, args.workers, True, 7 + round_))


if __name__ == "__main__":
    main()
