"""``keras_call``: a unit written with Keras, called on float32 tensors; its outputs come back as NumPy arrays.

Request: ``{"unit", "args"}``: floating NumPy arrays become ``keras.ops.convert_to_tensor(x,
"float32")`` (Keras's default float type: what a model's outputs are); other values pass unchanged.
Value: what the unit returns, every tensor in it (the value itself, or each item of a tuple or list)
a NumPy array, float64 for floating tensors (``_values.plain``).
"""

from __future__ import annotations

from .._calling import invoke, lookup
from ._values import is_float_array, plain


def run(namespace, request):
    function = lookup(namespace, request["unit"])
    import keras

    args = [(key, keras.ops.convert_to_tensor(value, "float32") if is_float_array(value) else value)
            for key, value in request["args"]]
    value, _ = invoke(function, request["unit"], args)
    return {"status": "ok", "value": plain(value), "mutated": []}
