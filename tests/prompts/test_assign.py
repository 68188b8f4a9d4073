"""Sticky weighted assignment: stability, weight accuracy, ramping without reshuffling."""

from __future__ import annotations

import subprocess
import sys

import pytest
from scipy.stats import chisquare

from llmlab import InputError
from llmlab.prompts import Allocation, unit_point

UNITS = [f"user-{i}" for i in range(100_000)]


def arms_of(allocation: Allocation, salt: str, units: list[str]) -> list[str]:
    return [allocation.arm_of(unit_point(salt, u)) for u in units]


def test_weights_are_accurate_chi_square_100k() -> None:
    weights = {"control": 0.7, "b": 0.2, "c": 0.1}
    got = arms_of(Allocation.initial(weights), "exp-salt", UNITS)
    observed = [got.count(a) for a in weights]
    expected = [w * len(UNITS) for w in weights.values()]
    assert chisquare(observed, expected).pvalue > 0.001


def test_assignment_is_stable_across_processes() -> None:
    code = (
        "from llmlab.prompts import Allocation, unit_point;"
        "a = Allocation.initial({'x': 1, 'y': 1, 'z': 2});"
        "print(','.join(a.arm_of(unit_point('s', f'u{i}')) for i in range(200)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    here = arms_of(Allocation.initial({"x": 1, "y": 1, "z": 2}), "s", [f"u{i}" for i in range(200)])
    assert out.split(",") == here


def test_salt_decorrelates_experiments() -> None:
    alloc = Allocation.initial({"a": 1, "b": 1})
    one = arms_of(alloc, "salt-1", UNITS[:20_000])
    two = arms_of(alloc, "salt-2", UNITS[:20_000])
    same = sum(x == y for x, y in zip(one, two, strict=True)) / len(one)
    assert 0.47 < same < 0.53


def test_ramp_up_keeps_every_treatment_unit() -> None:
    start = Allocation.initial({"control": 0.95, "treatment": 0.05})
    before = arms_of(start, "s", UNITS)
    ramped = start.ramp({"control": 0.5, "treatment": 0.5})
    after = arms_of(ramped, "s", UNITS)
    moved_out = sum(1 for b, a in zip(before, after, strict=True) if b == "treatment" != a)
    assert moved_out == 0
    # only control units moved, and about as many as the ramp requires (45%)
    moved = sum(b != a for b, a in zip(before, after, strict=True)) / len(UNITS)
    assert 0.44 < moved < 0.46
    observed = [after.count("control"), after.count("treatment")]
    assert chisquare(observed, [50_000, 50_000]).pvalue > 0.001


def test_ramp_down_keeps_the_smallest_arm_and_control() -> None:
    start = Allocation.initial({"control": 0.5, "treatment": 0.5})
    down = start.ramp({"control": 0.8, "treatment": 0.2})
    before, after = arms_of(start, "s", UNITS), arms_of(down, "s", UNITS)
    assert all(a == "control" for b, a in zip(before, after, strict=True) if b == "control")
    kept = sum(1 for b, a in zip(before, after, strict=True) if b == a == "treatment")
    assert kept == after.count("treatment")


def test_three_arms_ramp_moves_only_from_shrinking_arms() -> None:
    start = Allocation.initial({"a": 0.4, "b": 0.3, "c": 0.3})
    new = start.ramp({"a": 0.2, "b": 0.5, "c": 0.3})
    before, after = arms_of(start, "k", UNITS), arms_of(new, "k", UNITS)
    for arm in ("b", "c"):  # growing or unchanged: nobody leaves
        assert all(a == arm for b, a in zip(before, after, strict=True) if b == arm)
    assert new.fractions() == pytest.approx({"a": 0.2, "b": 0.5, "c": 0.3})
    # ramp back and forth: allocation stays a valid cover of the space
    back = new.ramp({"a": 0.4, "b": 0.3, "c": 0.3})
    assert Allocation.from_segments(back.segments) == back


def test_zero_weight_empties_an_arm() -> None:
    alloc = Allocation.initial({"a": 1, "b": 1}).ramp({"a": 1, "b": 0})
    assert set(arms_of(alloc, "s", UNITS[:1000])) == {"a"}


def test_bad_weights() -> None:
    with pytest.raises(InputError, match="sum to 0"):
        Allocation.initial({"a": 0})
    with pytest.raises(InputError, match=">= 0"):
        Allocation.initial({"a": -1, "b": 2})
    with pytest.raises(InputError, match="no weight"):
        Allocation.initial({"a": 1, "b": 1}).ramp({"a": 1})
