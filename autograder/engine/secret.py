"""The grader's secret: the seed material of hidden cases. It never enters a sandbox.

Instructors set ``DLCOURSE_SECRET`` (the same value on every grading machine of a course, so
hidden cases are the same for every student); otherwise one is made once per machine and kept in
the user's config folder (``platformdirs``: ``$XDG_CONFIG_HOME/dlcourse/secret``, by default
``~/.config/dlcourse/secret`` on Linux), mode 0600.
"""

from __future__ import annotations

import os
import secrets


def grader_secret() -> str:
    value = os.environ.get("DLCOURSE_SECRET")
    if value:
        return value
    import platformdirs

    path = platformdirs.user_config_path("dlcourse") / "secret"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as stream:
            stream.write(secrets.token_hex(32))
        try:
            os.link(temporary, path)  # the first writer wins; everyone reads the same secret
        except FileExistsError:
            pass
        os.unlink(temporary)
    return path.read_text().strip()
