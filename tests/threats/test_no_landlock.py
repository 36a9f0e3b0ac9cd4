"""The fallback level on a kernel without Landlock: jailed as root, refused without root, ``none`` unsafe.

Each grading here runs in a subprocess under ``scripts/without_landlock.py``, a seccomp filter under
which every Landlock call fails with ENOSYS, as in Docker with its older default profile (each run
checks that the filter took effect). Each attack is a cell appended to a notebook, as a student would
write it, graded for real; what must hold is checked after grading.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest
from conftest import ASSIGNMENTS_DIR, ROOT, SOLUTIONS, TEST_SECRET, code_cell, leases_held, write_variant

WRAPPER = [sys.executable, str(ROOT / "scripts" / "without_landlock.py")]
DLCOURSE = str(Path(sys.prefix) / "bin" / "dlcourse")
SITE_PACKAGES = sysconfig.get_paths()["purelib"]
SYSTEM_PYTHON = "/usr/bin/python3.11"  # an interpreter an unprivileged uid can run (this venv's lies under /root)
OUTSIDER = 60999  # an unprivileged uid of no one, outside the leased range (61000+)
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="a jail and a uid per worker need root")

# Grades a notebook at the fallback level with a few units of 01 (as tests/threats/test_trust_boundary.py does), in
# a process under the filter; prints what the test checks as JSON.
GRADE = """
import json, sys
from pathlib import Path
from dlcourse.autograder.cases import COURSE
from dlcourse.autograder.cases.backprop import ASSIGNMENT
from dlcourse.autograder.engine.case import Assignment
from dlcourse.autograder.engine.sandboxed.confine import landlock_abi
from dlcourse.autograder.engine.grade import Grader
from dlcourse.autograder.engine.reference_cache import ReferenceCache
from dlcourse.autograder.engine.sandbox import UidLease

notebook, units, secret, cache = sys.argv[1], sys.argv[2].split(","), sys.argv[3], sys.argv[4]
quick = Assignment("01_backprop", "01, a few units", tuple(c for c in ASSIGNMENT.cases if c.unit in units))
result = Grader(COURSE, secret=secret, max_timeout=60.0, isolation="fallback",
                cache=ReferenceCache(Path(cache))).grade(notebook, quick)
print(json.dumps({"landlock": landlock_abi(), "uids": sorted(UidLease.used), "score": result.score, "notices": result.notices,
                  "results": [[r.case.unit, r.verdict.passed, r.verdict.message] for r in result.results]}))
"""
UNITS = ("binary_crossentropy", "dense_forward", "dense_backward", "relu_forward", "relu_backward")


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("references")


def grade_without_landlock(notebook: Path, cache: Path) -> dict:
    run = subprocess.run([*WRAPPER, sys.executable, "-c", GRADE, str(notebook), ",".join(UNITS), TEST_SECRET,
                          str(cache)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    graded = json.loads(run.stdout.strip().splitlines()[-1])
    assert graded["landlock"] == 0, "the filter of scripts/without_landlock.py did not take effect"
    return graded


def jailed(graded: dict) -> bool:
    """Whether the report says the worker was jailed (Landlock missing, the grader root)."""
    return any("filesystem boundary (chroot jail)" in notice for notice in graded["notices"])


def messages(graded: dict, unit: str) -> str:
    return "\n".join(message for name, _, message in graded["results"] if name == unit)


def files_of(uids: list[int], folders) -> list[str]:
    """Every file or folder beneath ``folders`` owned by one of ``uids``."""
    found = []
    for top in folders:
        for folder, subfolders, files in os.walk(top, onerror=lambda error: None):
            for name in subfolders + files:
                path = os.path.join(folder, name)
                try:
                    if os.lstat(path).st_uid in uids:
                        found.append(path)
                except OSError:
                    pass
    return found


@ROOT_ONLY
def test_a_blank_notebook_cannot_run_the_solutions_or_read_the_course(tmp_path, cache):
    """As root without Landlock, the worker once read the world-readable checkout: a blank 01 that
    executed the solutions notebook scored full marks. Jailed, it finds nothing and scores as blank."""
    course_file = Path(tempfile.mkdtemp(prefix="dlcourse-other-course-", dir="/var/tmp"))
    os.chmod(course_file, 0o755)
    (course_file / "gradebook.csv").write_text("student,score\n")
    os.chmod(course_file / "gradebook.csv", 0o644)
    attack = f"""
import json, os, sys
class Heist:  # a class body runs when the notebook is loaded
    found = []
    try:
        for cell in json.load(open({str(SOLUTIONS / '01_backprop.ipynb')!r}))["cells"]:
            if cell["cell_type"] == "code":
                try:
                    exec("".join(cell["source"]), globals())
                except Exception:
                    pass
        found.append("solutions")
    except Exception:
        pass
    sys.path[:0] = [{str(ROOT)!r}, {SITE_PACKAGES!r}]
    try:
        import dlcourse.references
        found.append("dlcourse")
    except Exception:
        pass
    for path in ({str(course_file / 'gradebook.csv')!r}, os.path.expanduser("~root/.config/dlcourse/secret"),
                 "/etc/passwd", "/proc/1/environ"):
        try:
            open(path).read()
            found.append(path)
        except Exception:
            pass

def binary_crossentropy(logits, y):
    raise RuntimeError("FOUND" + repr(Heist.found))
"""
    blank = ASSIGNMENTS_DIR / "01_backprop.ipynb"
    try:
        graded = grade_without_landlock(write_variant(tmp_path, blank, lambda nb: nb["cells"].append(
            code_cell(attack))), cache)
    finally:
        shutil.rmtree(course_file, ignore_errors=True)
    assert "FOUND[]" in messages(graded, "binary_crossentropy")
    as_blank = grade_without_landlock(blank, cache)
    assert graded["score"] == as_blank["score"] == 0, graded["results"]
    assert jailed(graded)


@ROOT_ONLY
def test_writes_outside_the_scratch_folder_fail_and_the_scratch_folder_is_bounded(tmp_path, cache):
    """Without Landlock a worker once left files in /tmp, /dev/shm and /var/tmp, and wrote 384 MiB
    into its scratch folder unopposed. Jailed, those folders do not exist for it; its scratch folder
    is stopped near ``Limits.tmp_bytes`` (64 MiB) and nothing of its uid remains after grading."""
    marker = f"dlcourse-left-behind-{os.getpid()}"
    attack = f"""
import os, tempfile
def binary_crossentropy(logits, y):
    for folder in ("/tmp", "/dev/shm", "/var/tmp"):
        try:
            with open(os.path.join(folder, {marker!r}), "w") as stream:
                stream.write("left behind")
            print("WROTE OUTSIDE", folder, flush=True)
        except OSError:
            pass
    scratch = tempfile.gettempdir()
    chunk = b"x" * (8 * 2**20)
    for index in range(48):  # 384 MiB, 8 MiB per file (under the per-file limit)
        with open(os.path.join(scratch, f"part{{index}}"), "wb") as stream:
            stream.write(chunk)
        print("WROTE MiB", 8 * (index + 1), flush=True)
    raise RuntimeError("ALL WRITTEN")
"""
    notebook = write_variant(tmp_path, SOLUTIONS / "01_backprop.ipynb", lambda nb: nb["cells"].append(code_cell(attack)))
    graded = grade_without_landlock(notebook, cache)
    text = messages(graded, "binary_crossentropy")
    assert "over the limit of 64 MiB" in text and "ALL WRITTEN" not in text, text
    assert "WROTE OUTSIDE" not in text
    written = [int(line.split()[-1]) for line in text.splitlines() if line.strip().startswith("WROTE MiB")]
    assert written and max(written) <= 64 + 64, written  # stopped within one scan of the bound
    assert all(passed for unit, passed, _ in graded["results"] if unit != "binary_crossentropy")
    from dlcourse.autograder.engine.runtime import runtime_root

    with leases_held(graded["uids"]):
        left = files_of(graded["uids"], ["/tmp", "/dev/shm", "/var/tmp", *map(str, runtime_root().glob("jail-*/tmp"))])
    assert left == [] and not any(Path(folder, marker).exists() for folder in ("/tmp", "/dev/shm", "/var/tmp"))
    assert jailed(graded)


@pytest.fixture
def outsider(tmp_path) -> dict:
    """A home for an unprivileged grader (uid ``OUTSIDER``), with the blank 01 notebook in it, and the
    command that runs ``dlcourse`` as that uid under the filter (with this venv's packages)."""
    home = Path(tempfile.mkdtemp(prefix="dlcourse-outsider-", dir="/var/tmp"))
    shutil.copy(ASSIGNMENTS_DIR / "01_backprop.ipynb", home / "01_backprop.ipynb")
    subprocess.run(["chown", "-R", f"{OUTSIDER}:{OUTSIDER}", str(home)], check=True)
    environment = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "DLCOURSE_SECRET": TEST_SECRET,
                   "DLCOURSE_CACHE": str(home / "cache"), "DLCOURSE_RUNTIME": str(home / "runtime"),
                   "COLUMNS": "200"}
    prefix = [*WRAPPER, "setpriv", f"--reuid={OUTSIDER}", f"--regid={OUTSIDER}", "--clear-groups", "env", "-i",
              *[f"{key}={value}" for key, value in environment.items()], SYSTEM_PYTHON, "-c",
              f"import site, sys; site.addsitedir({SITE_PACKAGES!r}); from dlcourse.cli import main; "
              "sys.exit(main(sys.argv[1:]))"]
    yield {"home": home, "dlcourse": prefix}
    shutil.rmtree(home, ignore_errors=True)


@ROOT_ONLY
@pytest.mark.skipif(not Path(SYSTEM_PYTHON).is_file(), reason="needs Debian's python3.11 for the unprivileged grader")
def test_without_root_grading_is_refused_unless_none_is_asked_for(outsider):
    """Without root there is no jail: `dlcourse grade` at the fallback level (bubblewrap cannot run in
    Docker) says so in one line and exits 2; ``--isolation none`` grades, and the report says the isolation is unsafe."""
    notebook = str(outsider["home"] / "01_backprop.ipynb")
    refused = subprocess.run([*outsider["dlcourse"], "grade", notebook, "--isolation", "fallback"],  # as in Docker
                             capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "Traceback" not in refused.stdout + refused.stderr
    assert refused.stdout == "" and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "Grading refused: no filesystem boundary" in refused.stderr and "--isolation none" in refused.stderr
    graded = subprocess.run([*outsider["dlcourse"], "grade", notebook, "--isolation", "none"], capture_output=True,
                            text=True, timeout=600)
    assert graded.returncode == 0, graded.stdout[-3000:] + graded.stderr[-3000:]
    assert "isolation none" in graded.stdout and "UNSAFE" in graded.stdout, graded.stdout[-3000:]
    assert "score: 0 / 38" in graded.stdout


def _owned_numpy(folder: Path, uid: int) -> None:
    """A copy of NumPy and pyseccomp with their metadata, owned by ``uid``: packages a grader owns."""
    folder.mkdir(parents=True)
    for name in os.listdir(SITE_PACKAGES):
        if name.split("-")[0].split(".")[0] in ("numpy", "pyseccomp"):
            source = Path(SITE_PACKAGES, name)
            (shutil.copytree if source.is_dir() else shutil.copy2)(source, folder / name)
    subprocess.run(["chown", "-R", f"{uid}:{uid}", str(folder)], check=True)


def _writable_links(runtime: Path) -> list[str]:
    """Files of ``runtime`` that are hard links (st_nlink > 1) to a file that a non-root uid could write:
    not root's, or writable by group or others."""
    found = []
    for folder, _, files in os.walk(runtime):
        for name in files:
            status = os.lstat(os.path.join(folder, name))
            if status.st_nlink > 1 and (status.st_uid != 0 or status.st_mode & 0o022):
                found.append(os.path.join(folder, name))
    return found


BUILD = "import sys; {setup}from dlcourse.autograder.engine import runtime; print(runtime.build(False).root)"


@ROOT_ONLY
@pytest.mark.skipif(not Path(SYSTEM_PYTHON).is_file(), reason="needs Debian's python3.11 for the unprivileged grader")
def test_the_student_runtime_never_links_to_a_file_a_worker_could_write(tmp_path):
    """A non-root grader's workers run as its uid: a hard link from the runtime into its own venv once let
    a worker rewrite the venv's NumPy. A runtime holds copies, or links to root's read-only files only,
    whether the grader is root (packages owned by an instructor's uid) or not (packages of its own)."""
    home = Path(tempfile.mkdtemp(prefix="dlcourse-outsider-", dir="/var/tmp"))
    os.chmod(home, 0o755)
    try:
        _owned_numpy(home / "packages", OUTSIDER)
        as_root = subprocess.run([sys.executable, "-c", BUILD.format(setup="")], capture_output=True, text=True,
                                 timeout=600, env={**os.environ, "PYTHONPATH": str(home / "packages"),
                                                   "DLCOURSE_RUNTIME": str(tmp_path / "runtime")})
        assert as_root.returncode == 0, as_root.stderr[-3000:]
        built = Path(as_root.stdout.strip())
        assert (built / "lib" / "numpy").is_dir()
        assert _writable_links(built) == []
        (home / "own").mkdir()
        os.chown(home / "own", OUTSIDER, OUTSIDER)
        setup = f"import site; site.addsitedir({SITE_PACKAGES!r}); sys.path.insert(0, {str(home / 'packages')!r}); "
        as_outsider = subprocess.run(
            ["setpriv", f"--reuid={OUTSIDER}", f"--regid={OUTSIDER}", "--clear-groups", "env", "-i", f"HOME={home / 'own'}",
             f"DLCOURSE_RUNTIME={home / 'own' / 'runtime'}", SYSTEM_PYTHON, "-c", BUILD.format(setup=setup)],
            capture_output=True, text=True, timeout=600)
        assert as_outsider.returncode == 0, as_outsider.stderr[-3000:]
        built = Path(as_outsider.stdout.strip())
        assert (built / "lib" / "numpy").is_dir() and os.stat(built / "lib" / "numpy" / "__init__.py").st_uid == OUTSIDER
        assert _writable_links(built) == []
    finally:
        shutil.rmtree(home, ignore_errors=True)


def grade_solution_in_the_jail(tmp_path: Path, name: str) -> dict:
    report = tmp_path / "results.json"
    run = subprocess.run([*WRAPPER, DLCOURSE, "grade", str(SOLUTIONS / f"{name}.ipynb"), "--isolation", "fallback",
                          "--json", str(report)], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "DLCOURSE_SECRET": TEST_SECRET, "COLUMNS": "200"})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = json.loads(report.read_text())
    assert "filesystem boundary (chroot jail)" in results["output"], results["output"]  # the filter took effect
    return results


@ROOT_ONLY
def test_the_01_solution_scores_full_marks_in_the_jail(tmp_path):
    results = grade_solution_in_the_jail(tmp_path, "01_backprop")
    assert results["score"] == sum(test["max_score"] for test in results["tests"]) == 38


@ROOT_ONLY
@pytest.mark.slow
def test_the_09_solution_scores_full_marks_in_the_jail(tmp_path):
    results = grade_solution_in_the_jail(tmp_path, "09_gan")
    assert results["score"] == sum(test["max_score"] for test in results["tests"]) > 0
