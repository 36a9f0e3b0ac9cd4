"""Finding what to grade in a folder of submissions, without ever stopping on an odd entry.

Layout: one folder per student (``ROOT/<student>/**``; nbgrader's ``submitted/<student>/<assignment>/``
fits), or files directly in ``ROOT`` (the student is then the file's stem). A student's notebooks are
their ``*.ipynb`` files and the notebooks inside their ``*.zip`` files (an LMS download bundle, opened
as ``dlcourse grade`` opens one). Odd entries (a folder named ``x.ipynb``, a dangling link, a FIFO,
a file that cannot be opened, a zip that is not one) are reported and skipped; a student with
nothing gradable keeps a note saying why, so every student folder gets a row in the gradebook.
"""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_ZIP_BYTES = 512 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
MAX_SUBMISSION_BYTES = 256 * 1024 * 1024  # the file as read; the notebook limit (on code) is in extract


class UnreadableError(OSError):
    """A submission the grader cannot read: an infrastructure failure, never the student's grade."""


@dataclass(frozen=True)
class Submission:
    """One notebook to grade.

    Attributes:
        path: the file it is read from: the notebook, or the zip that holds it.
        student: whose it is.
        label: its path inside the student's folder (``bundle.zip/hw/01_backprop.ipynb`` inside a zip).
        member: its name inside the zip at ``path`` (None for a plain notebook).
    """

    path: Path
    student: str
    label: str
    member: str | None = None

    @property
    def record_name(self) -> str:
        return f"{self.student}/{self.label}.json"

    @property
    def name(self) -> str:
        """The notebook's file name (what reports and assignment recognition use)."""
        return PurePosixPath(self.label).name

    def read_bytes(self) -> bytes:
        """The notebook's bytes; ``UnreadableError`` with the reason when the grader cannot read them."""
        try:
            if self.member is None:
                if os.stat(self.path).st_size > MAX_SUBMISSION_BYTES:
                    raise UnreadableError(f"{self.label} is over {MAX_SUBMISSION_BYTES // 2**20} MiB")
                return self.path.read_bytes()
            with zipfile.ZipFile(self.path) as archive, archive.open(self.member) as stream:
                data = stream.read(MAX_SUBMISSION_BYTES + 1)
                if len(data) > MAX_SUBMISSION_BYTES:
                    raise UnreadableError(f"{self.label} is over {MAX_SUBMISSION_BYTES // 2**20} MiB")
                return data
        except UnreadableError:
            raise
        except (OSError, zipfile.BadZipFile, RuntimeError, ValueError) as error:
            reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
            raise UnreadableError(f"cannot read {self.label}: {reason}") from None


@dataclass
class Discovery:
    """What a submissions folder holds.

    Attributes:
        submissions: the notebooks to grade, sorted by student and label.
        students: every student found (a folder, or a file directly in the root), sorted.
        notes: ``{student: [reason, ...]}``: entries skipped, and why a student has nothing to grade.
    """

    submissions: list[Submission] = field(default_factory=list)
    students: list[str] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)

    def note(self, student: str, text: str) -> None:
        self.notes.setdefault(student, []).append(text)


def survey(root: Path) -> Discovery:
    """Every student and notebook under ``root``; odd entries become notes, never exceptions."""
    found = Discovery()
    try:
        entries = sorted(os.scandir(root), key=lambda entry: entry.name)
    except OSError as error:
        raise ValueError(f"Expected a readable folder of submissions. Received {root} ({error.strerror})") from None
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        if entry.is_dir() and not entry.name.endswith(".ipynb"):  # a linked student folder counts
            student, own = entry.name, _walk(path, entry.name, found)
        elif entry.name.endswith((".ipynb", ".zip")):
            student = Path(entry.name).stem
            own = _file(path, student, entry.name, found)
        else:
            continue
        if student not in found.students:
            found.students.append(student)
        found.submissions += own
        if not own and not any(s.student == student for s in found.submissions):
            found.note(student, f"nothing to grade: {_what_is_there(path)}")
    found.students.sort()
    found.submissions.sort(key=lambda s: (s.student, s.label))
    return found


def discover(root: Path) -> list[Submission]:
    """Every notebook under ``root``, with its student (see ``survey`` for the notes on what was skipped)."""
    return survey(root).submissions


def notebooks_in(path: Path, scratch: Path, skipped: list[str] | None = None) -> list[tuple[Path, str]]:
    """The notebooks to grade under ``path`` (a notebook, a folder, or a zip unpacked into ``scratch``),
    each with the name reports give it (its path inside the folder or zip).

    Args:
        skipped: where to report odd entries that were left out (a folder named ``x.ipynb``, a dangling
            link, an unreadable file, a zip that is not one).
    """
    skipped = [] if skipped is None else skipped
    if not path.exists():
        raise ValueError(f"Expected a notebook, a folder or a zip. Received a path that does not exist: {path}")
    if path.is_dir():
        found = survey(path)
        submissions = found.submissions
        for student, notes in found.notes.items():
            skipped += [f"{student}: {note}" for note in notes if not note.startswith("nothing to grade")]
        def label(submission):
            return submission.label if submission.path.parent == path else f"{submission.student}/{submission.label}"
    elif path.suffix == ".zip":
        try:
            members = zip_notebooks(path)
        except ValueError as error:
            raise ValueError(f"Expected a zip archive of notebooks. Received {path}: {error}") from None
        submissions = [Submission(path, "", member, member) for member in members]
        def label(submission):
            return submission.label
    else:
        return [(path, path.name)]
    notebooks = []
    for index, submission in enumerate(submissions):
        if submission.member is None:
            notebooks.append((submission.path, label(submission)))
            continue
        try:
            data = submission.read_bytes()
        except UnreadableError as error:
            skipped.append(str(error))
            continue
        target = scratch / f"{index:05d}" / submission.name
        target.parent.mkdir(parents=True)
        target.write_bytes(data)
        notebooks.append((target, label(submission)))
    if not notebooks:
        raise ValueError(f"Expected at least one .ipynb notebook. Received none under {path}")
    return notebooks


def _walk(folder: Path, student: str, found: Discovery) -> list[Submission]:
    own = []
    for directory, subfolders, files in os.walk(folder, onerror=lambda error: found.note(
            student, f"skipped {error.filename}: {error.strerror}")):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith(".") and name != "__MACOSX")
        here = Path(directory)
        for name in sorted(subfolders):
            if name.endswith(".ipynb"):
                found.note(student, f"skipped {_label(here / name, folder)}: a folder, not a notebook")
        for name in sorted(files):
            if name.endswith((".ipynb", ".zip")) and not name.startswith("."):
                own += _file(here / name, student, _label(here / name, folder), found)
    return own


def _file(path: Path, student: str, label: str, found: Discovery) -> list[Submission]:
    """The notebooks of one ``.ipynb`` or ``.zip`` entry, or a note saying why it was skipped."""
    try:
        info = os.stat(path)  # follows links: a dangling one fails here
    except FileNotFoundError:
        found.note(student, f"skipped {label}: a link to nothing")
        return []
    except OSError as error:
        found.note(student, f"skipped {label}: {error.strerror}")
        return []
    if stat.S_ISDIR(info.st_mode):
        found.note(student, f"skipped {label}: a folder, not a notebook")
        return []
    if not stat.S_ISREG(info.st_mode):
        found.note(student, f"skipped {label}: not a regular file")
        return []
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        found.note(student, f"skipped {label}: cannot read it ({error.strerror})")
        return []
    if label.endswith(".ipynb"):
        return [Submission(path, student, label)]
    try:
        members = zip_notebooks(path)
    except ValueError as error:
        found.note(student, f"skipped {label}: {error}")
        return []
    if not members:
        found.note(student, f"{label} holds no .ipynb notebook")
    return [Submission(path, student, f"{label}/{member}", member) for member in members]


def zip_notebooks(path: Path) -> list[str]:
    """The names of the notebooks inside a zip, refusing absolute paths, '..' and zip bombs."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [info for info in archive.infolist() if info.filename.endswith(".ipynb")
                       and not info.is_dir() and "__MACOSX" not in info.filename
                       and ".ipynb_checkpoints" not in info.filename]
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValueError("not a zip archive") from None
    if len(members) > MAX_ZIP_MEMBERS or sum(info.file_size for info in members) > MAX_ZIP_BYTES:
        raise ValueError(f"more than {MAX_ZIP_MEMBERS} notebooks or {MAX_ZIP_BYTES // 2**20} MiB")
    names = []
    for info in members:
        name = PurePosixPath(info.filename)
        if not name.is_absolute() and ".." not in name.parts and info.filename not in names:
            names.append(info.filename)
    return names


def _label(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def _what_is_there(path: Path) -> str:
    """A few words on a student's entry that held no notebook: 'an empty folder', 'only 2 .py files'."""
    if not path.is_dir():
        return "no notebook in it"
    suffixes: dict[str, int] = {}
    hidden = 0
    for directory, _, files in os.walk(path):
        inside = Path(directory).relative_to(path).parts
        for name in files:
            if name.startswith(".") or any(part.startswith(".") or part == "__MACOSX" for part in inside):
                hidden += 1  # skipped as grading skips them (.ipynb_checkpoints/, .DS_Store)
                continue
            suffix = Path(name).suffix or name
            suffixes[suffix] = suffixes.get(suffix, 0) + 1
    if not suffixes and not hidden:
        return "an empty folder"
    listed = [f"{count} {suffix}" for suffix, count in sorted(suffixes.items())]
    listed += [f"{hidden} hidden file{'s' if hidden > 1 else ''}, skipped"] if hidden else []
    if ".ipynb" in suffixes:
        return f"no notebook that could be read (found {', '.join(listed)}; see the notes)"
    return f"no .ipynb notebook (found {', '.join(listed)})"
