"""The README's commands run as written from a fresh clone: each shell block that calls a command the
venv installs either activates the venv first or names ``.venv/bin/``, and every ``dlcourse`` line
parses with the real command line (each command and option exists and takes the values written)."""

from __future__ import annotations

import re
import shlex

import pytest

from conftest import ROOT
from dlcourse.cli import build_parser

VENV_COMMANDS = ("dlcourse", "nbgrader", "jupyter", "pytest")
ACTIVATE = (". .venv/bin/activate", "source .venv/bin/activate")


def shell_blocks() -> list[list[str]]:
    """The README's shell blocks (```bash, or unlabelled: the README's commands), as lists of lines."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [block.splitlines() for lang, block in re.findall(r"```(\w*)\n(.*?)```", text, re.S)
            if lang in ("", "bash", "sh", "shell", "console")]


def commands(block: list[str]) -> list[str]:
    """Each line's command without its comment (``# ...``), empty lines and prompts left out."""
    found = []
    for line in block:
        line = line.lstrip("$ ").split("  #")[0].split(" # ")[0].strip()
        if line and not line.startswith("#"):
            found.append(line)
    return found


def dlcourse_lines() -> list[str]:
    return [line for block in shell_blocks() for line in commands(block)
            if re.match(r"(\.venv[-\w]*/bin/)?dlcourse\s", line)]


def test_the_readme_has_shell_blocks_with_dlcourse_commands():
    assert len(shell_blocks()) >= 10 and len(dlcourse_lines()) >= 15


@pytest.mark.parametrize("block", shell_blocks(), ids=lambda block: (commands(block) or ["empty"])[0][:40])
def test_every_block_that_uses_the_venv_activates_it_or_names_it(block):
    lines = commands(block)
    bare = [line for line in lines if line.split()[0] in VENV_COMMANDS]
    if bare:
        assert lines[0] in ACTIVATE or any(line.startswith(ACTIVATE) for line in lines[:1]), (
            f"this README block runs {bare[0]!r} without activating the venv first (start it with "
            f"'. .venv/bin/activate') or naming .venv/bin/")


@pytest.mark.parametrize("line", dlcourse_lines())
def test_every_dlcourse_line_of_the_readme_parses(line):
    words = shlex.split(line)[1:]
    words = [word for word in words if word not in ("|", "&&")][: words.index("|") if "|" in words else None]
    try:
        args = build_parser().parse_args(words)
    except SystemExit as exit:
        pytest.fail(f"the README's `{line}` does not parse (exit {exit.code})")
    assert callable(args.func)
