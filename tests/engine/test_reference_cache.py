"""The reference cache (``reference_cache.py``): a new cache folder is private to the grader's uid.

(That a warm cache lets a NumPy assignment's ``check()`` run without a framework: ``check/test_check_without_frameworks.py``.)"""

from __future__ import annotations

from dlcourse.autograder.cases.backprop import ASSIGNMENT as BACKPROP
from dlcourse.autograder.engine.case import Assignment

QUICK_01 = Assignment("01_backprop", "01 without the MLP units",
                      tuple(c for c in BACKPROP.cases if c.unit not in ("mlp_loss_and_grads", "train_mlp")))


def test_a_new_reference_cache_folder_is_private(tmp_path):
    """The cache holds hidden cases' expected values: only the grader's uid may read it."""
    from dlcourse.autograder.engine.reference_cache import ReferenceCache

    folder = tmp_path / "cache" / "references"
    case = QUICK_01.cases[0]
    ReferenceCache(folder).expected(case, case.make_inputs(None))
    assert any(folder.iterdir()) and folder.stat().st_mode & 0o077 == 0
