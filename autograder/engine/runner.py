"""The one path from a case to its verdict: run it, judge it, and remember what hung.

``dlcourse grade``, ``dlcourse check``, ``check()`` in a notebook and the tests all judge a case
through ``CaseRunner.verdict``; they differ only in how a request reaches the student's code (a
sandboxed worker, or the notebook's own namespace) and in which cases they run.

A case whose unit calls a unit that already timed out on this submission is not run again: it
fails at once with "depends on sigmoid_forward, which timed out", so one infinite loop costs one
time limit, not one per dependent unit.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from dataclasses import dataclass, field
from typing import Callable

from dlcourse.autograder.engine.sandboxed import drivers, wire, worker
from dlcourse.autograder.engine.case import Case, Training
from dlcourse.autograder.engine.compare import Status, Verdict, judge
from dlcourse.autograder.engine.session import Failure


@dataclass
class CaseRunner:
    """Runs the cases of one submission in order and judges each.

    Args:
        run: ``(request, timeout) -> reply or Failure``: sends one plain request to the student's code.
        expected: ``(case, inputs) -> reference outputs`` (a ``ReferenceCache.expected``).
        secret: seed material of hidden cases (None for public cases only).
        max_timeout: caps every case's time limit.
        skipped, assigned: the extractor's notes (``Notebook.skipped``, ``Notebook.assigned``) for messages.
        uses: ``{unit: names its code refers to}``: which units a unit calls (``Notebook.uses``, or read
            from the live functions in a notebook).
        seconds: ``() -> wall seconds of the last run`` where ``run`` measures it better (a sandbox
            session leaves out its start-up); default: measured here around ``run``.
        stop_after_timeout: a student's check: once a unit timed out, its further cases are not run.
    """

    run: Callable
    expected: Callable
    secret: str | None = None
    max_timeout: float | None = None
    skipped: dict = field(default_factory=dict)
    assigned: dict = field(default_factory=dict)
    uses: dict = field(default_factory=dict)
    seconds: Callable | None = None
    stop_after_timeout: bool = False
    timed_out: dict = field(default_factory=dict)  # unit -> the case it timed out on
    failed: dict = field(default_factory=dict)  # unit -> status of its first failing case
    earlier: dict = field(default_factory=dict)  # case id -> wall seconds
    yardsticks: dict = field(default_factory=dict)  # case id -> its timed reference's seconds, measured just after it
    needs: dict = field(default_factory=dict)  # case id -> the other units it runs (``depends_on``)
    last_seconds: float = 0.0

    def verdict(self, case: Case, units: tuple[str, ...] = ()) -> Verdict:
        """Run ``case`` (unless it depends on a unit that hung) and judge it.

        Args:
            case: the case.
            units: the assignment's units (to know which names the unit calls are units).
        """
        inputs = case.make_inputs(self.secret if case.hidden else None)
        request = case.request(inputs)
        needs = self.needs[case.id] = self.depends_on(case, request, units)
        verdict = self._not_run(case, needs)
        if verdict is None:
            timeout = min(case.timeout, self.max_timeout or case.timeout)
            expected = functools.cache(lambda: self.expected(case, inputs))
            started = time.monotonic()
            progress = _Progress(self, case, inputs, expected, started) if _judged_reports(case) else None
            reply = self.run(request, timeout, progress=progress)
            self.last_seconds = self.seconds() if self.seconds else time.monotonic() - started
            timing = {"seconds": self.last_seconds, "earlier": dict(self.earlier), "yardsticks": dict(self.yardsticks)}
            if progress is not None and progress.stopped_at is not None:
                timing["stopped_at"] = progress.stopped_at
            self.earlier[case.id] = self.last_seconds
            verdict = judge(case, inputs, expected, reply, timing, self.skipped, self.assigned)
            self._keep_yardstick(case, expected)
            verdict = self._noted(case, verdict, needs)
        self._remember(case, verdict)
        return verdict

    def adopt(self, case: Case, ran: Verdict, needs: list[str]) -> Verdict:
        """The verdict ``verdict`` would give ``case`` here, for a case that another runner ran (``alongside.py``)
        without this runner's history: not run if it depends on a unit that timed out here, else ``ran`` with
        this runner's note on a unit it depends on that fails; remembered as ``verdict`` remembers its own.

        Args:
            case: the case.
            ran: the other runner's verdict.
            needs: the other units it runs (the other runner's ``needs[case.id]``).
        """
        verdict = self._not_run(case, needs)
        if verdict is None:
            noted = f"\nNote: {case.unit} depends on " in ran.message  # by the other runner, on a case it ran
            verdict = ran if noted else self._noted(case, ran, needs)
        self._remember(case, verdict)
        return verdict

    def _not_run(self, case: Case, needs: list[str]) -> Verdict | None:
        """Why ``case`` is not run (its unit, or one it depends on, timed out already), or None: it runs."""
        hung = [unit for unit in needs if unit in self.timed_out]
        if self.stop_after_timeout and case.unit in self.timed_out:
            return Verdict(False, f"{case.unit}: not run: it timed out on case '{self.timed_out[case.unit]}' "
                                  "already.", Status.TIMEOUT, ran=False)
        if hung:
            return Verdict(False, f"{case.unit}: not run: it depends on {hung[0]}, which timed out "
                                  f"(on case '{self.timed_out[hung[0]]}'); fix {hung[0]} first.", Status.ERROR, ran=False)
        return None

    def _noted(self, case: Case, verdict: Verdict, needs: list[str]) -> Verdict:
        """A failing ``verdict`` with a note on the first unit it depends on that fails its own checks."""
        broken = [unit for unit in needs if unit in self.failed]
        if verdict.passed or not broken:
            return verdict
        return dataclasses.replace(verdict, message=f"{verdict.message}\nNote: {case.unit} depends on "
                                   f"{broken[0]}, which fails its own checks ({self.failed[broken[0]]}): fix that first.")

    def _remember(self, case: Case, verdict: Verdict) -> None:
        if verdict.status is Status.TIMEOUT:
            self.timed_out.setdefault(case.unit, case.name)
        elif not verdict.passed and verdict.ran:
            self.failed.setdefault(case.unit, verdict.status)

    def _keep_yardstick(self, case: Case, expected) -> None:
        """A timed reference's own wall time (``reference_seconds``, measured in the grader right after the case
        ran: ``fresh`` cases compute it then), kept so that a later run's judge can pair each run with it."""
        if case.fresh and expected.cache_info().misses:
            value = expected()
            if isinstance(value, dict) and isinstance(value.get("reference_seconds"), float):
                self.yardsticks[case.id] = value["reference_seconds"]

    def depends_on(self, case: Case, request: dict, units: tuple[str, ...]) -> list[str]:
        """The other units this case runs: its forward unit, builders, and units its code calls (through
        helpers too)."""
        named = [request.get("forward"), *(request.get("builders") or [])]
        seen, frontier = set(), [case.unit, *[name for name in named if name]]
        while frontier:
            name = frontier.pop()
            if name not in seen:
                seen.add(name)
                frontier += [used for used in self.uses.get(name, ()) if used in self.uses]
        called = sorted(seen & set(units))
        return [unit for unit in dict.fromkeys([*named, *called]) if unit and unit != case.unit]


@dataclass
class _Progress:
    """``(value, at) -> stop?``, the answer to a training case's progress reports: the first
    ``case.driver.progress`` reports are judged as the final value would be; True once one passes
    (``stopped_at``: its ``at``), and from then on."""

    runner: CaseRunner
    case: Case
    inputs: dict
    expected: Callable
    started: float
    reports: int = 0
    stopped_at: int | None = None

    def __call__(self, value, at) -> bool:
        self.reports += 1
        if self.stopped_at is not None or self.reports > _judged_reports(self.case):
            return self.stopped_at is not None
        timing = {"seconds": time.monotonic() - self.started, "earlier": dict(self.runner.earlier)}
        verdict = judge(self.case, self.inputs, self.expected, {"status": "ok", "value": value, "mutated": []},
                        timing, self.runner.skipped, self.runner.assigned)
        if verdict.passed:
            self.stopped_at = at if isinstance(at, int) and not isinstance(at, bool) else self.reports
        return verdict.passed


def _judged_reports(case: Case) -> int:
    """How many progress reports of ``case`` the grader judges (its ``Training`` driver's ``progress``; else 0)."""
    return case.driver.progress if isinstance(case.driver, Training) else 0


class CheckTimeLimit(BaseException):
    """Raised inside the student's function when a case runs past its time limit (not an ``Exception``,
    so ``except Exception`` in a unit does not swallow it)."""


def in_process(namespace: dict):
    """``(request, timeout, progress=None) -> reply`` on functions in this process (a notebook's, or a test's).

    Request and reply go through the plain-data wire, as with a sandboxed worker; a case past its
    time limit is stopped (SIGALRM, main thread) and reported as the sandbox reports it. An interrupt
    of the student's code is raised again as ``KeyboardInterrupt`` (the function it stopped is in
    ``run.interrupted_in``).
    """
    def run(request: dict, timeout: float, progress=None):
        request = wire.decode(wire.encode(request))

        def answer(value, at) -> bool:  # a progress report crosses the same wire as a reply
            return bool(progress(wire.decode(wire.encode(value)), at)) if progress is not None else False
        try:
            with worker.time_limit(timeout, lambda: CheckTimeLimit(f"over the time limit of {timeout:g} s")), \
                    drivers.progress.answered_by(answer):
                reply = worker.run_case(namespace, request)
        except CheckTimeLimit:  # it fired outside the student's function
            reply = {"status": "error", "type": CheckTimeLimit.__name__}
        if reply.get("type") == CheckTimeLimit.__name__:
            return Failure.timed_out(timeout)
        if reply.get("type") == "KeyboardInterrupt":
            run.interrupted_in = reply.get("during")
            raise KeyboardInterrupt
        return wire.decode(wire.encode(reply))
    run.interrupted_in = None
    return run


