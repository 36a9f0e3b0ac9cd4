"""The Keras drivers: units written with Keras (09_gan) and Keras models built by the student (06, 09).

The sandbox mounts this folder only for the assignments whose backend needs Keras, with the shared
model description (``dlcourse/references/model_spec.py``) beside these files; Keras itself is
imported when a driver runs, never when the grader imports the drivers to build requests.
"""

from __future__ import annotations

try:  # in the sandbox the shared model description is mounted here
    from . import model_spec
except ImportError:  # in the grader it is a module of the references
    from dlcourse.references import model_spec

__all__ = ["model_spec"]
