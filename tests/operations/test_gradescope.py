"""Gradescope: one notebook per upload, never a sum; the right assignment only; Gradescope's results format.

The end-to-end tests run the real path: ``gradescope build`` -> unzip -> ``setup.sh`` (fresh venv,
non-editable install, references precomputed) -> ``run_autograder`` in a simulated ``/autograder``
(see ``gradescope_harness.py``).
"""

from __future__ import annotations

import json
import zipfile

import jsonschema
import pytest

from dlcourse.autograder.cases import ASSIGNMENTS
from dlcourse.autograder.course.gradescope import build, grade_upload, scripts
from conftest import ASSIGNMENTS_DIR, SOLUTIONS, TEST_SECRET
from gradescope_harness import validate_results

BACKPROP = ASSIGNMENTS["01_backprop"]
SOLUTION = SOLUTIONS / "01_backprop.ipynb"


# ----------------------------------------------------------------------------- the schema and the rule (in-process)

def test_the_schema_rejects_a_top_level_max_score_and_bad_values():
    validate_results({"score": 1.0, "tests": [{"score": 1.0, "max_score": 1.0, "status": "passed"}]})
    for bad in ({"score": 1.0, "max_score": 2.0, "tests": []}, {"score": 1.0, "visibility": "sometimes"},
                {"tests": [{"max_score": 1.0}]}, {"score": 1.0, "tests": [{"score": 1, "status": "ok"}]}):
        with pytest.raises(jsonschema.ValidationError):
            validate_results(bad)


@pytest.mark.parametrize("upload, expect", [
    ({"01_backprop.ipynb": SOLUTION, "draft.ipynb": ASSIGNMENTS_DIR / "01_backprop.ipynb"}, "full"),
    ({"work/answer.ipynb": SOLUTION}, "full"),
    ({"a.ipynb": SOLUTION, "b.ipynb": SOLUTION}, "several notebooks could be 01_backprop (a.ipynb, b.ipynb)"),
    ({"03_optimization.ipynb": SOLUTIONS / "03_optimization.ipynb"}, "is the notebook of 03_optimization"),
    ({"01_backprop.ipynb": SOLUTIONS / "03_optimization.ipynb"}, "is the notebook of 03_optimization"),
    ({"answers.pdf": b"%PDF-1.4"}, "upload your .ipynb notebook"),
])
def test_an_upload_is_graded_as_exactly_one_notebook(upload, expect, tmp_path, grader):
    for name, content in upload.items():
        target = tmp_path / "submission" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.read_bytes())
    results, graded = grade_upload(tmp_path / "submission", "01_backprop", grader)
    validate_results(results)
    if expect == "full":
        assert len(graded) == 1 and results["score"] == BACKPROP.max_score == sum(
            test["max_score"] for test in results["tests"])
    else:
        assert results["score"] == 0 and not graded and expect in results["output"], results["output"]


def test_warming_the_cache_leaves_only_fresh_cases_to_compute_while_grading(tmp_path):
    from dlcourse.autograder.course.gradescope import warm
    from dlcourse.autograder.cases import COURSE
    from dlcourse.autograder.engine.grade import Grader
    from dlcourse.autograder.engine.reference_cache import ReferenceCache

    fresh = sum(case.fresh for case in BACKPROP.cases)
    assert warm("01_backprop", TEST_SECRET, ReferenceCache(tmp_path)) == len(BACKPROP.cases) - fresh
    grader = Grader(COURSE, secret=TEST_SECRET, cache=ReferenceCache(tmp_path))
    result = grader.grade(SOLUTION)
    assert result.score == BACKPROP.max_score and grader.cache.misses == fresh


def test_build_refuses_an_unknown_assignment(tmp_path):
    with pytest.raises(ValueError, match="Expected an assignment among"):
        build(tmp_path / "a.zip", TEST_SECRET, "99_nothing")


def test_the_zip_names_its_assignment_and_carries_no_solutions(tmp_path):
    names = build(tmp_path / "a.zip", TEST_SECRET, "01_backprop")
    assert not [name for name in names if name.startswith(("package/solutions", "package/tests"))]
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        run = archive.read("run_autograder").decode()
        setup = archive.read("setup.sh").decode()
    assert "gradescope grade" in run and "--assignment 01_backprop" in run
    assert "gradescope warm --assignment 01_backprop" in setup


@pytest.mark.parametrize("isolation", ["auto", "bwrap", "fallback"])
def test_the_rendered_scripts_pass_shellcheck(isolation, tmp_path):
    import os
    import shutil
    import subprocess

    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        if os.environ.get("DLCOURSE_REQUIRE_BWRAP") == "1":
            pytest.fail("shellcheck is not installed, though `make` installs it here: run `make sandbox`")
        pytest.skip("shellcheck is not installed (`make` installs it where it runs as root with apt)")
    for name, text in scripts("01_backprop", isolation).items():
        path = tmp_path / name
        path.write_text(text)
        checked = subprocess.run([shellcheck, "--shell=bash", str(path)], capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0, f"{name}:\n{checked.stdout}{checked.stderr}"


# ----------------------------------------------------------------------------- end to end, as on Gradescope

@pytest.mark.slow
def test_a_solution_scores_full_marks_and_the_first_student_pays_no_references(gradescope_autograder, tmp_path):
    print(f"setup.sh (fresh venv, non-editable install, references): {gradescope_autograder.setup_seconds:.0f} s")
    site = list(gradescope_autograder.venv.glob("lib/python*/site-packages/dlcourse/autograder/engine/grade.py"))
    assert site, "the package must be installed into the venv's site-packages, not linked to the source"
    assert "computed" in gradescope_autograder.setup_log
    results = gradescope_autograder.run({"01_backprop.ipynb": SOLUTION}, tmp_path)
    log = results.pop("_log")
    validate_results(results)
    assert results["score"] == BACKPROP.max_score and len(results["tests"]) == len(BACKPROP.cases), log
    assert all(test["status"] == "passed" for test in results["tests"])
    fresh = sum(case.fresh for case in BACKPROP.cases)  # inputs drawn anew at each grading: never cached
    assert results["extra_data"]["references_computed"] == fresh < len(BACKPROP.cases), log
    hidden = [test for test in results["tests"] if "hidden" in test["tags"]]
    assert hidden and all(test["visibility"] == "after_due_date" for test in hidden)


@pytest.mark.slow
@pytest.mark.parametrize("upload, message", [
    ({"a.ipynb": SOLUTION, "b.ipynb": SOLUTION}, "several notebooks could be 01_backprop"),
    ({"01_backprop.ipynb": SOLUTIONS / "03_optimization.ipynb"}, "is the notebook of 03_optimization"),
    ({"answers.pdf": b"%PDF-1.4"}, "upload your .ipynb notebook"),
])
def test_uploads_that_cannot_count_score_zero_with_a_message(upload, message, gradescope_autograder, tmp_path):
    results = gradescope_autograder.run(upload, tmp_path)
    results.pop("_log")
    validate_results(results)
    assert results["score"] == 0 and results["tests"] == [] and message in results["output"]
    assert json.dumps(results).count("max_score") == 0


# ----------------------------------------------------------------------------- the trust boundary on Gradescope

@pytest.mark.slow
@pytest.mark.skipif(__import__("os").geteuid() != 0, reason="Gradescope runs the autograder as root")
def test_fallback_isolation_as_root_holds_against_a_daemon_the_secret_and_forged_results(gradescope_autograder):
    """As Gradescope runs it (root, no namespaces: ``DLCOURSE_ISOLATION=fallback``), a submission that
    daemonizes to rewrite results.json, reads the secret (file and every process's environment) and
    writes into the reference cache gains nothing, leaks nothing, and leaves no process behind."""
    import os
    import shutil
    import tempfile
    import time
    from pathlib import Path

    from conftest import code_cell, write_variant

    tmp = Path(tempfile.mkdtemp(prefix="dlcourse-gradescope-", dir="/var/tmp"))
    os.chmod(tmp, 0o755)  # as /autograder: every parent traversable, so only the sandbox stands in the way
    try:
        root = tmp / "autograder"
        attack = f"""
import glob, os, time
def binary_crossentropy(logits, y):
    read_end, write_end = os.pipe()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.write(write_end, str(os.getpid()).encode())
            for _ in range(200):
                try:
                    open({str(root / 'results' / 'results.json')!r}, "w").write('{{"score": 1000, "tests": []}}')
                except OSError:
                    pass
                time.sleep(0.05)
            os._exit(0)
        os._exit(0)
    seen = ["DAEMON " + os.read(read_end, 32).decode() + " ;"]
    for path in [{str(root / 'source' / 'secret')!r}, *glob.glob("/proc/[0-9]*/environ")]:
        try:
            seen.append(open(path, "rb").read().decode("latin-1"))
        except OSError:
            pass
    for folder in ({str(root / 'source' / 'cache')!r}, {str(root / 'results')!r}):
        try:
            open(os.path.join(folder, "forged.npz"), "w").write("x")
            seen.append("WROTE " + folder)
        except OSError:
            pass
    raise RuntimeError("SEEN " + " ".join(seen))
"""
        notebook = write_variant(tmp, SOLUTION, lambda nb: nb["cells"].append(code_cell(attack)))
        results = gradescope_autograder.run({"01_backprop.ipynb": notebook}, tmp,
                                            env={"DLCOURSE_ISOLATION": "fallback"})
        log = results.pop("_log")
        target = [test for test in results["tests"] if "binary_crossentropy" in test["tags"]]
        assert target and all(test["status"] == "failed" for test in target), log
        assert "SEEN" in target[0]["output"] and "WROTE" not in json.dumps(results)
        assert results["score"] == BACKPROP.max_score - sum(test["max_score"] for test in target)
        assert "isolation fallback" in results["output"]
        assert TEST_SECRET not in json.dumps(results) + log
        daemon = int(target[0]["output"].split("DAEMON ", 1)[1].split(" ;", 1)[0])
        assert not _alive(daemon)  # run_autograder has returned: nothing of the student runs any more
        time.sleep(1.5)
        on_disk = json.loads((root / "results" / "results.json").read_text())
        assert on_disk["score"] == results["score"]
        assert not (root / "source" / "cache" / "forged.npz").exists()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.parametrize("level", ["bwrap", "fallback"])
def test_a_wheel_install_exposes_nothing_of_the_grader_to_a_keras_assignment(gradescope_autograder, tmp_path, level):
    """Installed as setup.sh installs it (pip builds the wheel; site-packages then holds dlcourse and
    autograder beside Keras), the 09 sandbox still imports Keras and nothing of the grader."""
    import os
    import subprocess

    from conftest import code_cell, import_attack, require_bwrap, write_variant

    if level == "bwrap":
        require_bwrap()
    venv = gradescope_autograder.venv
    site = next((venv / "lib").glob("python3*/site-packages"))
    assert (site / "dlcourse" / "references").is_dir() and not (site / "__editable__").exists()
    attack = import_attack("generator_loss(logits_fake)", [site], keras=True)
    notebook = write_variant(tmp_path, SOLUTIONS / "09_gan.ipynb", lambda nb: nb["cells"].append(code_cell(attack)))
    out = tmp_path / "results.json"
    run = subprocess.run([str(venv / "bin" / "dlcourse"), "grade", str(notebook), "--isolation", level,
                          "--json", str(out)], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "DLCOURSE_SECRET": TEST_SECRET, "DLCOURSE_CACHE": str(tmp_path / "cache")})
    assert run.returncode == 0, run.stdout + run.stderr
    tests = json.loads(out.read_text())["tests"]
    attacked = [test for test in tests if "generator_loss" in test["tags"]]
    assert attacked and all("IMPORTED[] keras 3." in test["output"] for test in attacked), attacked
    independent = [test for test in tests if {"discriminator_loss", "build_generator"} & set(test["tags"])]
    assert independent and all(test["status"] == "passed" for test in independent)  # the rest was graded


@pytest.mark.slow
def test_the_installed_package_carries_its_templates(gradescope_autograder, tmp_path):
    """Installed from a wheel as setup.sh installs it, the package renders its feedback and scripts."""
    import subprocess

    site = next((gradescope_autograder.venv / "lib").glob("python3*/site-packages"))
    templates = site / "dlcourse" / "autograder" / "course" / "templates"
    assert {"feedback.html", "setup.sh", "run_autograder"} <= {path.name for path in templates.iterdir()}
    code = ("from dlcourse.autograder.course.feedback import feedback_html; from dlcourse.autograder.course.gradescope import scripts; "
            "print(feedback_html('<ann>', [])); print(scripts('01_backprop', 'auto')['run_autograder'])")
    shown = subprocess.run([str(gradescope_autograder.venv / "bin" / "python"), "-c", code], capture_output=True,
                           text=True, timeout=120, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "Feedback for &lt;ann&gt;" in shown.stdout and "--assignment 01_backprop" in shown.stdout


@pytest.mark.slow
def test_a_wheel_install_builds_a_zip_that_grades(gradescope_autograder, tmp_path):
    """An instructor who ran `pip install dlcourse` (no checkout) builds the zip from that install: it
    carries the install repacked as a wheel, which setup.sh installs into a fresh venv; the solution
    then scores full marks."""
    import zipfile

    from gradescope_harness import build_autograder

    installed = gradescope_autograder.venv / "bin" / "dlcourse"
    rebuilt = build_autograder(tmp_path / "image", dlcourse=installed)
    package = [name for name in zipfile.ZipFile(rebuilt.zip_path).namelist() if name.startswith("package/")]
    assert len(package) == 1 and package[0].endswith("-py3-none-any.whl"), package
    site = list(rebuilt.venv.glob("lib/python*/site-packages/dlcourse/autograder/engine/grade.py"))
    assert site, "the wheel must install the grader into the fresh venv"
    results = rebuilt.run({"01_backprop.ipynb": SOLUTION}, tmp_path / "run")
    log = results.pop("_log")
    validate_results(results)
    assert results["score"] == BACKPROP.max_score and all(test["status"] == "passed" for test in results["tests"]), log


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting for its reaper is not)."""
    from pathlib import Path

    try:
        state = [line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("State:")]
    except OSError:
        return False
    return not state[0].split()[1].startswith("Z")
