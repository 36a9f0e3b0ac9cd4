"""Which protections are in force on this machine, at an isolation level: for ``dlcourse doctor``
and for every report (terminal table, Gradescope JSON ``output``, HTML feedback).

Each protection is detected, not assumed: the confinement layers are read from a probe worker,
started exactly as a grading worker is but before any student code exists, so its answer is
trustworthy. A layer is in force only when the probe tried what it must stop and failed
(``confine.prove``): a filter that loaded is not proof, a kernel feature it does not cover (io_uring
makes sockets without ``socket()``) is a way around it.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

SECCOMP = "seccomp: no sockets, io_uring or SysV IPC"
LANDLOCK = "Landlock: files confined"
LAYERS = ("no_new_privs", "seccomp", "landlock")


@dataclass(frozen=True)
class Protection:
    """One layer of the sandbox: whether it holds here, and what it means either way."""

    name: str
    active: bool
    detail: str


def protections(sandbox, layers: dict[str, str] | None = None) -> list[Protection]:
    """Every protection of ``sandbox`` (a ``Sandbox``), in force or not, in a fixed order.

    ``layers``: the probe's answer (``confine.prove``); by default a probe worker of ``sandbox``'s
    level is started and asked (once per process)."""
    root = os.geteuid() == 0
    if layers is None:
        layers = _probe(sandbox.isolation, sandbox.frameworks)
    found = [
        Protection("namespaces (bubblewrap)", sandbox.isolation == "bwrap",
                   "own filesystem view, PID, network, IPC and UTS namespaces" if sandbox.isolation == "bwrap"
                   else _why_no_bwrap() + " (isolation: fallback)"),
        Protection("unprivileged uid per worker", root,
                   "each worker runs as a leased uid of its own (setpriv), with a process limit (fork bombs)"
                   if root else "the grader is not root: the worker keeps your uid and the process limit "
                                "(fork bombs) is not enforced"),
        Protection("processes killed after grading", root,
                   "every process of the worker's uid, setsid daemons included, is killed and every SysV "
                   "IPC object of that uid removed before a score is written" if root
                   else "without a uid of its own, a process that calls setsid can outlive grading"),
        Protection("student runtime", True,
                   "only NumPy" + (", Keras and its backend are" if sandbox.frameworks else " is") +
                   " importable: resolved from package metadata, never the grader's packages"),
        Protection("no_new_privs", layers.get("no_new_privs", "").startswith("on"),
                   layers.get("no_new_privs", "not probed")),
        Protection(SECCOMP, layers.get("seccomp", "").startswith("on"), layers.get("seccomp", "not probed")),
        Protection(LANDLOCK, layers.get("landlock", "").startswith("on"),
                   layers.get("landlock", "not probed")),
        Protection(f"filesystem boundary ({sandbox.boundary_name})", sandbox.isolation != "none", sandbox.boundary),
    ]
    return found


def _why_no_bwrap() -> str:
    from dlcourse.autograder.engine.sandbox import bwrap_available

    if not shutil.which("bwrap"):
        return "bubblewrap is not installed"
    if not bwrap_available():
        return "bubblewrap cannot create its namespaces here"
    return "fallback was asked for"


def missing(sandbox) -> list[str]:
    """The protections that matter here and do not hold, as sentences for reports."""
    found = {item.name: item for item in protections(sandbox)}
    lines = []
    if not found["unprivileged uid per worker"].active:
        lines.append(found["unprivileged uid per worker"].detail)
        lines.append(found["processes killed after grading"].detail)
    if sandbox.isolation == "none":
        lines.append(f"no filesystem boundary: {sandbox.boundary}")
    if sandbox.isolation in ("fallback", "none"):
        lines.append("no namespaces (isolation: fallback): student code shares this machine's process list")
        if not found[LANDLOCK].active and not sandbox.jailed:
            lines.append("no Landlock: student code can read every file its uid can read, the grader's "
                         f"installed package included ({found[LANDLOCK].detail})")
        if not found[SECCOMP].active:
            lines.append("no seccomp filter: student code can open sockets (UDP to this machine and unix "
                         "sockets too: Landlock stops only TCP), use io_uring and make SysV IPC objects"
                         + (", which are removed after grading" if found["unprivileged uid per worker"].active
                            else ", which outlive grading") + f" ({found[SECCOMP].detail})")
    return lines


def summary(sandbox) -> str:
    """One line for reports: the level and the protections in force."""
    active = [item.name for item in protections(sandbox) if item.active]
    return f"isolation {sandbox.isolation}; in force: {', '.join(active)}"


@functools.lru_cache(maxsize=None)
def _probe(isolation: str, frameworks: bool) -> dict[str, str]:
    """The confinement layers that hold in a worker at this level, each proven by its probe (cached
    per process)."""
    from dlcourse.autograder.engine.sandbox import Sandbox

    return _layers(Sandbox(frameworks=frameworks, isolation=isolation))


def holds_in(sandbox, worker) -> bool:
    """Whether ``worker`` (a ``pool.Spawned`` of ``sandbox``, just forked, no student code in it) proves every
    layer that a worker started for ``sandbox`` proves (``WorkerPool`` forks workers only then)."""
    return _layers(sandbox, worker) == _probe(sandbox.isolation, sandbox.frameworks)


def _layers(sandbox, worker=None) -> dict[str, str]:
    """The layers a probe proves in ``worker`` (default: one started for ``sandbox``). The probe gets a file it
    must not read and a folder it must not write, in a world-readable folder of the grader's temporary folder
    (where workers' scratch folders live)."""
    from dlcourse.autograder.engine.session import Failure, WorkerSession

    targets = Path(tempfile.mkdtemp(prefix="dlcourse-probe-"))
    try:
        os.chmod(targets, 0o755)
        canary, writable = targets / "canary", targets / "writable"
        canary.write_text("a file of the grader's that no worker may read\n")
        os.chmod(canary, 0o644)
        writable.mkdir()
        os.chmod(writable, 0o1777)
        with WorkerSession(sandbox, []) as session:
            reply = session.probe(worker, canary=str(canary), writable=str(writable))
    finally:
        shutil.rmtree(targets, ignore_errors=True)
    if isinstance(reply, Failure) or not isinstance(reply.get("layers"), dict):
        message = reply.message if isinstance(reply, Failure) else "no answer"
        return {name: f"off: the probe worker failed ({message})" for name in LAYERS}
    return {str(key): str(value) for key, value in reply["layers"].items()}
