"""The worker's drivers: how one request calls a student's unit. One module per driver, named as it.

Each driver module keeps both sides of its protocol together:

- ``request(case, args, inputs) -> dict`` (grader side, optional): the request keys the driver needs
  besides ``unit`` and ``args``, popped from ``args`` (the case's inputs by name, without its private
  ones) or made from ``inputs`` (all of them, read only); the driver's options are ``case.driver``'s
  attributes (``engine/case.py``: ``ForwardBackward(forward=...)``, say), read by name, since these files
  import nothing of the grader. A module without it takes the inputs as ``args`` alone.
- ``run(namespace, request) -> reply`` (worker side): calls the unit found in ``namespace``.

The NumPy drivers sit in this folder, the Keras drivers in ``keras/``. The sandbox mounts the files
of this folder beside ``worker.py`` as a package of its own (``/grader/drivers``), and ``keras/``
only for the assignments whose backend needs Keras (``runtime.worker_files``): the worker knows the
drivers whose files it finds, so a NumPy assignment's worker has no Keras driver at all. These
files import only the standard library, NumPy and ``wire`` (the Keras drivers Keras too, when they
run); modules whose name starts with ``_`` are their helpers.

Replies are plain data (``wire.py``), each with a ``status``:

- ``{"status": "ok", "value": ..., "mutated": [names of arguments changed in place]}``;
- ``{"status": "missing", "name": ...}``: the notebook defines no function of that name;
- ``{"status": "error", "kind": ..., "type": ..., "message": ..., "traceback": ..., "during": ...}``,
  ``kind`` "raised" (the student's code raised ``type``; a ``NameError`` adds ``"name"``, the name
  not defined) or "wrong_type" (a unit returned something the driver cannot use: ``type`` is
  "TypeError", the message says what was expected).

The grader turns replies into verdicts (``compare.judge``); what happens when no reply comes back is
a ``session.Failure`` with a kind of its own.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from types import ModuleType

from . import _progress as progress  # noqa: F401 - drivers.progress: for the worker and the runner
from ._calling import Missing, StudentError, error_reply

try:  # in the grader ``wire`` is a module of the engine package
    from .. import wire
except ImportError:  # in the sandbox ``drivers`` is a package of its own, beside ``wire.py``
    import wire

KERAS_PACKAGE = f"{__name__}.keras"


@functools.cache
def available() -> dict[str, ModuleType]:
    """``{driver name: module}`` of every driver whose file is here (each module with a ``run``)."""
    found = {}
    for package in (__name__, KERAS_PACKAGE):
        try:
            folder = importlib.import_module(package)
        except ImportError:  # the Keras drivers are mounted for the Keras assignments only
            continue
        for info in pkgutil.iter_modules(folder.__path__):
            if info.ispkg or info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{package}.{info.name}")
            if callable(getattr(module, "run", None)):
                found[info.name] = module
    return found


def run_case(namespace: dict, request: dict) -> dict:
    """Run one request with the driver it names and return a plain reply (see the module)."""
    driver = available().get(request["driver"])
    if driver is None:  # a case of a NumPy assignment asking for a Keras driver, say: the grader's mistake
        raise KeyError(f"no driver {request['driver']!r} here (drivers here: {sorted(available())})")
    try:
        return driver.run(namespace, request)
    except Missing as missing:
        return {"status": "missing", "name": missing.name}
    except StudentError as failure:
        return failure.reply
    except BaseException as error:  # noqa: BLE001 - a worker bug or a student's patched NumPy
        return error_reply(error, during=request["unit"])


def request(case, inputs: dict) -> dict:
    """The plain-data message that asks the worker to run ``case`` on ``inputs`` (grader side).

    Args:
        case: an ``dlcourse.autograder.engine.case.Case`` (its ``unit``, ``private`` and ``driver``: the driver's
            ``name`` and the options its module reads).
        inputs: the case's inputs by name, in call order.
    """
    args = {key: value for key, value in inputs.items() if key not in case.private}  # the grader's own: never sent
    message = {"op": wire.Op.RUN.value, "unit": case.unit, "driver": case.driver.name}
    build = getattr(available()[case.driver.name], "request", None)
    if build is not None:
        message.update(build(case, args, inputs))
    message["args"] = [[key, value] for key, value in args.items()]
    return message
