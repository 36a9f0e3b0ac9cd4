"""The isolation levels (``levels.py``): what grading resolves each to, and what each command offers."""

from __future__ import annotations

import argparse

import pytest

from dlcourse.autograder.engine.levels import LEVELS, WITH_A_BOUNDARY
from dlcourse.autograder.engine.sandbox import bwrap_available, resolve_isolation
from dlcourse.cli import build_parser


def isolation_choices(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], tuple]:
    """``{(command, subcommand...): choices of --isolation}`` for every command of ``parser`` that has the option."""
    found = {}
    for action in parser._actions:
        if "--isolation" in action.option_strings:
            found[path] = tuple(action.choices)
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found |= isolation_choices(sub, (*path, name))
    return found


def test_the_levels_are_auto_bwrap_fallback_and_none_and_only_none_lacks_a_boundary():
    assert LEVELS == ("auto", "bwrap", "fallback", "none")
    assert WITH_A_BOUNDARY == ("auto", "bwrap", "fallback")


def test_auto_resolves_to_bubblewrap_where_it_works_else_fallback(monkeypatch):
    monkeypatch.delenv("DLCOURSE_ISOLATION", raising=False)
    expected = "bwrap" if bwrap_available() else "fallback"
    assert resolve_isolation() == resolve_isolation("auto") == resolve_isolation(" AUTO ") == expected


def test_the_environment_names_the_level_when_no_argument_does(monkeypatch):
    monkeypatch.setenv("DLCOURSE_ISOLATION", "none")
    assert resolve_isolation() == "none"
    assert resolve_isolation("fallback") == "fallback"  # an argument wins over the environment


@pytest.mark.parametrize("asked", ["sandbox", "off", "chroot"])
def test_a_level_that_is_not_one_is_refused_naming_every_level(asked):
    with pytest.raises(ValueError) as refused:
        resolve_isolation(asked)
    assert str(refused.value) == f"Expected isolation among auto, bwrap, fallback, none. Received {asked!r}."


def test_every_grading_command_offers_every_level_and_a_gradescope_build_none_without_a_boundary():
    offered = isolation_choices(build_parser())
    assert offered.pop(("gradescope", "build")) == WITH_A_BOUNDARY
    assert {"grade", "check", "doctor", "grade-batch"} <= {path[0] for path in offered}, offered
    assert set(offered.values()) == {LEVELS}, offered
    with pytest.raises(SystemExit):
        build_parser().parse_args(["gradescope", "build", "--isolation", "none"])
