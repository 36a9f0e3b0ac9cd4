#!/usr/bin/env python3
"""Run a command on a simulated kernel without Landlock: ``python scripts/without_landlock.py CMD [ARG...]``.

Docker's older default seccomp profile (and kernels before 5.13, or built without Landlock) answer
``landlock_create_ruleset``, ``landlock_add_rule`` and ``landlock_restrict_self`` with ENOSYS. This
script installs a seccomp filter that does exactly that (libseccomp, through ``pyseccomp``), then
executes the command in its place; every process it starts inherits the filter, so a grader run
under it, and each of its workers, finds no Landlock, as in such a container.

As root the filter is loaded with CAP_SYS_ADMIN and leaves ``no_new_privs`` unset, as Docker does;
otherwise the kernel requires ``no_new_privs``, and libseccomp sets it.

The tests of ``tests/threats/test_no_landlock.py`` run the grader under it (and `make test` runs them, in CI).
"""

from __future__ import annotations

import errno
import os
import sys

LANDLOCK_CALLS = {"landlock_create_ruleset": 444, "landlock_add_rule": 445, "landlock_restrict_self": 446}


def deny_landlock() -> None:
    """Load the filter: every Landlock system call fails with ENOSYS; everything else is allowed."""
    import pyseccomp

    rules = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    if os.geteuid() == 0:
        rules.set_attr(pyseccomp.Attr.CTL_NNP, 0)
    for name, number in LANDLOCK_CALLS.items():
        try:
            rules.add_rule(pyseccomp.ERRNO(errno.ENOSYS), name)
        except (OSError, ValueError, RuntimeError):  # a libseccomp too old to know the name (x86-64 numbers)
            rules.add_rule(pyseccomp.ERRNO(errno.ENOSYS), number)
    rules.load()


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: without_landlock.py COMMAND [ARGUMENT...]", file=sys.stderr)
        return 2
    deny_landlock()
    try:
        os.execvp(argv[0], argv)
    except OSError as error:
        print(f"without_landlock.py: cannot run {argv[0]}: {error.strerror}", file=sys.stderr)
        return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
