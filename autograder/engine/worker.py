"""The sandboxed worker: loads a student's code and calls its units on plain inputs.

Everything in this file is untrusted once student code has run: the grader treats whatever comes
back as plain data to check, never as code or as a verdict. It imports only the standard library,
NumPy and ``wire`` (bound next to it), so it runs in a sandbox where nothing else exists.

Protocol (see ``session.py``): requests arrive as frames on stdin, replies leave as frames on the
file descriptor named in ``argv[1]``. The student's prints go to stdout/stderr, which the grader
drains and bounds.

The same ``load`` and ``run_case`` also serve a student's live check inside Jupyter, where the
namespace is the notebook's own.
"""

from __future__ import annotations

import builtins
import linecache
import os
import signal
import sys
import threading
import traceback

CONFINEMENT: dict = {}  # layers applied at start-up, before any student code: see confine.py

if __name__ == "__main__":  # started as a script with -I -S: find ``wire`` and NumPy, then confine ourselves
    import json

    _SETTINGS = json.loads(sys.argv[2])
    sys.path[:0] = [os.path.dirname(os.path.abspath(__file__)), *_SETTINGS["path"]]
    import confine

    CONFINEMENT = confine.apply(_SETTINGS["read"] + _SETTINGS["path"], _SETTINGS["write"])

import numpy as np  # noqa: E402

try:  # inside the sandbox ``wire`` sits beside this file; in the grader it is a package module
    import wire
except ImportError:  # pragma: no cover - exercised in the grader process
    from autograder.engine import wire

CELL_PREFIX = "cell "
ASSIGNMENT_SECONDS = 5.0


# ----------------------------------------------------------------------------- loading

def load(cells, assignment_seconds: float = ASSIGNMENT_SECONDS) -> dict:
    """Execute the kept statements of each cell in a fresh namespace.

    Each cell's text is registered with ``linecache`` under a file name of its own (``cell 7``), so
    ``inspect.getsource`` and autograph (``tf.function``) find a function's source wherever its
    ``def`` sits in the cell. Each assignment runs under a wall-clock budget of ``assignment_seconds``
    (the extractor keeps only assignments that call imported code, see ``extract.py``). An assignment
    that fails is not reported (it often reads data only a training cell would make), except when it ran
    past its budget: a unit that needs its name is told which statement set it (``compare.judge``).

    Args:
        cells: list of ``{"label": "cell 7", "statements": [[lineno, source], ...]}``; each
            statement is compiled on its own, so a failing import or definition costs only itself.
        assignment_seconds: the time budget of each top-level assignment.

    Returns:
        ``{"namespace": dict, "problems": [str, ...], "unavailable": [module names that failed to import]}``.
    """
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    problems, unavailable = [], []
    for cell in cells:
        filename = _register_source(cell)
        for lineno, source in cell["statements"]:
            assignment = _is_assignment(source)
            try:
                code = compile("\n" * (lineno - 1) + source, filename, "exec")
                with _budget(assignment_seconds if assignment else None):
                    exec(code, namespace)  # noqa: S102 - this is the sandbox
            except ImportError as error:
                unavailable.append(str(getattr(error, "name", None) or source.strip()[:60]))
            except BaseException as error:  # noqa: BLE001 - report, keep loading
                if assignment and not isinstance(error, AssignmentTooSlow):
                    continue  # data a unit does not need (a unit that does is told which statement set it)
                first_line = source.strip().splitlines()[0][:80] if source.strip() else ""
                problems.append(f"{cell['label']}, line {lineno} `{first_line}`: {_describe(error)}")
    return {"namespace": namespace, "problems": problems, "unavailable": unavailable}


def _register_source(cell) -> str:
    """Put the cell's kept lines (others blank) in ``linecache`` under a name of its own; return the name.

    A name already registered with other text (a second notebook loaded in one process) gets a suffix,
    so functions of the first keep their source.
    """
    lines: list[str] = []
    for lineno, source in cell["statements"]:
        lines += [""] * (lineno - 1 - len(lines))
        lines[lineno - 1:] = source.split("\n")
    text = [line + "\n" for line in lines]
    filename, copy = str(cell["label"]), 1
    while filename in linecache.cache and linecache.cache[filename][2:3] != (text,):  # lazy entries are 1-tuples
        copy += 1
        filename = f"{cell['label']} (copy {copy})"
    linecache.cache[filename] = (sum(map(len, text)), None, text, filename)  # mtime None: never evicted
    return filename


def _is_assignment(source: str) -> bool:
    first = source.lstrip().split("\n", 1)[0]
    return not first.startswith(("import ", "from ", "def ", "async ", "class ", "@"))


class AssignmentTooSlow(BaseException):
    """Raised in a top-level assignment that ran past its time budget."""


class _budget:  # noqa: N801 - used as ``with _budget(seconds):``
    """A wall-clock limit on the statement inside (SIGALRM; no limit off the main thread or for None)."""

    def __init__(self, seconds):
        self.seconds = seconds if seconds and threading.current_thread() is threading.main_thread() \
            and hasattr(signal, "setitimer") else None

    def __enter__(self):
        if self.seconds:
            def expired(signum, frame):
                raise AssignmentTooSlow(f"took longer than {self.seconds:g} s (top-level assignments must be quick; "
                                  "compute inside a function instead)")
            self._previous = signal.signal(signal.SIGALRM, expired)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        if self.seconds:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)


# ----------------------------------------------------------------------------- running

def run_case(namespace: dict, request: dict) -> dict:
    """Call one unit as ``request["driver"]`` says and return a plain reply.

    Replies: ``{"status": "ok", "value": ..., "mutated": [names]}``, ``{"status": "missing",
    "name": ...}``, or ``{"status": "error", "type": ..., "message": ..., "traceback": ..., "during": ...}``.
    """
    driver = _DRIVERS[request["driver"]]
    try:
        return driver(namespace, request)
    except _Missing as missing:
        return {"status": "missing", "name": missing.name}
    except _StudentError as failure:
        return failure.reply
    except BaseException as error:  # noqa: BLE001 - a worker bug or a student's patched NumPy
        return _error_reply(error, during=request["unit"])


def _call(namespace, request):
    function = _lookup(namespace, request["unit"])
    args = request["args"]
    value, mutated = _invoke(function, request["unit"], args)
    return {"status": "ok", "value": value, "mutated": mutated}


def _forward_backward(namespace, request):
    """``out, cache = forward(*args)``; ``value = backward(dout, cache)``."""
    forward = _lookup(namespace, request["forward"])
    backward = _lookup(namespace, request["unit"])
    forward_result, mutated = _invoke(forward, request["forward"], request["args"])
    if not isinstance(forward_result, tuple) or len(forward_result) != 2:
        return {"status": "error", "type": "TypeError", "during": request["forward"], "traceback": "",
                "message": f"{request['forward']} must return a tuple (out, cache); "
                           f"received {wire._type_name(forward_result)}"}
    value, mutated_dout = _invoke(backward, request["unit"], [("dout", request["dout"]), ("cache", forward_result[1])])
    reply = {"status": "ok", "value": value, "mutated": mutated + mutated_dout}
    if request.get("keep_forward"):  # the "rng_probe" driver checks the backward against this forward's output
        reply["forward"] = forward_result[0]
    return reply


def _numerical_gradient(namespace, request):
    """``value = numerical_gradient(f, x, h)`` for a known test function ``f`` of ``x``."""
    function = _lookup(namespace, request["unit"])
    f = TEST_FUNCTIONS[request["function"]](**request["params"])
    args = [("f", f)] + request["args"]
    value, mutated = _invoke(function, request["unit"], args)
    return {"status": "ok", "value": value, "mutated": mutated}


def _steps(namespace, request):
    """Optimizers stepped K times each, interleaved: ``w, config = update(w, dws[k], config)``.

    ``args`` are ``w`` (any shape), ``dws`` (K, *w.shape) and ``config`` (a dict), and optionally
    ``partner``: ``{"w", "dws", "config"}`` of a second optimizer with its own config. With a partner,
    three instances are stepped in turn (the primary, the partner, and a copy of the primary one step
    behind), each call on fresh copies of ``w`` and ``config``: a unit whose result depends on anything
    but its arguments (state kept outside ``config``) gives the copy other weights than the primary.
    The value is ``{"weights": (K, *w.shape) array of w after each step, "configs": [config after each
    step]}`` for the primary, plus ``"partner"`` and ``"copy"`` (the same keys) when a partner was given.
    """
    update = _lookup(namespace, request["unit"])
    args = dict(request["args"])
    instances = [{"w": args["w"], "dws": args["dws"], "config": args["config"]}]
    partner = args.get("partner")
    if partner is not None:
        instances += [dict(partner), {"w": args["w"], "dws": args["dws"], "config": args["config"]}]
    order = _interleaving([len(instance["dws"]) for instance in instances])
    records = [{"weights": [], "configs": []} for _ in instances]
    mutated = set()
    for index, k in order:
        instance, record = instances[index], records[index]
        w, config = _fresh(instance["w"]), _fresh(instance["config"])
        value, changed = _invoke(update, request["unit"], [("w", w), ("dw", instance["dws"][k]), ("config", config)])
        mutated.update(changed)
        if not isinstance(value, tuple) or len(value) != 2:
            return {"status": "error", "type": "TypeError", "during": request["unit"], "traceback": "",
                    "message": f"step {k + 1}: {request['unit']} must return (next_w, config); "
                               f"received {wire._type_name(value)}"}
        instance["w"], instance["config"] = value
        record["weights"].append(_fresh(value[0]))
        record["configs"].append(_fresh(value[1]))
    for record in records:
        if all(isinstance(item, np.ndarray) for item in record["weights"]) and record["weights"]:
            record["weights"] = np.stack(record["weights"])
    value = records[0]
    if partner is not None:
        value = {**records[0], "partner": records[1], "copy": records[2]}
    return {"status": "ok", "value": value, "mutated": sorted(mutated)}


def _interleaving(counts):
    """``(instance, step)`` pairs: instances in turn, the third (a copy of the first) one step behind."""
    order, next_step = [], [0] * len(counts)
    rounds = max(counts) + 1
    for _ in range(rounds):
        for index, count in enumerate(counts):
            if index == 2 and next_step[0] < 2 and next_step[2] == 0:
                continue  # the copy starts after the primary's second step
            if next_step[index] < count:
                order.append((index, next_step[index]))
                next_step[index] += 1
    for index, count in enumerate(counts):  # whatever the lag left over
        order += [(index, k) for k in range(next_step[index], count)]
    return order


def _fresh(value):
    """A copy of an array, or of a dict's arrays (so state cannot hide in an object's identity)."""
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    if isinstance(value, dict):
        return {key: _fresh(item) for key, item in value.items()}
    return value


def _keras_model(namespace, request):
    """Build a Keras model with the student's function and describe it as plain data.

    Optional request keys: ``set_weights`` (list of arrays, in ``model.get_weights()`` order) and
    ``predict`` (an input batch). The value is ``{"layers": [{"class", "name", "output_shape",
    "params", "activation"?, "rate"?}], "params": total, "weight_shapes": [...], "output"?: array}``.
    Only used in assignments whose sandbox may import Keras.
    """
    build = _lookup(namespace, request["unit"])
    model, _ = _invoke(build, request["unit"], request["args"])
    import keras  # noqa: PLC0415 - only the Keras assignments get here

    if not isinstance(model, keras.Model):
        return {"status": "error", "type": "TypeError", "during": request["unit"], "traceback": "",
                "message": f"{request['unit']} must return a keras.Model; received {wire._type_name(model)}"}
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
        layers.append(entry)
    value = {"layers": layers, "params": int(model.count_params()),
             "weight_shapes": [list(weight.shape) for weight in model.get_weights()]}
    try:
        if request.get("set_weights") is not None:
            model.set_weights(request["set_weights"])
        if request.get("predict") is not None:
            value["output"] = np.asarray(model(request["predict"], training=False), dtype=np.float64)
    except BaseException as error:  # noqa: BLE001
        return _error_reply(error, during=request["unit"])
    return {"status": "ok", "value": value, "mutated": []}


# ----------------------------------------------------------------------------- Keras units (09_gan)

def _keras_call(namespace, request):
    """A unit written with Keras, called on float32 tensors; its outputs come back as NumPy arrays.

    ``args``: floating NumPy arrays become ``keras.ops.convert_to_tensor(x, "float32")`` (Keras's
    default float type: what a model's outputs are); other values pass unchanged. The value is what
    the unit returns, with every tensor in it (the value itself, or each item of a tuple or list)
    turned into a NumPy array, float64 for floating tensors (see ``_plain``).
    """
    function = _lookup(namespace, request["unit"])
    import keras  # noqa: PLC0415 - only the Keras assignments get here

    args = [(key, keras.ops.convert_to_tensor(value, "float32") if _is_float_array(value) else value)
            for key, value in request["args"]]
    value, _ = _invoke(function, request["unit"], args)
    return {"status": "ok", "value": _plain(value), "mutated": []}


def _gan_step(namespace, request):
    """One GAN training step by the student's unit, on Keras models built here from a plain spec.

    ``args`` (all plain data):
        generator, discriminator: ``{"input_dim": D, "layers": [[units, activation], ...]}``: a
            ``Sequential`` of ``Dense`` layers (activation: a Keras name, or None for linear).
        g_weights, d_weights: their initial weights in ``get_weights()`` order: lists of arrays, or
            dicts of them (the names are for messages only).
        g_optimizer, d_optimizer: ``{"class": "SGD", **config}``: a ``keras.optimizers`` class and its arguments.
        real: (N, data_dim) and noise: (N, latent_dim), passed as float32 tensors.

    Calls ``unit(generator, discriminator, g_optimizer, d_optimizer, real, noise) -> (d_loss, g_loss)``
    once, eagerly (a unit the student compiled with ``tf.function`` runs from its Python function:
    its traces would hold on to another case's optimizer variables). The value is ``(d_loss, g_loss,
    generator weights, discriminator weights)``: the losses as the unit returned them (tensors made
    NumPy), the weights after the step as lists of float64 arrays in ``get_weights()`` order.
    """
    step = _lookup(namespace, request["unit"])
    step = getattr(step, "python_function", step)
    import keras  # noqa: PLC0415

    args = dict(request["args"])
    generator, discriminator = _sequential(keras, args["generator"]), _sequential(keras, args["discriminator"])
    for model, weights in ((generator, args["g_weights"]), (discriminator, args["d_weights"])):
        model.set_weights(list(weights.values()) if isinstance(weights, dict) else weights)
    call = [("generator", generator), ("discriminator", discriminator),
            ("g_optimizer", _optimizer(keras, args["g_optimizer"])),
            ("d_optimizer", _optimizer(keras, args["d_optimizer"])),
            ("real", keras.ops.convert_to_tensor(args["real"], "float32")),
            ("noise", keras.ops.convert_to_tensor(args["noise"], "float32"))]
    value, _ = _invoke(step, request["unit"], call)
    losses = _two_losses(value, request["unit"])
    weights = [[np.asarray(w, dtype=np.float64) for w in model.get_weights()] for model in (generator, discriminator)]
    return {"status": "ok", "value": (*losses, *weights), "mutated": []}


def _gan_train(namespace, request):
    """Train a GAN with the student's builders and step; return samples of the trained generator.

    ``request["builders"]``: the names of the generator's and the discriminator's builder units.
    ``args`` (all plain data):
        generator_args, discriminator_args: lists of values the builders are called with.
        g_optimizer, d_optimizer: as for "gan_step".
        seed: for ``keras.utils.set_random_seed`` before building, so initial weights are reproducible.
        real: (S, N, data_dim) and noise: (S, N, latent_dim): the batches of each of the S steps.
        sample_noise: (M, latent_dim): what the trained generator is asked to map.

    The step runs compiled with ``tf.function``, as Keras's own ``fit`` runs a ``train_step`` (eager
    Keras is some 40x slower). The value is ``(samples (M, data_dim), d_losses (S,), g_losses (S,),
    untrained (M, data_dim), layers, change)``, float64: ``untrained`` are the generator's samples of
    ``sample_noise`` before the first step, ``layers`` describes the generator that was trained
    (``[[class name, units or None, activation name or None], ...]``, input layers left out), and
    ``change`` is the largest absolute change of any generator weight over the training.
    """
    step = _lookup(namespace, request["unit"])
    build_generator, build_discriminator = (_lookup(namespace, name) for name in request["builders"])
    import keras  # noqa: PLC0415
    import tensorflow as tf  # noqa: PLC0415 - the TensorFlow backend's compiler

    args = dict(request["args"])
    keras.utils.set_random_seed(int(args["seed"]))
    models = []
    for build, name, key in ((build_generator, request["builders"][0], "generator_args"),
                             (build_discriminator, request["builders"][1], "discriminator_args")):
        model, _ = _invoke(build, name, [(str(index), value) for index, value in enumerate(args[key])])
        if not isinstance(model, keras.Model):
            return {"status": "error", "type": "TypeError", "during": name, "traceback": "",
                    "message": f"{name} must return a keras.Model; received {wire._type_name(model)}"}
        models.append(model)
    generator, discriminator = models
    sample_noise = tf.constant(args["sample_noise"], tf.float32)
    untrained = np.asarray(generator(sample_noise, training=False), dtype=np.float64)
    initial = [np.array(weight, dtype=np.float64) for weight in generator.get_weights()]
    g_optimizer, d_optimizer = _optimizer(keras, args["g_optimizer"]), _optimizer(keras, args["d_optimizer"])
    compiled = tf.function(getattr(step, "python_function", step))  # compiled afresh, as for "gan_step"
    steps = len(args["real"])
    history = []
    for index in range(steps):
        call = [("generator", generator), ("discriminator", discriminator), ("g_optimizer", g_optimizer),
                ("d_optimizer", d_optimizer), ("real", tf.constant(args["real"][index], tf.float32)),
                ("noise", tf.constant(args["noise"][index], tf.float32))]
        try:
            value, _ = _invoke(compiled, request["unit"], call)
        except _StudentError as failure:
            failure.reply["traceback"] = (f"At step {index + 1} of {steps}, run inside tf.function as the grader runs "
                                          "it (use tensor operations only: no .numpy() or "
                                          "float() on tensors):\n" + failure.reply["traceback"])
            raise
        history.append(value)
    losses = [_two_losses(value, request["unit"]) for value in history]
    samples = np.asarray(generator(sample_noise, training=False), dtype=np.float64)
    d_losses = np.array([float(np.mean(d)) for d, _ in losses]) if losses else np.zeros(0)
    g_losses = np.array([float(np.mean(g)) for _, g in losses]) if losses else np.zeros(0)
    final = [np.asarray(weight, dtype=np.float64) for weight in generator.get_weights()]
    change = max((float(np.max(np.abs(after - before))) for before, after in zip(initial, final)
                  if before.shape == after.shape and before.size), default=0.0)
    if len(final) != len(initial) or any(before.shape != after.shape for before, after in zip(initial, final)):
        change = float("inf")  # the generator was rebuilt: not what its builder made
    return {"status": "ok", "value": (samples, d_losses, g_losses, untrained, _layers_of(keras, generator), change),
            "mutated": []}


def _layers_of(keras, model) -> list:
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


def _sequential(keras, spec):
    """``{"input_dim": D, "layers": [[units, activation], ...]}`` as a float32 ``keras.Sequential``."""
    layers = [keras.Input((int(spec["input_dim"]),))]
    layers += [keras.layers.Dense(int(units), activation=activation) for units, activation in spec["layers"]]
    return keras.Sequential(layers)


def _optimizer(keras, spec):
    """``{"class": "Adam", "learning_rate": 0.001, ...}`` as a ``keras.optimizers.Adam(learning_rate=0.001, ...)``."""
    config = dict(spec)
    return getattr(keras.optimizers, config.pop("class"))(**config)


def _two_losses(value, name):
    """``(d_loss, g_loss)`` as plain values, or a student error saying what was returned instead."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise _StudentError({"status": "error", "type": "TypeError", "during": name, "traceback": "",
                             "message": f"{name} must return (d_loss, g_loss); received {wire._type_name(value)}"})
    return _plain(value[0]), _plain(value[1])


def _is_float_array(value) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def _plain(value):
    """Tensors and NumPy values as NumPy arrays (floating ones as float64), tuples and lists item by item.

    Anything that does not convert to a numeric array is returned unchanged, so the grader can name its type.
    """
    if isinstance(value, (tuple, list)):
        items = [_plain(item) for item in value]
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


def _rng_probe(namespace, request):
    """One unit run several times through its own driver, each time with a generator the worker makes.

    ``request["inner"]``: the request the unit's case would send alone; ``request["rng_arg"]``: the name
    of its generator argument; ``request["runs"]``: ``[[seed, global_seed], ...]``, or ``[seed,
    global_seed, {argument: value}]`` for a run with some other arguments. Before each run NumPy's
    global state is seeded with ``global_seed``, and the argument becomes ``numpy.random.default_rng(seed)``. The value is ``{"runs": [each run's value], "forward": [each
    run's forward output, or None], "after": [a draw from each generator after its run], "global":
    [whether each run changed NumPy's global state]}``: the grader
    compares them to tell whether the unit uses its generator, and only it.
    """
    inner, name = request["inner"], request["rng_arg"]
    runs, forwards, after, touched, mutated = [], [], [], [], set()
    saved = np.random.get_state()  # a live check() in a notebook leaves the student's global state as it was
    try:
        for seed, global_seed, *changes in request["runs"]:
            np.random.seed(int(global_seed))
            seeded = np.random.get_state()
            rng = np.random.default_rng(int(seed))
            changed = changes[0] if changes and isinstance(changes[0], dict) else {}
            args = [(key, rng if key == name else changed.get(key, value)) for key, value in inner["args"]]
            reply = run_case(namespace, {**inner, "args": args, "keep_forward": True})
            if reply.get("status") != "ok":
                return reply
            runs.append(reply["value"])
            forwards.append(reply.get("forward"))
            mutated.update(reply.get("mutated") or [])
            after.append(float(rng.random()))
            state = np.random.get_state()
            touched.append(not (np.array_equal(state[1], seeded[1]) and state[2:] == seeded[2:]))
    finally:
        np.random.set_state(saved)
    return {"status": "ok", "value": {"runs": runs, "forward": forwards, "after": after, "global": touched},
            "mutated": sorted(mutated)}


_DRIVERS = {"call": _call, "forward_backward": _forward_backward, "numerical_gradient": _numerical_gradient,
            "steps": _steps, "keras_model": _keras_model, "keras_call": _keras_call, "gan_step": _gan_step,
            "gan_train": _gan_train, "rng_probe": _rng_probe}


def cubic_sine(c, d):
    """``f(x) = sum(c*sin(x)) + sum(d*x**3)/3 + (sum x)**2 / 2`` for arrays of any shape."""
    def f(x):
        return float(np.sum(c * np.sin(x)) + np.sum(d * x ** 3) / 3 + np.sum(x) ** 2 / 2)
    return f


TEST_FUNCTIONS = {"cubic_sine": cubic_sine}


# ----------------------------------------------------------------------------- helpers

class _Missing(Exception):
    def __init__(self, name):
        super().__init__(name)
        self.name = name


class _StudentError(Exception):
    def __init__(self, reply):
        super().__init__(reply["message"])
        self.reply = reply


def _lookup(namespace, name):
    function = namespace.get(name)
    if not callable(function):
        raise _Missing(name)
    return function


def _invoke(function, name, args):
    """Call ``function(*values)``; return its value and the names of arrays it changed in place.

    An argument ``{"__rng__": seed}`` becomes ``numpy.random.default_rng(seed)``: generators are
    not plain data, their seeds are.
    """
    args = [(key, np.random.default_rng(value["__rng__"]) if isinstance(value, dict) and "__rng__" in value
             else value) for key, value in args]
    # a layer's own cache is the student's business; every other argument must come back unchanged
    copies = [(key, array, array.copy()) for key, value in args if key != "cache" for key, array in _arrays(key, value)]
    try:
        value = function(*[value for _, value in args])
    except BaseException as error:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included
        raise _StudentError(_error_reply(error, during=name)) from None
    mutated = [key for key, array, copy in copies if not np.array_equal(array, copy, equal_nan=True)]
    return value, mutated


def _arrays(name, value):
    """The arrays inside an argument, with their names in messages (``dout[1]``, ``params['W1']``)."""
    if isinstance(value, np.ndarray):
        yield name, value
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _arrays(f"{name}[{index}]", item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _arrays(f"{name}[{key!r}]", item)


def _error_reply(error, during):
    return {"status": "error", "type": type(error).__name__, "message": _safe_str(error),
            "traceback": student_traceback(error), "during": during}


def student_traceback(error) -> str:
    """The traceback restricted to the student's own cells (none of the grader's frames).

    Cells are ``cell 7`` here, and in a Jupyter kernel ``Cell In[7]`` as IPython names them.
    """
    frames = [_cell_frame(frame) for frame in traceback.extract_tb(error.__traceback__)]
    lines = traceback.format_list([frame for frame in frames if frame is not None])
    lines += traceback.format_exception_only(type(error), error)
    return "".join(lines)[-4000:]


def _cell_frame(frame):
    """The frame renamed after its notebook cell, or None when it is not in one of the student's cells."""
    name = frame.filename
    if name.startswith(CELL_PREFIX):
        return frame
    ipykernel = os.path.basename(os.path.dirname(name)).startswith("ipykernel_")
    if not (name.startswith("<ipython-input-") or ipykernel):
        return None
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    number = getattr(getattr(shell, "compile", None), "_filename_map", {}).get(name)
    shown = f"Cell In[{number}]" if number is not None else "a notebook cell"
    return traceback.FrameSummary(shown, frame.lineno, frame.name, line=frame.line)


def _describe(error) -> str:
    return f"{type(error).__name__}: {_safe_str(error)}"


def _safe_str(error) -> str:
    try:
        return str(error)[:1000]
    except BaseException:  # noqa: BLE001 - a student's exception with a broken __str__
        return "<unprintable exception>"


# ----------------------------------------------------------------------------- main loop

def main() -> None:
    reply_stream = os.fdopen(int(sys.argv[1]), "wb")
    requests = sys.stdin.buffer
    namespace: dict = {}
    worker_pid = os.getpid()
    while True:
        payload = wire.read_frame(requests)
        if payload is None:
            return
        request = wire.decode(payload)
        if request["op"] == "probe":  # asked before any student code is loaded (see protections.py)
            reply = {"status": "ok", "layers": CONFINEMENT, "uid": os.getuid()}
        elif request["op"] == "load":
            loaded = load(request["cells"])
            namespace = loaded["namespace"]
            reply = {"status": "ok", "problems": loaded["problems"], "unavailable": loaded["unavailable"]}
        else:
            reply = run_case(namespace, request)
        if os.getpid() != worker_pid:  # a process the student forked got back here: it must not reply
            os._exit(0)
        sys.stdout.flush()
        wire.write_frame(reply_stream, wire.encode(reply))


if __name__ == "__main__":
    main()
