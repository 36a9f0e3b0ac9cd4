"""``dlcourse similarity`` beside copydetect (PyPI) on the test corpus: precision, recall and seconds.

The corpus is ``tests/similarity_corpus/`` for the nine assignments, built as ``tests/operations/test_similarity.py``
builds it (independent implementations, copies disguised by hand, a mechanically disguised copy of each
implementation, one-unit copies), each student's code appended to the released stub as notebook cells.

- dlcourse: ``similarity.compare`` on the notebooks, with the stub (in-process; no report written).
- copydetect: each notebook's code cells exported to ``<student>.py`` (what a user of a tool that reads no
  ``.ipynb`` must do), the stub's code cells exported the same way as boilerplate, then ``CopyDetector``
  at its defaults (noise and guarantee thresholds 25, a pair flagged when either file's share of copied
  tokens exceeds ``display_t`` = 0.33). It runs in its own interpreter (``--copydetect-python``), so that
  copydetect never has to be installed beside dlcourse: it is not a dependency of the package.

A pair is positive when one of its two students copied the other's code: the whole of it (disguised), or
one unit only. Precision is flagged positives / all flagged pairs, recall flagged positives / positives,
at each tool's default threshold; copydetect's best threshold on this corpus (highest F1) is printed too.
Seconds are the in-process CPU time of the comparison (for copydetect, export included; both run in one
process), and the wall-clock time beside it; interpreter start-up is not counted. Prints figures; asserts nothing. Skips, saying why, if copydetect cannot be imported.

    python3 -m venv /tmp/cdvenv && /tmp/cdvenv/bin/pip install copydetect
    .venv/bin/python benchmarks/similarity_vs_copydetect.py --copydetect-python /tmp/cdvenv/bin/python
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from similarity_corpus.corpus import (ASSIGNMENTS, corpus_class, relation, stub_path, unit_copies,  # noqa: E402
                                      write_class)

from dlcourse.autograder.cases import COURSE  # noqa: E402
from dlcourse.autograder.course.similarity import compare  # noqa: E402

# Run by --copydetect-python: standard library and copydetect only. argv: the classes' root, the stubs' folder.
COPYDETECT_RUN = r'''
import json, sys, time
from pathlib import Path
from copydetect import CopyDetector, __version__

def code_of(notebook):
    cells = json.loads(Path(notebook).read_text())["cells"]
    return "\n\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                       for c in cells if c["cell_type"] == "code") + "\n"

root, stubs, results = Path(sys.argv[1]), Path(sys.argv[2]), {"version": __version__, "assignments": {}}
for folder in sorted(p for p in root.iterdir() if p.is_dir()):
    started, cpu = time.perf_counter(), time.process_time()
    code, boilerplate = folder / "code", folder / "boilerplate"
    code.mkdir(), boilerplate.mkdir()
    for notebook in sorted((folder / "submitted").glob("*/*.ipynb")):
        (code / f"{notebook.parent.name}.py").write_text(code_of(notebook))
    (boilerplate / "stub.py").write_text(code_of(stubs / f"{folder.name}.ipynb"))
    detector = CopyDetector(test_dirs=[str(code)], ref_dirs=[str(code)], boilerplate_dirs=[str(boilerplate)],
                            extensions=["py"], silent=True, autoopen=False)
    detector.run()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    names = [Path(f).stem for f in detector.test_files]
    index = {Path(f).stem: i for i, f in enumerate(detector.ref_files)}
    scores = {}
    for i, a in enumerate(names):
        for b in names:
            if a < b:
                scores[f"{a} {b}"] = float(max(detector.similarity_matrix[i, index[b]]))
    results["assignments"][folder.name] = {"seconds": seconds, "cpu": cpu, "scores": scores,
                                           "display_t": detector.conf.display_t}
print(json.dumps(results))
'''


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copydetect-python", default=sys.executable, metavar="PYTHON",
                        help="an interpreter that can import copydetect (default: this one)")
    args = parser.parse_args()
    try:
        probe = subprocess.run([args.copydetect_python, "-c", "import copydetect"], capture_output=True, text=True)
    except OSError as error:
        probe = subprocess.CompletedProcess(args.copydetect_python, 1, "", str(error))
    if probe.returncode != 0:
        print(f"skipped: copydetect is not importable by {args.copydetect_python}. It is not a dependency of "
              "dlcourse; install it in a scratch venv (python3 -m venv /tmp/cdvenv && /tmp/cdvenv/bin/pip install "
              "copydetect) and pass --copydetect-python /tmp/cdvenv/bin/python")
        return 0
    with tempfile.TemporaryDirectory(prefix="similarity-vs-copydetect-") as scratch:
        root, classes, mine = Path(scratch), {}, {}
        for assignment in ASSIGNMENTS:
            classes[assignment] = corpus_class(assignment, COURSE.assignments[assignment].units)
            folder = write_class(root / assignment / "submitted", assignment, classes[assignment])
            started, cpu = time.perf_counter(), time.process_time()
            comparison = compare(folder, assignment, stub_path(assignment), COURSE)
            flagged = {id(pair) for pair in comparison.flagged}
            mine[assignment] = (time.perf_counter() - started, time.process_time() - cpu, {
                frozenset((comparison.submissions[p.a].student, comparison.submissions[p.b].student)):
                    id(p) in flagged for p in comparison.pairs})
        run = subprocess.run([args.copydetect_python, "-c", COPYDETECT_RUN, str(root), str(ROOT / "assignments")],
                             capture_output=True, text=True, check=True)
        theirs = json.loads(run.stdout)
    print(f"corpus: {sum(map(len, classes.values()))} submissions of {len(ASSIGNMENTS)} assignments; "
          f"copydetect {theirs['version']} at its defaults (display_t "
          f"{theirs['assignments'][ASSIGNMENTS[0]]['display_t']})")
    print(f"{'assignment':22s} {'pairs':>6s} {'copies':>6s}  {'dlcourse P / R':>16s} {'cpu s':>5s}  "
          f"{'copydetect P / R':>16s} {'cpu s':>5s}")
    # true positives, false positives, missed, wall and CPU seconds
    totals = {"dlcourse": [0, 0, 0, 0.0, 0.0], "copydetect": [0, 0, 0, 0.0, 0.0]}
    kinds = {"dlcourse": {"copy": [0, 0], "unit": [0, 0]}, "copydetect": {"copy": [0, 0], "unit": [0, 0]}}
    all_scores = []  # (copydetect score, "copy", "unit" or None) over the corpus, for its best threshold
    for assignment in ASSIGNMENTS:
        copied = unit_copies(assignment)
        seconds, cpu, flags = mine[assignment]
        cd = theirs["assignments"][assignment]
        row = {}
        for tool in ("dlcourse", "copydetect"):
            tp = fp = fn = 0
            for a, b in combinations(sorted(classes[assignment]), 2):
                expected = relation(a, b, copied)
                if tool == "dlcourse":
                    flagged = flags.get(frozenset((a, b)), False)
                else:
                    score = cd["scores"][f"{a} {b}"]
                    flagged = score > cd["display_t"]
                    all_scores.append((score, None if expected is None else "copy" if expected == "copy" else "unit"))
                if expected is not None:
                    kind = kinds[tool]["copy" if expected == "copy" else "unit"]
                    kind[0] += flagged
                    kind[1] += 1
                tp, fp, fn = tp + (flagged and expected is not None), fp + (flagged and expected is None), \
                    fn + (not flagged and expected is not None)
            spent, used = (seconds, cpu) if tool == "dlcourse" else (cd["seconds"], cd["cpu"])
            totals[tool] = [totals[tool][0] + tp, totals[tool][1] + fp, totals[tool][2] + fn,
                            totals[tool][3] + spent, totals[tool][4] + used]
            row[tool] = f"{_ratio(tp, tp + fp)} / {_ratio(tp, tp + fn)}", used
        pairs = len(classes[assignment]) * (len(classes[assignment]) - 1) // 2
        positives = sum(relation(a, b, copied) is not None for a, b in combinations(classes[assignment], 2))
        print(f"{assignment:22s} {pairs:6d} {positives:6d}  {row['dlcourse'][0]:>16s} {row['dlcourse'][1]:5.1f}  "
              f"{row['copydetect'][0]:>16s} {row['copydetect'][1]:5.1f}")
    for tool, (tp, fp, fn, seconds, used) in totals.items():
        whole, unit = kinds[tool]["copy"], kinds[tool]["unit"]
        print(f"{tool}: precision {_ratio(tp, tp + fp)} ({tp}/{tp + fp}), recall {_ratio(tp, tp + fn)} "
              f"({tp}/{tp + fn}: whole copies {whole[0]}/{whole[1]}, one-unit copies {unit[0]}/{unit[1]}), "
              f"false flags {fp}; {used:.1f} s CPU, {seconds:.1f} s wall")
    threshold, precision, recall = _best_threshold([(score, kind is not None) for score, kind in all_scores])
    caught = {kind: (sum(score > threshold for score, k in all_scores if k == kind), sum(k == kind for _, k in all_scores))
              for kind in ("copy", "unit")}
    false = sum(score > threshold for score, kind in all_scores if kind is None)
    print(f"copydetect at its best threshold on this corpus ({threshold:.2f}, chosen knowing the answers): "
          f"precision {precision}, recall {recall} (whole copies {caught['copy'][0]}/{caught['copy'][1]}, "
          f"one-unit copies {caught['unit'][0]}/{caught['unit'][1]}), false flags {false}")
    return 0


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.3f}" if whole else "-"


def _best_threshold(scored: list[tuple[float, bool]]) -> tuple[float, str, str]:
    """The threshold with the highest F1 (a pair is flagged above it), and its precision and recall."""
    positives = sum(positive for _, positive in scored)
    best = (0.0, -1.0, "-", "-")
    for threshold in sorted({score for score, _ in scored}):
        tp = sum(positive for score, positive in scored if score > threshold)
        flagged = sum(score > threshold for score, _ in scored)
        if not flagged:
            continue
        f1 = 2 * tp / (flagged + positives)
        if f1 > best[1]:
            best = (threshold, f1, _ratio(tp, flagged), _ratio(tp, positives))
    return best[0], best[2], best[3]


if __name__ == "__main__":
    sys.exit(main())
