"""``benchmarks/_rounds.py``, the benchmarks' shared ratio logic, on fixed numbers and stub timers (nothing timed)."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from conftest import ROOT

_spec = importlib.util.spec_from_file_location("benchmark_rounds", ROOT / "benchmarks" / "_rounds.py")
rounds = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = rounds  # before it runs: its dataclass looks itself up there
_spec.loader.exec_module(rounds)


def stub(log: list[str], name: str, seconds: list[float]):
    """A timer that logs its turn and returns its next figure."""
    figures = iter(seconds)

    def timer():
        log.append(name)
        return next(figures)
    return timer


def test_interleave_alternates_the_sides_and_reverses_every_other_round():
    log = []
    times = rounds.interleave({"a": stub(log, "a", [1.0, 2.0, 3.0]), "b": stub(log, "b", [4.0, 5.0, 6.0])}, rounds=3)
    assert log == ["a", "b", "b", "a", "a", "b"]
    assert times == {"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]}  # in round order, whatever the turn order


def test_interleave_with_three_sides():
    log = []
    timers = {name: stub(log, name, [1.0, 1.0]) for name in ("cold", "cached", "nbgrader")}
    rounds.interleave(timers, rounds=2)
    assert log == ["cold", "cached", "nbgrader", "nbgrader", "cached", "cold"]


@pytest.mark.parametrize("sides, count, message", [
    ({}, 3, "Expected at least one side to time. Received none."),
    ({"a": lambda: 1.0}, 0, "Expected at least one round. Received rounds=0."),
])
def test_interleave_rejects_nothing_to_do(sides, count, message):
    with pytest.raises(ValueError, match=message):
        rounds.interleave(sides, count)


def test_ratios_pair_rounds():
    assert rounds.ratios([2.0, 3.0, 8.0], [1.0, 2.0, 4.0]) == [2.0, 1.5, 2.0]
    with pytest.raises(ValueError, match="Received 2 and 1"):
        rounds.ratios([1.0, 2.0], [1.0])


def test_spread_on_fixed_numbers():
    summary = rounds.spread([5.0, 1.0, 4.0, 2.0, 3.0])
    assert (summary.median, summary.q1, summary.q3, summary.low, summary.high, summary.rounds) == (3, 2, 4, 1, 5, 5)
    assert summary.text() == "3.00x (IQR 2.00-4.00x, min-max 1.00-5.00x, 5 rounds)"
    assert rounds.spread([1.0, 2.0, 3.0, 4.0]).median == 2.5
    one = rounds.spread([1.5])
    assert (one.median, one.q1, one.q3, one.low, one.high) == (1.5, 1.5, 1.5, 1.5, 1.5)
    assert one.text(unit=" s", digits=1) == "1.5 s (IQR 1.5-1.5 s, min-max 1.5-1.5 s, 1 round)"
    with pytest.raises(ValueError, match="Received none"):
        rounds.spread([])


@pytest.mark.parametrize("target, at_most, expected", [
    (4.5, True, "met"),
    (3.5, True, "met, borderline (the target is inside the interquartile range)"),
    (2.5, True, "NOT met, borderline (the target is inside the interquartile range)"),
    (1.5, True, "NOT met"),
    (1.5, False, "met"),
    (4.5, False, "NOT met"),
    (3.0, False, "met, borderline (the target is inside the interquartile range)"),
])
def test_verdict_compares_the_median_and_flags_a_target_inside_the_quartiles(target, at_most, expected):
    assert rounds.verdict(rounds.spread([1.0, 2.0, 3.0, 4.0, 5.0]), target, at_most) == expected


def test_ratio_line():
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert rounds.ratio_line("conv forward", values) == (
        "conv forward: 3.00x (IQR 2.00-4.00x, min-max 1.00-5.00x, 5 rounds)")
    assert rounds.ratio_line("course", values, target=20, at_most=False) == (
        "course: 3.00x (IQR 2.00-4.00x, min-max 1.00-5.00x, 5 rounds); target >= 20x: NOT met")
    assert rounds.ratio_line("efficiency", [1.0, 0.6], unit="") == (
        "efficiency: 0.80 (IQR 0.70-0.90, min-max 0.60-1.00, 2 rounds)")
