"""The one door to Keras: quiet, lazy, and pinned to the backend the grader asked for.

Importing ``dlcourse`` never imports Keras; the first reference call does (2-3 s on TensorFlow).
"""

from __future__ import annotations

import os

# TensorFlow's start-up chatter off; float64 allowed on JAX; TensorFlow unless the user chose a backend.
QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0", "KERAS_BACKEND": "tensorflow",
                     "JAX_ENABLE_X64": "1"}


def keras():
    """Return the ``keras`` module, imported with TensorFlow's start-up chatter turned off.

    The backend is ``$KERAS_BACKEND`` (tensorflow, jax or torch), read once, when Keras is imported.

    nbgrader scores a cell that writes to stderr as 0, so the quiet settings matter in notebooks.
    """
    for key, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    import keras as keras_module

    _keep_float64(keras_module)
    return keras_module


def _keep_float64(keras_module) -> None:
    """Let float64 stay float64 on JAX and PyTorch, as it does on TensorFlow.

    Keras 3.15's type promotion turns every float64 result into float32 on backends other than
    TensorFlow ("to be aligned with JAX's default behavior", ``BIT64_TO_BIT32_DTYPE`` in
    ``keras/src/backend/common/dtypes.py``), so ``ops.tanh`` of a float64 array is float32 there.
    References must be float64 to grade float64 work at rtol 1e-6, so the grader keeps float64.
    """
    if keras_module.backend.backend() == "tensorflow":
        return
    from keras.src.backend.common import dtypes

    table = getattr(dtypes, "BIT64_TO_BIT32_DTYPE", None)
    if not isinstance(table, dict):
        raise RuntimeError(f"Expected Keras 3.15's dtype table. Received keras {keras_module.__version__} without it: "
                           "check that float64 references still work on this backend.")
    table["float64"] = "float64"


def backend() -> str:
    """The Keras backend the references run on ("tensorflow", "jax" or "torch")."""
    return keras().backend.backend()
