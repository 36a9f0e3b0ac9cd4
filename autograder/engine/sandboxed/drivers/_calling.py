"""Calling a student's function from a driver: finding it, calling it, and turning what it raised into a reply."""

from __future__ import annotations

import os
import sys
import traceback

import numpy as np

try:  # in the grader ``wire`` is a module of the engine package
    from .. import wire
except ImportError:  # in the sandbox ``drivers`` is a package of its own, beside ``wire.py``
    import wire

CELL_PREFIX = "cell "


class Missing(Exception):
    """The notebook defines no function of this name."""

    def __init__(self, name):
        super().__init__(name)
        self.name = name


class StudentError(Exception):
    """The student's code failed: ``reply`` is the error reply that says how."""

    def __init__(self, reply):
        super().__init__(reply["message"])
        self.reply = reply


def lookup(namespace, name):
    """The student's function ``name`` (``Missing`` when there is none)."""
    function = namespace.get(name)
    if not callable(function):
        raise Missing(name)
    return function


def invoke(function, name, args):
    """Call ``function(*values)``; return its value and the names of arrays it changed in place.

    ``args`` are ``[(name, value), ...]``. An argument ``{"__rng__": seed}`` becomes
    ``numpy.random.default_rng(seed)``: generators are not plain data, their seeds are. Whatever the
    call raises (``SystemExit`` and ``KeyboardInterrupt`` included) is a ``StudentError``.
    """
    args = [(key, np.random.default_rng(value["__rng__"]) if isinstance(value, dict) and "__rng__" in value
             else value) for key, value in args]
    # a layer's own cache is the student's business; every other argument must come back unchanged
    copies = [(key, array, array.copy()) for key, value in args if key != "cache" for key, array in _arrays(key, value)]
    try:
        value = function(*[value for _, value in args])
    except BaseException as error:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included
        raise StudentError(error_reply(error, during=name)) from None
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


def wrong_type(during: str, expected: str, value) -> StudentError:
    """A unit returned what the driver cannot use: ``"{expected}; received {its type}"``, as a TypeError."""
    return StudentError({"status": "error", "kind": "wrong_type", "type": "TypeError", "during": during,
                         "traceback": "", "message": f"{expected}; received {wire._type_name(value)}"})


def error_reply(error: BaseException, during) -> dict:
    """The reply for an exception raised while running ``during``: its type, message and the student's traceback."""
    reply = {"status": "error", "kind": "raised", "type": type(error).__name__, "message": safe_str(error),
             "traceback": student_traceback(error), "during": during}
    if isinstance(error, NameError) and isinstance(getattr(error, "name", None), str):
        reply["name"] = error.name
    return reply


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


def safe_str(error) -> str:
    try:
        return str(error)[:1000]
    except BaseException:  # noqa: BLE001 - a student's exception with a broken __str__
        return "<unprintable exception>"
