"""The sandboxed worker: loads a student's code and calls its units on plain inputs.

Everything in this file is untrusted once student code has run: the grader treats whatever comes
back as plain data to check, never as code or as a verdict. It imports only the standard library,
NumPy, ``wire`` and the ``drivers`` package (bound next to it), so it runs in a sandbox where
nothing else exists. How a unit is called is its driver's business: ``drivers/`` holds one module
per driver, each with its request and its execution side by side.

Protocol (see ``session.py``): requests arrive as frames on stdin, replies leave as frames on the
file descriptor named in ``argv[1]``: ``probe`` (the confinement that holds, proven), ``load`` (the student's
cells), then one ``run`` request per case (``drivers.run_case``). The student's prints go to
stdout/stderr, which the grader drains and bounds.

The same ``load`` and ``run_case`` also serve a student's live check inside Jupyter, where the
namespace is the notebook's own.
"""

from __future__ import annotations

import builtins
import linecache
import os
import signal
import sys
import threading
from collections.abc import Callable
from contextlib import contextmanager

CONFINEMENT: dict = {}  # layers applied at start-up, before any student code: see confine.py

if __name__ == "__main__":  # started as a script with -I -S: find our files and NumPy, then confine ourselves
    import json

    _SETTINGS = json.loads(sys.argv[2])
    sys.path[:0] = [os.path.dirname(os.path.abspath(__file__)), *_SETTINGS["path"]]
    import confine

    CONFINEMENT = confine.apply(_SETTINGS["read"] + _SETTINGS["path"], _SETTINGS["write"])
    try:  # the scratch folder: chroot (jail.py) starts a worker in its read-only "/"
        os.chdir(_SETTINGS["write"][0])
    except OSError:
        pass
    for _module in _SETTINGS.get("preload", ()):  # a warm worker (pool.py): what its sandbox offers every submission
        try:
            __import__(_module)
        except Exception:  # noqa: BLE001 - the student's own import will say what is wrong
            pass

if __package__:  # in the grader: modules of the engine package
    from . import drivers, wire
else:  # in the sandbox: ``wire.py`` and the ``drivers`` package sit beside this file
    import drivers
    import wire

ASSIGNMENT_SECONDS = 5.0
run_case = drivers.run_case


# ----------------------------------------------------------------------------- loading

def load(cells, assignment_seconds: float = ASSIGNMENT_SECONDS) -> dict:
    """Execute the kept statements of each cell in a fresh namespace.

    Each cell's text is registered with ``linecache`` under a file name of its own (``cell 7``), so
    ``inspect.getsource`` and autograph (``tf.function``) find a function's source wherever its
    ``def`` sits in the cell. Each assignment runs under a wall-clock budget of ``assignment_seconds``
    (the extractor keeps only assignments that call imported code, see ``extract.py``). An assignment
    that fails is not reported (it often reads data only a training cell would make), except when it ran
    past its budget: a unit that needs its name is told which statement set it (``compare.judge``).

    Args:
        cells: list of ``{"label": "cell 7", "statements": [[lineno, source], ...]}``; each
            statement is compiled on its own, so a failing import or definition costs only itself.
        assignment_seconds: the time budget of each top-level assignment.

    Returns:
        ``{"namespace": dict, "problems": [str, ...], "unavailable": [module names that failed to import]}``.
    """
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    problems, unavailable = [], []
    for cell in cells:
        filename = _register_source(cell)
        for lineno, source in cell["statements"]:
            assignment = _is_assignment(source)
            try:
                code = compile("\n" * (lineno - 1) + source, filename, "exec")
                with time_limit(assignment_seconds if assignment else None,
                                lambda: _too_slow(assignment_seconds)):
                    exec(code, namespace)  # this is the sandbox
            except ImportError as error:
                unavailable.append(str(getattr(error, "name", None) or source.strip()[:60]))
            except BaseException as error:  # noqa: BLE001 - report, keep loading
                if assignment and not isinstance(error, AssignmentTooSlow):
                    continue  # data a unit does not need (a unit that does is told which statement set it)
                first_line = source.strip().splitlines()[0][:80] if source.strip() else ""
                problems.append(f"{cell['label']}, line {lineno} `{first_line}`: {_describe(error)}")
    return {"namespace": namespace, "problems": problems, "unavailable": unavailable}


def _register_source(cell) -> str:
    """Put the cell's kept lines (others blank) in ``linecache`` under a name of its own; return the name.

    A name already registered with other text (a second notebook loaded in one process) gets a suffix,
    so functions of the first keep their source.
    """
    lines: list[str] = []
    for lineno, source in cell["statements"]:
        lines += [""] * (lineno - 1 - len(lines))
        lines[lineno - 1:] = source.split("\n")
    text = [line + "\n" for line in lines]
    filename, copy = str(cell["label"]), 1
    while filename in linecache.cache and linecache.cache[filename][2:3] != (text,):  # lazy entries are 1-tuples
        copy += 1
        filename = f"{cell['label']} (copy {copy})"
    linecache.cache[filename] = (sum(map(len, text)), None, text, filename)  # mtime None: never evicted
    return filename


def _is_assignment(source: str) -> bool:
    first = source.lstrip().split("\n", 1)[0]
    return not first.startswith(("import ", "from ", "def ", "async ", "class ", "@"))


class AssignmentTooSlow(BaseException):
    """Raised in a top-level assignment that ran past its time budget."""


@contextmanager
def time_limit(seconds: float | None, error: Callable[[], BaseException]):
    """Raise ``error()`` in the code running inside after ``seconds`` of wall-clock time (SIGALRM). No limit for
    None or 0, off the main thread, or without ``setitimer``. The one time limit of both sides: a top-level
    statement's budget here, a case's time limit in ``check()`` (``runner.in_process``)."""
    if not seconds or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expired(signum, frame):
        raise error()
    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _too_slow(seconds: float) -> AssignmentTooSlow:
    return AssignmentTooSlow(f"took longer than {seconds:g} s (top-level assignments must be quick; "
                             "compute inside a function instead)")


def _describe(error) -> str:
    return f"{type(error).__name__}: {drivers._calling.safe_str(error)}"


# ----------------------------------------------------------------------------- main loop

def main() -> None:
    reply_stream = os.fdopen(int(sys.argv[1]), "wb")
    requests = sys.stdin.buffer
    namespace: dict = {}
    worker_pid = os.getpid()
    drivers.available()  # every driver mounted here imported before any student code exists
    while True:
        payload = wire.read_frame(requests)
        if payload is None:
            return
        request = wire.decode(payload)
        if request["op"] == wire.Op.PROBE:  # asked before any student code is loaded (see protections.py)
            reply = probe(request)
        elif request["op"] == wire.Op.LOAD:
            loaded = load(request["cells"])
            namespace = loaded["namespace"]
            reply = {"status": "ok", "problems": loaded["problems"], "unavailable": loaded["unavailable"]}
        else:
            with drivers.progress.answered_by(_asking_the_grader(reply_stream, requests, worker_pid)):
                reply = run_case(namespace, request)
        if os.getpid() != worker_pid:  # a process the student forked got back here: it must not reply
            os._exit(0)
        sys.stdout.flush()
        wire.write_frame(reply_stream, wire.encode(reply))


def probe(request: dict) -> dict:
    """The confinement that holds in this worker, each layer proven by trying what it must stop
    (``confine.prove``); ``request`` may name a ``canary`` file and a ``writable`` folder, both out of
    bounds, made by the grader. Answered before any student code is loaded."""
    if __package__:
        from . import confine
    else:
        import confine

    def path(key: str) -> str | None:
        value = request.get(key)
        return value if isinstance(value, str) and value else None

    return {"status": "ok", "layers": confine.prove(CONFINEMENT, path("canary"), path("writable")),
            "applied": CONFINEMENT, "uid": os.getuid()}


def _asking_the_grader(reply_stream, requests, worker_pid):
    """A driver's progress report as a frame to the grader, and the grader's answer (see ``drivers/_progress.py``)."""
    def answer(value, at) -> bool:
        if os.getpid() != worker_pid:  # a process the student forked: it has no say
            return False
        sys.stdout.flush()
        wire.write_frame(reply_stream, wire.encode({"status": "progress", "value": value, "at": int(at)}))
        payload = wire.read_frame(requests)
        if payload is None:
            os._exit(0)  # the grader has gone
        answered = wire.decode(payload)
        return isinstance(answered, dict) and answered.get("op") == wire.Op.PROGRESS and answered.get("stop") is True
    return answer


if __name__ == "__main__":
    main()
