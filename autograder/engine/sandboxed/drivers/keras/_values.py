"""What the Keras drivers send back: tensors as NumPy arrays, and the checks of what a unit returned."""

from __future__ import annotations

import numpy as np

from .._calling import wrong_type


def plain(value):
    """Tensors and NumPy values as NumPy arrays (floating ones as float64), tuples and lists item by item.

    Anything that does not convert to a numeric array is returned unchanged, so the grader can name its type.
    """
    if isinstance(value, (tuple, list)):
        items = [plain(item) for item in value]
        return tuple(items) if isinstance(value, tuple) else items
    if value is None or isinstance(value, (bool, int, float, str, dict)):
        return value
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - a symbolic tensor, or an object that is no array
        return value
    if array.dtype.kind not in "biuf":
        return value
    return array.astype(np.float64) if array.dtype.kind == "f" else array


def is_float_array(value) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def two_losses(value, name):
    """``(d_loss, g_loss)`` as plain values; a wrong type unless the unit returned two values."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise wrong_type(name, f"{name} must return (d_loss, g_loss)", value)
    return plain(value[0]), plain(value[1])


def require_model(keras, model, name):
    """``model`` when it is a ``keras.Model``; a wrong type otherwise."""
    if not isinstance(model, keras.Model):
        raise wrong_type(name, f"{name} must return a keras.Model", model)
    return model
