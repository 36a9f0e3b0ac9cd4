"""Which notebook counts for an assignment when a student has several: one rule everywhere.

The gradebook CSV, nbgrader's gradebook and Gradescope all take the notebook named after the
assignment (``01_backprop.ipynb``, in any folder), else the only notebook there is. Several
candidates are never summed nor the best one picked: the student is told which ones compete.
"""

from __future__ import annotations

from pathlib import PurePosixPath


def choose(assignment: str, labels: list[str]) -> tuple[str | None, str | None]:
    """The one notebook that counts as ``assignment`` among ``labels``, or None and the reason.

    Args:
        assignment: the assignment's name, ``01_backprop``.
        labels: the candidates' paths (``hw/01_backprop.ipynb``, ``bundle.zip/01_backprop.ipynb``).

    Returns:
        ``(label, None)``, or ``(None, reason)`` when there is no candidate or several.
    """
    named = [label for label in labels if PurePosixPath(label).name == f"{assignment}.ipynb"]
    pool = named or list(labels)
    if len(pool) == 1:
        return pool[0], None
    if not pool:
        return None, f"no notebook for {assignment}"
    listed = ", ".join(sorted(pool))
    return None, (f"several notebooks could be {assignment} ({listed}): submit one, "
                  f"or name the one to grade {assignment}.ipynb")
