"""Interleaved rounds: how every benchmark here turns timings into a ratio, its spread and a verdict.

A ratio of two timings taken minutes apart measures the machine's load as much as the code (issue 29:
best-of-N per side flipped a verdict between two runs a minute apart). So each round times every side
once, in turn, and gives one ratio; a burst of load then hits both sides of a round. The order is
reversed every other round (A B, B A, A B, ...), so that neither side always runs right after the
other. The figure is the median of the rounds' ratios, printed with its interquartile range and its
min-max; the verdict compares the median with the target, and says "borderline" when the target lies
inside the interquartile range (a verdict that a rerun may not repeat).

    times = interleave({"solution": time_solution, "keras": time_keras}, rounds=30)
    print(ratio_line("conv forward", ratios(times["solution"], times["keras"]), target=1.5))
    # conv forward: 1.21x (IQR 1.12-1.30x, min-max 0.98-1.77x, 30 rounds); target <= 1.5x: met
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass


def interleave(sides: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Call every side's timer once per round, in turn, the order reversed every other round.

    Args:
        sides: name -> a function that times the side once and returns its seconds.
        rounds: how many rounds (at least 1).

    Returns:
        name -> the side's seconds, one per round, in round order.

    Raises:
        ValueError: no side, or fewer than one round.
    """
    if not sides:
        raise ValueError("Expected at least one side to time. Received none.")
    if rounds < 1:
        raise ValueError(f"Expected at least one round. Received rounds={rounds}.")
    names = list(sides)
    times: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        for name in names if index % 2 == 0 else reversed(names):
            times[name].append(float(sides[name]()))
    return times


def ratios(numerator: Sequence[float], denominator: Sequence[float]) -> list[float]:
    """Round by round, ``numerator[i] / denominator[i]`` (both from the same rounds)."""
    if len(numerator) != len(denominator):
        raise ValueError(f"Expected as many rounds on both sides. Received {len(numerator)} and {len(denominator)}.")
    return [a / b for a, b in zip(numerator, denominator)]


@dataclass(frozen=True)
class Spread:
    """The median of some rounds' values, their quartiles (statistics.quantiles, inclusive) and extremes."""

    median: float
    q1: float
    q3: float
    low: float
    high: float
    rounds: int

    def text(self, unit: str = "x", digits: int = 2) -> str:
        """``1.21x (IQR 1.12-1.30x, min-max 0.98-1.77x, 30 rounds)``."""
        f = f"{{:.{digits}f}}".format
        return (f"{f(self.median)}{unit} (IQR {f(self.q1)}-{f(self.q3)}{unit}, min-max {f(self.low)}-{f(self.high)}"
                f"{unit}, {self.rounds} round{'s' if self.rounds != 1 else ''})")

    def as_dict(self) -> dict:
        return {"median": self.median, "q1": self.q1, "q3": self.q3, "min": self.low, "max": self.high,
                "rounds": self.rounds}


def spread(values: Sequence[float]) -> Spread:
    """The median, quartiles, min and max of ``values`` (one per round)."""
    if not values:
        raise ValueError("Expected at least one round's value. Received none.")
    values = sorted(float(value) for value in values)
    if len(values) == 1:
        q1 = q3 = values[0]
    else:
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return Spread(statistics.median(values), q1, q3, values[0], values[-1], len(values))


def verdict(summary: Spread, target: float, at_most: bool = True) -> str:
    """``met`` or ``NOT met``: the median against ``target`` (``<=`` with ``at_most``, else ``>=``);
    ``, borderline (...)`` is added when the target lies inside the interquartile range."""
    met = summary.median <= target if at_most else summary.median >= target
    text = "met" if met else "NOT met"
    if summary.q1 <= target <= summary.q3:
        text += ", borderline (the target is inside the interquartile range)"
    return text


def ratio_line(label: str, values: Sequence[float], target: float | None = None, at_most: bool = True,
               unit: str = "x") -> str:
    """One line: the label, the median ratio with its spread, and the verdict when there is a target."""
    summary = spread(values)
    line = f"{label}: {summary.text(unit)}"
    if target is not None:
        line += f"; target {'<=' if at_most else '>='} {target:g}{unit}: {verdict(summary, target, at_most)}"
    return line
