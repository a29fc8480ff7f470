"""The simulated network's plans: repeatable with a seed, shaped like real calls."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from campaign_service.calls.status import CallStatus
from campaign_service.settings import Settings
from campaign_service.telephony.simulated import (
    DEFAULT_OUTCOMES,
    PRESETS,
    SimulationConfig,
    plan_call,
)

START = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def config(**overrides: object) -> SimulationConfig:
    values: dict[str, object] = {
        "ring_seconds": (2.0, 6.0),
        "talk_seconds": (8.0, 40.0),
        "seed": 42,
    }
    values.update(overrides)
    return SimulationConfig(**values)  # type: ignore[arg-type]


def test_same_seed_and_key_give_the_same_call() -> None:
    assert plan_call(config(), "call-1", START) == plan_call(config(), "call-1", START)


def test_other_seeds_give_other_runs() -> None:
    keys = [f"call-{i}" for i in range(50)]
    run_a = [plan_call(config(seed=1), k, START) for k in keys]
    run_b = [plan_call(config(seed=2), k, START) for k in keys]
    assert run_a != run_b


def test_every_plan_moves_forward_in_time_and_status_and_ends() -> None:
    order = list(CallStatus)
    for i in range(300):
        outcome, steps = plan_call(config(), f"call-{i}", START)
        statuses = [s for s, _, _ in steps]
        times = [t for _, _, t in steps]
        assert statuses[-1] is CallStatus.ENDED
        assert steps[-1][1] == outcome
        assert [order.index(s) for s in statuses] == sorted(order.index(s) for s in statuses)
        assert times == sorted(times)
        assert times[0] > START
        answered = CallStatus.IN_PROGRESS in statuses
        assert answered == (
            outcome
            in {"customer-ended-call", "assistant-ended-call", "silence-timed-out", "voicemail"}
        )


def test_outcome_mix_follows_the_weights() -> None:
    outcomes = Counter(plan_call(config(), f"call-{i}", START)[0] for i in range(4000))
    total = sum(DEFAULT_OUTCOMES.values())
    for reason, weight in DEFAULT_OUTCOMES.items():
        assert outcomes[reason] / 4000 == pytest.approx(weight / total, abs=0.03)


def test_demo_preset_finishes_a_call_within_seconds() -> None:
    demo = SimulationConfig.from_settings(Settings(sim_preset="demo", sim_seed=3))
    assert demo.ring_seconds == PRESETS["demo"][0]
    longest = max(
        (steps[-1][2] - START).total_seconds()
        for _, steps in (plan_call(demo, f"c{i}", START) for i in range(200))
    )
    assert longest < 5


def test_settings_override_the_preset_and_reject_unknown_reasons() -> None:
    custom = SimulationConfig.from_settings(
        Settings(sim_ring_seconds=(1.0, 1.0), sim_outcomes={"voicemail": 1.0})
    )
    assert custom.ring_seconds == (1.0, 1.0)
    assert plan_call(custom, "x", START)[0] == "voicemail"
    with pytest.raises(ValueError, match="unknown call endedReason"):
        SimulationConfig.from_settings(Settings(sim_outcomes={"hung-up-angrily": 1.0}))
