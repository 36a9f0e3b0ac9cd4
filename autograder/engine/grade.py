"""The grading pipeline: read submission -> extract -> run in sandbox -> compare -> score.

Each step is its own module; this one only wires them together and collects results. Reports
(terminal table, Gradescope JSON) are in ``report.py``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from dlcourse.autograder.engine.alongside import Alongside, training_suffix
from dlcourse.autograder.engine.case import Assignment, Case
from dlcourse.autograder.engine.catalogue import Catalogue
from dlcourse.autograder.engine.compare import Status, Verdict
from dlcourse.autograder.engine.extract import NotebookError, read_notebook
from dlcourse.autograder.engine.protections import missing, summary
from dlcourse.autograder.engine.reference_cache import ReferenceCache
from dlcourse.autograder.engine.runner import CaseRunner
from dlcourse.autograder.engine.sandbox import Limits, Sandbox
from dlcourse.autograder.engine.pool import WorkerPool
from dlcourse.autograder.engine.session import WorkerSession


@dataclass
class CaseResult:
    case: Case
    verdict: Verdict

    @property
    def score(self) -> float:
        return self.case.points if self.verdict.passed else 0.0


@dataclass
class SubmissionResult:
    """Everything known about one graded notebook."""

    path: Path
    assignment: Assignment | None
    results: list[CaseResult] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None  # set when the notebook could not be graded at all
    label: str = ""  # how reports name it (default: the file name)

    def __post_init__(self):
        self.label = self.label or self.path.name

    @property
    def score(self) -> float:
        return sum(result.score for result in self.results)

    @property
    def max_score(self) -> float:
        return sum(result.case.points for result in self.results)

    def units(self) -> list[dict]:
        """One row per unit: points, status, the first failing message, and how many more cases fail."""
        rows: dict[str, dict] = {}
        for result in self.results:
            row = rows.setdefault(result.case.unit, {"unit": result.case.unit, "score": 0.0, "max_score": 0.0,
                                                     "status": Status.PASSED, "message": "", "more_failing": 0})
            row["score"] += result.score
            row["max_score"] += result.case.points
            if not result.verdict.passed and row["status"] is Status.PASSED:
                row["status"], row["message"] = result.verdict.status, result.verdict.message
            elif not result.verdict.passed:
                row["more_failing"] += 1
        return list(rows.values())


@dataclass
class Grader:
    """Grades notebooks with shared settings (sandbox kind, reference cache, secret).

    Args:
        course: the assignments it grades (the course's: ``dlcourse.autograder.cases.COURSE``).
        public_only: grade only the public cases (a student's own check).
        secret: seed material for hidden cases (required unless ``public_only``).
        cache: where references are kept.
        isolation: "auto", "bwrap" or "fallback"; default: ``$DLCOURSE_ISOLATION``, else auto.
        max_timeout: caps every case's wall-clock timeout (tests of hanging code use a short one).
        pool: in a batch, starts the next submissions' workers while the current one is graded (``pool.py``);
            every worker still serves one submission only.
        alongside: where the pool forks the workers, run an assignment's training cases in a second worker
            alongside the other cases (``alongside.py``); the grades are the same either way.
    """

    course: Catalogue
    public_only: bool = False
    secret: str | None = None
    cache: ReferenceCache = field(default_factory=ReferenceCache)
    isolation: str | None = None
    max_timeout: float | None = None
    pool: WorkerPool | None = None
    alongside: bool = True

    def grade(self, path: str | Path, assignment: Assignment | None = None) -> SubmissionResult:
        started = time.perf_counter()
        path = Path(path)
        try:
            notebook = read_notebook(path)
        except NotebookError as error:
            result = self._unreadable(path, assignment, str(error))
        else:
            assignment = assignment or self.course.identify(notebook)
            if assignment is None:
                result = SubmissionResult(path, None, error=f"{path.name}: no assignment of this course "
                                                             f"matches it (known: {', '.join(self.course)})")
            else:
                result = self._grade(notebook, assignment)
        result.seconds = time.perf_counter() - started
        return result

    def cases(self, assignment: Assignment) -> tuple[Case, ...]:
        return assignment.public_cases() if self.public_only else assignment.cases

    def _grade(self, notebook, assignment: Assignment) -> SubmissionResult:
        sandbox = Sandbox(frameworks=assignment.frameworks, isolation=self.isolation,
                          limits=Limits(memory_bytes=assignment.memory_bytes, processes=assignment.processes,
                                        cpu_seconds=assignment.cpu_seconds))
        result = SubmissionResult(notebook.path, assignment)
        result.notices.append(f"sandbox: {summary(sandbox)}")
        result.notices += [f"sandbox, missing: {text}" for text in missing(sandbox)]
        result.notices += [f"could not parse {text}" for text in notebook.problems]
        cases = self.cases(assignment)
        split = len(cases) - self.cases_alongside(sandbox, cases)
        with WorkerSession(sandbox, notebook.cells, pool=self.pool) as session:
            runner = self._runner(session, notebook)
            alongside = None
            if split < len(cases):
                def second_runner():  # in the thread: its worker is taken from the pool there
                    second = WorkerSession(sandbox, notebook.cells, pool=self.pool)
                    return self._runner(second, notebook), second.close
                alongside = Alongside(second_runner, cases[split:], assignment.units).start()
            for case in cases[:split]:
                result.results.append(CaseResult(case, runner.verdict(case, assignment.units)))
            if alongside is not None:
                result.results += [CaseResult(case, verdict)
                                   for case, verdict in zip(alongside.cases, alongside.adopted(runner))]
            result.notices += [f"while loading: {text}" for text in session.load_problems]
            if session.unavailable:
                result.notices.append(f"not importable while grading: {', '.join(session.unavailable)} "
                                      "(fine unless a graded function uses it)")
        return result

    def _runner(self, session: WorkerSession, notebook) -> CaseRunner:
        return CaseRunner(session.run, self.cache.expected, self.secret, self.max_timeout, notebook.skipped,
                          notebook.assigned, notebook.uses, seconds=lambda: session.last_seconds,
                          stop_after_timeout=self.public_only)

    def cases_alongside(self, sandbox: Sandbox, cases: tuple[Case, ...]) -> int:
        """How many of the last ``cases`` run in a second worker alongside the others (``alongside.py``): the
        training cases at the end, where the pool forks this sandbox's workers, in a grader's grading (not a
        student's check), with other cases before them; else 0."""
        if not self.alongside or self.public_only or self.pool is None or not self.pool.forks(sandbox):
            return 0
        count = training_suffix(cases)
        return count if count < len(cases) else 0

    def _unreadable(self, path: Path, assignment: Assignment | None, reason: str) -> SubmissionResult:
        assignment = assignment or self.course.by_file_name(path)
        if assignment is None:
            return SubmissionResult(path, None, error=reason)
        result = SubmissionResult(path, assignment, notices=[reason])
        for case in self.cases(assignment):
            result.results.append(CaseResult(case, Verdict(False, f"{case.unit}: {reason}", Status.ERROR)))
        return result

