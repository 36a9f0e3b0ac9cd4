"""The Keras drivers: units written with Keras (09_gan) and Keras models built by the student (06, 09).

The sandbox mounts this folder only for the assignments whose backend needs Keras, with the model
description the drivers share with the references (``model_spec.py``, a module of this package both in
the sandbox and in the grader); Keras itself is imported when a driver runs, never when the grader
imports the drivers to build requests.
"""

from __future__ import annotations

from . import model_spec

__all__ = ["model_spec"]
