"""The templates in ``autograder/course/templates/`` (shipped as package data), rendered with jinja2.

HTML templates are autoescaped: a student's unit name or a message quoting their output is text,
never markup. Shell templates are not; a value put into one goes through the ``shell`` filter
(``shlex.quote``).
"""

from __future__ import annotations

import functools
import shlex


@functools.cache
def _environment():
    import jinja2  # on first use: only feedback and ``gradescope build`` render templates

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("dlcourse.autograder.course", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["shell"] = lambda value: shlex.quote(str(value))
    environment.filters["points"] = lambda value: f"{float(value):g}"
    return environment


def render(name: str, **context) -> str:
    """The template ``name`` filled with ``context``."""
    return _environment().get_template(name).render(**context)
