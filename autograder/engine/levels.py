"""The isolation levels, named once: grading resolves them (``sandbox.resolve_isolation``), the commands offer them
(``--isolation``), ``dlcourse doctor`` reports them. Standard library only, so a command's parser stays quick.

- ``auto``: bubblewrap where it can create its namespaces, else fallback.
- ``bwrap``: bubblewrap namespaces.
- ``fallback``: a real unprivileged uid, Landlock (or a chroot jail as root), seccomp.
- ``none``: the fallback worker without a filesystem boundary (UNSAFE; only when asked for).
"""

LEVELS = ("auto", "bwrap", "fallback", "none")
WITH_A_BOUNDARY = LEVELS[:3]  # what a Gradescope autograder may be built with: never "none"
