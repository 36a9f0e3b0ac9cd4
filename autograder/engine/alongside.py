"""Training cases run alongside the others: a submission's last cases, those that train a network, in a second
worker while the first runs every other case.

A training case (a ``Training`` driver: ``train_lenet5``, the GAN's ring) is most of a Keras submission's
time, and keeps about one core busy while the grader mostly waits for its progress reports; the cases
before it take most of a second more, one after the other. Given a second worker of the same submission
(the same sandbox and cells, a uid, a scratch space and a confinement of its own, like every worker), the
two parts run at once: where a core is spare (a batch with fewer grading processes than cores, the
benchmark's one), a submission is graded in about the training's time. In a batch that already keeps every
core busy, it changes nothing but the order in which the same work is done.

Grades are those of running the cases in order, because the training cases come last: no other case runs
after them, so none depends on how they went. Once both parts are done, the first worker's runner adopts
each training verdict in order (``CaseRunner.adopt``) and gives it the verdict it would have given after the
others: not run if it depends on a unit that timed out, a note on a unit it depends on that fails. Only the
seconds differ, as they do between any two gradings.

Used where it costs nothing but a fork: the pool forks this sandbox's workers (``WorkerPool.forks``: as
root, under bubblewrap or Landlock, in a grading with a pool: ``dlcourse grade-batch``, the audit; not one
``dlcourse grade`` or Gradescope's, which start their workers), the grading is not a student's own check,
and the assignment has cases before its training cases (06 and 09 today). No case it runs at the same
time is timed (the speed cases, 04's, judge a run against a reference timed right after it): an
assignment with both would have to run its timed cases after the training, or not alongside.
"""

from __future__ import annotations

import threading
from typing import Callable

from dlcourse.autograder.engine.case import Case, Training
from dlcourse.autograder.engine.compare import Verdict
from dlcourse.autograder.engine.runner import CaseRunner


def training_suffix(cases: tuple[Case, ...]) -> int:
    """How many of the last ``cases`` train a network (a ``Training`` driver), with no other case after them."""
    count = 0
    while count < len(cases) and isinstance(cases[len(cases) - 1 - count].driver, Training):
        count += 1
    return count


class Alongside:
    """The ``cases`` run in a thread of their own by a runner of their own (``runner``, whose session has a worker of
    its own), while the caller runs the others; ``adopted`` joins the thread and hands each verdict to the
    caller's runner, in order.

    Args:
        runner: ``() -> (CaseRunner, close)``: the runner for these cases, made in the thread, and what ends its
            session (kills its worker) once they are done.
        cases: the cases, the assignment's last ones.
        units: the assignment's units.
    """

    def __init__(self, runner: Callable[[], tuple[CaseRunner, Callable[[], None]]], cases: tuple[Case, ...],
                 units: tuple[str, ...]):
        self.cases, self.units = cases, units
        self._runner = runner
        self._verdicts: list[Verdict] = []
        self._needs: dict = {}
        self._raised: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="dlcourse-training-alongside", daemon=True)

    def start(self) -> Alongside:
        self._thread.start()
        return self

    def adopted(self, by: CaseRunner) -> list[Verdict]:
        """The verdicts, once every case ran, as ``by`` gives them after its own cases (``CaseRunner.adopt``).
        Whatever the thread raised is raised here."""
        self._thread.join()
        if self._raised is not None:
            raise self._raised
        return [by.adopt(case, verdict, self._needs.get(case.id, []))
                for case, verdict in zip(self.cases, self._verdicts)]

    def _run(self) -> None:
        try:
            runner, close = self._runner()
            try:
                for case in self.cases:
                    self._verdicts.append(runner.verdict(case, self.units))
                self._needs = runner.needs
            finally:
                close()
        except BaseException as raised:  # noqa: BLE001 - raised again in the caller's thread (``adopted``)
            self._raised = raised
