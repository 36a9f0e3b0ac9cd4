"""An nbgrader course's configuration, read exactly as nbgrader's own apps read it.

``load_course(folder)`` starts an ``NbGrader`` application from inside the course folder, which
loads ``nbgrader_config.py`` from Jupyter's config paths, the current folder and the course root
(``CourseDirectory.root``), just as ``nbgrader autograde`` does. What comes back carries the
``CourseDirectory`` (paths, ``db_url``, course id, ``student_id_exclude``) and the merged config
that nbgrader's converters and preprocessors read (``Autograde.create_student``,
``AssignLatePenalties.plugin_class``, ``LateSubmissionPlugin.penalty_method``, ...).

A configuration that cannot work (a syntax error, a database that does not exist, an assignment
the database does not know) is a ``CourseConfigError`` with one line saying what was expected and
what was found, raised before any student is touched.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url


class CourseConfigError(ValueError):
    """The course's nbgrader configuration cannot be used; the message is one line."""


@dataclass
class Course:
    """A loaded course: nbgrader's application (config and log) and its ``CourseDirectory``.

    Attributes:
        app: the ``NbGrader`` application holding the merged config; parent of every converter.
        coursedir: nbgrader's ``CourseDirectory`` (root, directory structure, ``db_url``, course id).
        messages: what nbgrader logged at WARNING or above while this course was in use.
    """

    app: object
    coursedir: object
    messages: list[str] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return Path(self.coursedir.root)

    @property
    def db_url(self) -> str:
        return self.coursedir.db_url

    def gradebook(self):
        """nbgrader's ``Gradebook`` on the configured database (a context manager)."""
        from nbgrader.api import Gradebook

        return Gradebook(self.db_url, self.coursedir.course_id)

    def submission_folder(self, student: str, assignment: str) -> Path:
        return Path(self.coursedir.format_path(self.coursedir.submitted_directory, student, assignment))

    def autograded_folder(self, student: str, assignment: str) -> Path:
        return Path(self.coursedir.format_path(self.coursedir.autograded_directory, student, assignment))

    def feedback_folder(self, student: str, assignment: str) -> Path:
        return Path(self.coursedir.format_path(self.coursedir.feedback_directory, student, assignment))


class _Collect(logging.Handler):
    """Keeps nbgrader's warnings and errors as plain lines (they go into dlcourse's summary)."""

    def __init__(self, sink: list[str]):
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(f"{record.levelname}: {record.getMessage().strip()}")


@contextlib.contextmanager
def working_directory(path: Path):
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


@contextlib.contextmanager
def course_on_path(folder: Path):
    """The course folder first on ``sys.path`` within the block, as nbgrader's apps put it for their whole run:
    a course-local plugin (``c.AssignLatePenalties.plugin_class = 'latesubmission.SubMarks'``, the file beside
    ``nbgrader_config.py``) imports as nbgrader documents it."""
    saved = list(sys.path)
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path[:] = saved


def load_course(folder: Path, assignment: str) -> Course:
    """Read ``folder``'s nbgrader configuration and check that ``assignment`` can be graded there.

    Args:
        folder: the course folder (where ``nbgrader_config.py`` is, as for nbgrader's commands).
        assignment: the assignment id, as given to ``nbgrader generate_assignment``.

    Raises:
        CourseConfigError: the folder, the config, the database or the assignment is unusable.
    """
    from nbgrader.apps.baseapp import NbGrader

    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise CourseConfigError(f"Expected an nbgrader course folder. Received a path that is not a folder: {folder}")
    messages: list[str] = []
    NbGrader.clear_instance()
    app = NbGrader()
    app.log_level = logging.WARNING
    app.raise_config_file_errors = True  # a broken config stops here, as one line, not a logged traceback
    app.log.handlers[:] = [_Collect(messages)]
    app.log.propagate = False
    saved_path = list(sys.path)
    with working_directory(folder):
        try:
            app.initialize([])
        except SystemExit:
            raise CourseConfigError(f"Expected a loadable nbgrader_config.py in {folder}. "
                                    "Received one nbgrader could not load (run `nbgrader --debug` there).") from None
        except Exception as error:  # noqa: BLE001 - a user's config file can raise anything
            cause = error.__cause__ or error.__context__ or error
            raise CourseConfigError(f"Expected a loadable nbgrader_config.py in {folder}. Received one that raised "
                                    f"{type(cause).__name__}: {_first_line(cause)}") from None
        finally:
            sys.path[:] = saved_path  # NbGrader.initialize puts the course folder first on sys.path
    course = Course(app=app, coursedir=app.coursedir, messages=messages)
    course.coursedir.assignment_id = assignment
    _check_database(course, assignment)
    return course


def _check_database(course: Course, assignment: str) -> None:
    """The configured database must exist and know the assignment (nbgrader would make an empty one)."""
    from nbgrader.api import MissingEntry

    url = course.db_url
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - sqlalchemy raises several kinds for a malformed URL
        raise CourseConfigError(f"Expected CourseDirectory.db_url to be a database URL. Received {url!r}.") from None
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not parsed.database or not path.is_file():
            raise CourseConfigError(
                f"Expected the gradebook database that CourseDirectory.db_url names to exist. Received {url} "
                f"with no file at {path} (run `nbgrader generate_assignment {assignment}` first, or fix db_url "
                f"in {course.root / 'nbgrader_config.py'}).")
    try:
        with course.gradebook() as gradebook:
            known = [item.name for item in gradebook.assignments]
            try:
                found = gradebook.find_assignment(assignment)
            except MissingEntry:
                raise CourseConfigError(
                    f"Expected an assignment that the gradebook knows ({', '.join(known) or 'none yet'}). "
                    f"Received {assignment!r} (run `nbgrader generate_assignment {assignment}`).") from None
            if not found.notebooks:
                raise CourseConfigError(f"Expected assignment {assignment!r} to have notebooks in the gradebook. "
                                        f"Received none (run `nbgrader generate_assignment {assignment}`).")
    except CourseConfigError:
        raise
    except Exception as error:  # noqa: BLE001 - sqlalchemy/alembic errors for a database that is not nbgrader's
        raise CourseConfigError(f"Expected an nbgrader gradebook at {url}. Received a database that could not "
                                f"be opened: {_first_line(error)}") from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__
