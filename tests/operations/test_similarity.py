"""``dlcourse similarity`` on a corpus of independent implementations and disguised copies (issue 27).

``tests/similarity_corpus/`` holds, for each of the nine assignments, independent implementations of the
units in different styles, copies disguised by hand, and a student whose own work holds one unit copied
from another; ``disguise`` adds a mechanically disguised copy of every implementation. At the
default thresholds every copy must be flagged, a one-unit copy on that unit alone, and no independent
pair may be; the printed figures are the README's.
"""

from __future__ import annotations

import csv
from itertools import combinations

import pytest

from dlcourse.autograder.cases import COURSE
from dlcourse.autograder.course.fingerprints import K, WINDOW, fingerprint
from dlcourse.autograder.course.similarity import THRESHOLD, UNIT_AT_LEAST, compare
from dlcourse.autograder.course.similarity_report import write_report
from dlcourse.cli import main
from similarity_corpus.corpus import (ASSIGNMENTS, ROOT, disguise, independent, relation, stub_path, unit_copies,
                                      write_class)
from similarity_corpus.corpus import corpus_class as whole_corpus


def corpus_class(assignment: str) -> dict[str, str]:
    return whole_corpus(assignment, COURSE.assignments[assignment].units)


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def corpus(request, tmp_path_factory):
    assignment = request.param
    sources = corpus_class(assignment)
    folder = write_class(tmp_path_factory.mktemp(assignment) / "submitted", assignment, sources)
    return assignment, sources, compare(folder, assignment, stub_path(assignment), COURSE)


def test_every_copy_is_flagged_and_no_independent_pair_is(corpus):
    assignment, sources, comparison = corpus
    copied = unit_copies(assignment)
    pairs = {frozenset((comparison.submissions[p.a].student, comparison.submissions[p.b].student)): p
             for p in comparison.pairs}
    flagged = {id(pair) for pair in comparison.flagged}
    copies, one_unit, independents = [], [], []
    for a, b in combinations(sorted(sources), 2):
        pair = pairs.get(frozenset((a, b)))
        expected = relation(a, b, copied)
        row = (pair.score if pair else 0.0, a, b, pair, expected)
        (copies if expected == "copy" else independents if expected is None else one_unit).append(row)
    missed = [row[1:3] for row in copies if row[0] < THRESHOLD]
    wrong_unit = [(a, b, unit, comparison.flagged_units(pair) if pair else None)
                  for _, a, b, pair, unit in one_unit if pair is None or comparison.flagged_units(pair) != [unit]]
    false_flags = [row[1:3] for row in independents if row[3] is not None and id(row[3]) in flagged]
    unit_scores = [pair.units[unit] for _, _, _, pair, unit in one_unit if pair is not None]
    near = max((score for _, _, _, pair, _ in independents if pair is not None for unit, score in pair.units.items()
                if score is not None and pair.shared[unit] >= UNIT_AT_LEAST), default=0.0)
    print(f"\n{assignment}: {len(sources)} submissions; copies flagged {len(copies) - len(missed)}/{len(copies)} "
          f"(lowest {min(copies)[0]:.2f}); one-unit copies flagged on their unit "
          f"{len(one_unit) - len(wrong_unit)}/{len(one_unit)}"
          + (f" (unit scores {min(unit_scores):.2f}-{max(unit_scores):.2f})" if unit_scores else "")
          + f"; independent pairs flagged {len(false_flags)}/{len(independents)} "
          f"(highest overall {max(independents)[0]:.2f}, highest unit on {UNIT_AT_LEAST}+ shared fingerprints "
          f"{near:.2f}); thresholds {THRESHOLD} overall, {comparison.unit_threshold} a unit")
    assert len(comparison.submissions) == len(sources) and not comparison.notes
    assert len(copies) > len(independent(assignment)) >= 10
    assert copied and len(one_unit) == 2 * len(copied)  # each against the original and its mechanical copy
    assert not missed, "copies not flagged"
    assert not wrong_unit, "one-unit copies not flagged on that unit alone"
    assert not false_flags, "independent pairs flagged"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_stub_is_nobody_s_code(tmp_path, assignment):
    """The solution against its untouched stub, and two untouched stubs, share nothing of their own."""
    folder = tmp_path / "submitted"
    for student, path in (("solution", ROOT / "solutions" / f"{assignment}.ipynb"),
                          ("stub_a", stub_path(assignment)), ("stub_b", stub_path(assignment))):
        (folder / student).mkdir(parents=True)
        (folder / student / f"{assignment}.ipynb").write_bytes(path.read_bytes())
    comparison = compare(folder, assignment, stub_path(assignment), COURSE)
    assert len(comparison.submissions) == 3
    stub_student = next(s for s in comparison.submissions if s.student == "stub_a")
    assert stub_student.prints and not any(stub_student.own.values())  # units were read, all of it is the stub's
    assert comparison.pairs == []


def test_a_shared_run_of_k_plus_window_tokens_always_shares_a_fingerprint():
    shared = "total = np.sum(values * weights, axis=0) / np.maximum(count, 1) + offset ** 2\n"
    for noise in ("", "a = 1\n", "b = [1, 2]\nc = b[0]\n"):
        first, second = fingerprint("q = z + 1\n" + shared), fingerprint(noise + shared + "r = 3 - 4\n")
        assert len(fingerprint(shared).tokens) >= K + WINDOW - 1
        assert set(first.hashes) & set(second.hashes)


def test_names_comments_docstrings_and_dead_statements_leave_no_trace():
    plain = "def f(x, w):\n    out = x @ w\n    return np.maximum(out, 0)\n"
    dressed = ('def g(inputs, kernel):\n    """Mine."""\n    # a comment\n    unused = 3\n    pre = inputs @ kernel'
               '  # product\n    if False:\n        print(pre)\n    pass\n    return numpy.maximum(pre,\n'
               '                         0)\n    print("never")\n')
    assert ([t.text for t in fingerprint(plain).tokens]
            == [t.text for t in fingerprint(dressed, numpy_names=frozenset({"numpy"})).tokens])
    assert fingerprint("def f(:\n").hashes == {}


def test_scores_per_unit_in_the_csv(corpus, tmp_path):
    assignment, _, comparison = corpus
    write_report(comparison, tmp_path)
    with open(tmp_path / "pairs.csv", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == ["student_a", "student_b", "score", *COURSE.assignments[assignment].units]
    scores = [float(row[2]) for row in rows[1:]]
    assert scores == sorted(scores, reverse=True) and len(rows) - 1 == len(comparison.pairs)
    copied_unit = next(iter(unit_copies(assignment).values()))[0]
    assert f"{copied_unit}: " in (page := (tmp_path / "report.html").read_text()) and "flags the pair on its own" in page


def test_the_report_escapes_student_code_and_names(tmp_path):
    code = ('def relu_forward(x):\n    label = "</pre><script>alert(1)</script>"\n'
            '    return np.maximum(x, 0) if label else np.minimum(x, 0) * 2 + 1, (x, label, np.abs(x) > 1)\n')
    folder = write_class(tmp_path / "submitted", "01_backprop", {"s1": code, "s2<b>": code})
    comparison = compare(folder, "01_backprop", stub_path("01_backprop"), COURSE)
    assert len(comparison.flagged) == 1
    write_report(comparison, tmp_path / "out")
    page = (tmp_path / "out" / "report.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page
    assert "s2&lt;b&gt;" in page and "<mark>" in page
    assert "http://" not in page and "https://" not in page  # self-contained


def test_past_terms_are_compared_with_this_term_only(tmp_path):
    sources = independent("01_backprop")
    units = COURSE.assignments["01_backprop"].units
    past = write_class(tmp_path / "past", "01_backprop", {"old1": sources["s01"], "old2": disguise(sources["s01"], units, 1)})
    now = write_class(tmp_path / "now", "01_backprop", {"new": disguise(sources["s01"], units, 2), "other": sources["s07"]})
    comparison = compare(now, "01_backprop", stub_path("01_backprop"), COURSE, past=past)
    flagged = {(comparison.submissions[p.a].student, comparison.submissions[p.b].student) for p in comparison.flagged}
    assert flagged == {("new", "past/old1"), ("new", "past/old2")}
    assert comparison.current == 2


def test_the_command_writes_both_files_and_ends_with_its_summary(tmp_path, capsys):
    sources = corpus_class("05_pooling")
    folder = write_class(tmp_path / "submitted", "05_pooling", sources)
    status = main(["similarity", str(folder), "--assignment", "05_pooling", "--out", str(tmp_path / "out"),
                   "--stub", str(stub_path("05_pooling"))])
    lines = capsys.readouterr().out.strip().splitlines()
    assert status == 0
    flagged = sum(1 for row in list(csv.reader(open(tmp_path / "out" / "pairs.csv")))[1:] if float(row[2]) >= THRESHOLD)
    assert lines[-1] == f"similarity 05_pooling: {len(sources)} submissions, {flagged} pairs flagged"
    assert (tmp_path / "out" / "report.html").stat().st_size > 0


@pytest.mark.parametrize("argv, message", [
    (["--assignment", "99_nothing"], "Expected an assignment among"),
    (["--assignment", "01_backprop", "--threshold", "0"], "Expected a threshold in (0, 1]. Received threshold=0.0."),
    (["--assignment", "01_backprop", "--stub", "missing.ipynb"], "Expected the released notebook of 01_backprop"),
])
def test_bad_arguments_are_one_line(tmp_path, capsys, argv, message):
    (tmp_path / "submitted").mkdir()
    assert main(["similarity", str(tmp_path / "submitted"), "--out", str(tmp_path / "out"), *argv]) == 2
    error = capsys.readouterr().err
    assert message in error and len(error.strip().splitlines()) == 1

