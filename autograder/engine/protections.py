"""Which protections are in force on this machine, at an isolation level: for ``dlcourse doctor``
and for every report (terminal table, Gradescope JSON ``output``, HTML feedback).

Each protection is detected, not assumed: the confinement layers are read from a probe worker,
started exactly as a grading worker is but before any student code exists, so its answer is
trustworthy.
"""

from __future__ import annotations

import functools
import os
import shutil
from dataclasses import dataclass


@dataclass(frozen=True)
class Protection:
    """One layer of the sandbox: whether it holds here, and what it means either way."""

    name: str
    active: bool
    detail: str


def protections(sandbox) -> list[Protection]:
    """Every protection of ``sandbox`` (a ``Sandbox``), in force or not, in a fixed order."""
    root = os.geteuid() == 0
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
                   "every process of the worker's uid, setsid daemons included, is killed before a score "
                   "is written" if root else "without a uid of its own, a process that calls setsid can "
                                             "outlive grading"),
        Protection("student runtime", True,
                   "only NumPy" + (", Keras and its backend are" if sandbox.frameworks else " is") +
                   " importable: resolved from package metadata, never the grader's packages"),
        Protection("no_new_privs", layers.get("no_new_privs", "").startswith("on"),
                   layers.get("no_new_privs", "not probed")),
        Protection("seccomp: no sockets", layers.get("seccomp", "").startswith("on"),
                   layers.get("seccomp", "not probed")),
        Protection("Landlock: files confined", layers.get("landlock", "").startswith("on"),
                   layers.get("landlock", "not probed")),
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
    if sandbox.isolation == "fallback":
        lines.append("no namespaces (isolation: fallback): student code shares this machine's process list")
        if not found["Landlock: files confined"].active:
            lines.append("no Landlock: student code can read every file its uid can read, the grader's "
                         f"installed package included ({found['Landlock: files confined'].detail})")
        if not found["seccomp: no sockets"].active and not _landlock_net(found):
            lines.append(f"no network filter: student code can open sockets ({found['seccomp: no sockets'].detail})")
    return lines


def summary(sandbox) -> str:
    """One line for reports: the level and the protections in force."""
    active = [item.name for item in protections(sandbox) if item.active]
    return f"isolation {sandbox.isolation}; in force: {', '.join(active)}"


def _landlock_net(found) -> bool:
    detail = found["Landlock: files confined"].detail
    if not detail.startswith("on (ABI "):
        return False
    return int(detail.removeprefix("on (ABI ").rstrip(")")) >= 4


@functools.lru_cache(maxsize=None)
def _probe(isolation: str, frameworks: bool) -> dict[str, str]:
    """The confinement layers a worker at this level applies to itself (cached per process)."""
    from dlcourse.autograder.engine.sandbox import Sandbox
    from dlcourse.autograder.engine.session import Failure, WorkerSession

    with WorkerSession(Sandbox(frameworks=frameworks, isolation=isolation), []) as session:
        reply = session.probe()
    if isinstance(reply, Failure) or not isinstance(reply.get("layers"), dict):
        message = reply.message if isinstance(reply, Failure) else "no answer"
        return {name: f"off: the probe worker failed ({message})" for name in ("no_new_privs", "seccomp", "landlock")}
    return {str(key): str(value) for key, value in reply["layers"].items()}
