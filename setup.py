"""Packaging. Everything is declared in setup.cfg except the one mapping it cannot say: the
``autograder/`` folder installs as ``dlcourse.autograder`` (the top-level name ``autograder`` belongs to
another project on PyPI, and installing both would collide)."""

from setuptools import find_packages, setup

GRADER = [f"dlcourse.{name}" for name in find_packages(include=["autograder", "autograder.*"])]

setup(packages=find_packages(include=["dlcourse", "dlcourse.*"]) + GRADER,
      package_dir={"dlcourse.autograder": "autograder"})
