"""Keras models as plain data, both ways: one description shared by the references and the sandboxed worker.

- ``sequential(keras, spec)``: ``{"input_dim": D, "layers": [[units, activation], ...]}`` as a
  ``Sequential`` of ``Dense`` layers (activation: a Keras name, or None for linear).
- ``optimizer(keras, spec)``: ``{"class": "Adam", "learning_rate": 0.001, ...}`` as
  ``keras.optimizers.Adam(learning_rate=0.001, ...)``.
- ``describe(model)``: a model's layers, parameter counts and weight shapes, as the grader compares
  a student's build with a reference build.
- ``dense_layers(keras, model)``: ``[[class name, units or None, activation name or None], ...]``.

It sits with the Keras drivers (``autograder/engine/sandboxed/drivers/keras/``), which the Keras
assignments' sandbox mounts, and the references import it from there; so it imports nothing (``keras``
is an argument: the references pass theirs, quiet and pinned to the grader's backend, the worker its
own) and holds no reference value: a student who reads it learns only the format. It is no driver
(it has no ``run``).
"""

from __future__ import annotations


def sequential(keras, spec: dict, dtype=None):
    """``spec`` as a ``keras.Sequential`` of ``Dense`` layers (``dtype`` None: Keras's default float32)."""
    layers = [keras.Input((int(spec["input_dim"]),), dtype=dtype)]
    layers += [keras.layers.Dense(int(units), activation=activation, dtype=dtype) for units, activation in spec["layers"]]
    return keras.Sequential(layers)


def optimizer(keras, spec: dict):
    """``{"class": name, **config}`` as ``keras.optimizers.<name>(**config)``."""
    config = dict(spec)
    return getattr(keras.optimizers, config.pop("class"))(**config)


# what an augmentation layer draws from, as the layer keeps it (a factor f is kept as (-f, f)): RandomTranslation's
# bounds, fill mode and value, interpolation; RandomBrightness's factor and value range
AUGMENTATION = ("height_lower", "height_upper", "width_lower", "width_upper", "fill_mode", "fill_value", "interpolation",
                "value_range")


def _settings(layer) -> dict:
    """An augmentation layer's settings as plain data (floats, lists of floats, strings); {} for other layers."""
    def plain(value):
        if isinstance(value, (list, tuple)):
            return [plain(item) for item in value]
        return value if isinstance(value, str) else float(value)

    found = {}
    for key in AUGMENTATION:
        value = getattr(layer, key, None)
        if isinstance(value, (int, float, str, list, tuple)) and not isinstance(value, bool):
            found[key] = plain(value)
    if "value_range" in found:  # RandomBrightness: its factor, normalised to (lower, upper) by the layer
        try:
            factor = layer.get_config().get("factor")
            found["factor"] = plain(factor if isinstance(factor, (list, tuple)) else (-abs(factor), abs(factor)))
        except Exception:  # noqa: BLE001 - a layer without a usable config: its settings say less
            pass
    return found


def describe(model) -> dict:
    """``{"layers": [{"class", "name", "output_shape", "params", "activation"?, "rate"?, "settings"?}], "params":
    total, "weight_shapes": [...]}``: a model as plain data (``output_shape`` [] for a layer never called;
    ``settings`` of augmentation layers, ``AUGMENTATION``)."""
    layers = []
    for layer in model.layers:
        entry = {"class": type(layer).__name__, "name": layer.name, "params": int(layer.count_params())}
        try:
            entry["output_shape"] = [(-1 if dim is None else int(dim)) for dim in layer.output.shape]
        except Exception:  # noqa: BLE001 - a layer that was never called
            entry["output_shape"] = []
        activation = getattr(layer, "activation", None)
        if activation is not None:
            entry["activation"] = getattr(activation, "__name__", str(activation))
        if hasattr(layer, "rate"):
            entry["rate"] = float(layer.rate)
        settings = _settings(layer)
        if settings:
            entry["settings"] = settings
        layers.append(entry)
    return {"layers": layers, "params": int(model.count_params()),
            "weight_shapes": [list(weight.shape) for weight in model.get_weights()]}


def dense_layers(keras, model) -> list:
    """``[[class name, units or None, activation name or None], ...]`` of a model's layers, inputs left out."""
    described = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        activation = getattr(layer, "activation", None)
        name = getattr(activation, "__name__", None) if activation is not None else None
        units = getattr(layer, "units", None)
        described.append([type(layer).__name__, int(units) if isinstance(units, int) else None,
                          name if isinstance(name, str) else None])
    return described
