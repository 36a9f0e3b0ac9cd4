"""Turn a worker's reply into a verdict and a message a student can act on.

Runs only in the grader. Everything received is treated as data: a value of the wrong type,
dtype or shape, a NaN, an exception or a dead worker is a failed case with a message that names
the unit, the quantity, and the expected and received values.

One float policy for every NumPy unit (``float64_graded``, checked here for every case before its
values): given float64 inputs, every floating-point value it returns must be float64. A float32 (or
float16, or longdouble) answer fails every case of its unit, whatever its values, with one message
that names the unit, the quantity, the expected and the received dtype. Units called by a Keras
driver (06's and 09's models, losses and training) are compared by value, as Keras computes in float32.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from dlcourse.autograder.engine.sandboxed import drivers
from dlcourse.autograder.engine.case import Case, RngProbe
from dlcourse.autograder.engine.session import Failure, FailureKind
from dlcourse.autograder.engine.sandboxed.wire import Unsupported


# a float32 answer within this relative tolerance of a float64 reference differs by float32 rounding only
FLOAT32_RTOL = 1e-4
FLOAT64_ADVICE = ("Every NumPy unit is graded in float64: given float64 inputs, its results must be float64, whatever "
                  "their values. Keep float64: no .astype(np.float32), dtype=np.float32 or np.float32(...) in its "
                  "computation (NumPy computes in float64 unless told otherwise).")


class Status(StrEnum):
    """What became of a case (``Verdict.status``); the reports colour and count by it."""

    PASSED = "passed"
    FAILED = "failed"  # a wrong answer
    ERROR = "error"  # it raised, crashed, or broke the protocol
    NOT_IMPLEMENTED = "not implemented"  # still the stub's NotImplementedError
    MISSING = "missing"  # no function of that name
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str
    status: Status
    # for a public case whose array had wrong values: (quantity, expected, received), for feedback pictures
    detail: tuple[str, np.ndarray, np.ndarray] | None = None
    failure: Failure | None = None  # what happened when the case got no reply (its kind: timeout, crash, ...)
    ran: bool = True  # False for a case not run (its unit, or one it depends on, timed out already)

    def __post_init__(self):
        object.__setattr__(self, "status", Status(self.status))  # a plain string is converted, an unknown one refused
        if self.passed != (self.status is Status.PASSED):
            raise ValueError(f"Expected status 'passed' exactly when passed. Received passed={self.passed}, "
                             f"status={self.status!r}.")


def judge(case: Case, inputs: dict, expected, reply, timing: dict | None = None,
          skipped: dict | None = None, assigned: dict | None = None) -> Verdict:
    """Compare a reply with the reference.

    Args:
        case: the case that was run.
        inputs: the inputs it was run with (shown for public cases only).
        expected: a zero-argument callable returning the reference outputs (only called when needed).
        reply: the worker's plain reply, or a ``Failure``.
        timing: wall times measured by the grader, passed to a case's own ``judge``.
        skipped: ``Notebook.skipped``: names only set by statements grading leaves out, with the reason;
            a ``NameError`` on one of them says so.
        assigned: ``Notebook.assigned``: names set by kept assignments (one that failed in the sandbox is named).
    """
    where = _where(case, inputs)
    if isinstance(reply, Failure):
        status = Status.TIMEOUT if reply.kind is FailureKind.TIMEOUT else Status.ERROR
        printed = f"\nIt printed:\n{reply.output[-1500:]}" if reply.output.strip() else ""
        return Verdict(False, f"{case.unit}: {reply.message}.{where}{printed}", status, failure=reply)
    status = reply.get("status")
    if status == "missing":
        return Verdict(False, f"{case.unit}: `{reply.get('name')}` is not defined in the notebook "
                              "(check the function's name and that its cell has no syntax error).", Status.MISSING)
    if status == "error":
        return _error(case, reply, where, skipped or {}, assigned)
    if status != "ok":
        return Verdict(False, f"{case.unit}: the worker gave an unknown reply.", Status.ERROR)
    mutated = reply.get("mutated") or []
    if mutated and isinstance(mutated, list):
        names = ", ".join(f"`{name}`" for name in mutated if isinstance(name, str))
        return Verdict(False, f"{case.unit} changed its input {names} in place; "
                              f"compute new arrays instead (x = x + 1, not x += 1).{where}", Status.FAILED)
    received, problem = _split(case, reply.get("value"))
    if problem:
        return Verdict(False, f"{case.unit}: {problem}{where}", Status.FAILED)
    expected_values = expected()
    if float64_graded(case, inputs):
        problems = dtype_problems(case, received, expected_values)
        if problems:
            return Verdict(False, f"{case.unit}, " + f"\n{case.unit}, ".join(problems) + f"\n{FLOAT64_ADVICE}{where}",
                           Status.FAILED)
    if case.judge is not None:
        ok, message = case.judge(inputs, expected_values, received, timing or {"seconds": 0.0, "earlier": {}})
        return Verdict(ok, f"{case.unit}: {message}" + ("" if ok else where), Status.PASSED if ok else Status.FAILED)
    problems, detail = [], None
    for name, value in expected_values.items():
        problem = compare_value(name, value, received.get(name), case.rtol, case.atol, case.hidden)
        if problem:
            problems.append(problem)
            got = received.get(name)
            if detail is None and not case.hidden and isinstance(value, np.ndarray) and isinstance(got, np.ndarray) \
                    and got.shape == value.shape and value.size > 1 and got.dtype.kind in "biuf":
                detail = (name, value, got)
    if not problems:
        return Verdict(True, "", Status.PASSED)
    message = f"{case.unit}, " + f"\n{case.unit}, ".join(problems)
    known = recognise_mistake(case, inputs, expected_values, received)
    if known:
        message += f"\nThis matches a known mistake: {known}."
    elif case.hint:
        message += f"\nHint: {case.hint}"
    return Verdict(False, message + where, Status.FAILED, detail)


def float64_graded(case: Case, inputs: dict) -> bool:
    """Whether the float policy holds for ``case``: its unit is called by a NumPy driver (not a Keras one), and
    every floating-point array among its inputs is float64 (inputs with none, a shape and a seed, count as
    float64: NumPy's default). A randomness probe's runs are judged one by one, each under the policy."""
    module = drivers.available().get(case.driver.name)
    if module is None or module.__name__.startswith(drivers.KERAS_PACKAGE) or isinstance(case.driver, RngProbe):
        return False
    return all(dtype == np.float64 for dtype in _float_dtypes(inputs))


def dtype_problems(case: Case, received: dict, expected: dict) -> list[str]:
    """``"<quantity>: wrong dtype: expected float64, received float32 ..."`` for each output (the cache aside)
    that holds a floating-point NumPy value (array or scalar) of another dtype; nested values are named as
    ``compare_value`` names them (``grads['W1']``)."""
    problems = []
    for name in case.outputs:
        if name == "cache" or name not in received:
            continue
        found = [(path, value) for path, value in _floats(name, received[name]) if value.dtype != np.float64]
        if not found:
            continue
        path, value = found[0]
        more = f" (and {len(found) - 1} more of its values are not float64)" if len(found) > 1 else ""
        rounding = ""
        if path == name and isinstance(value, np.ndarray) and _agrees_to_rounding(expected.get(name), value, case.atol):
            rounding = f" (its values agree with the expected ones to {value.dtype} rounding: only the dtype is wrong)"
        problems.append(f"{path}: wrong dtype: expected float64, received {value.dtype}{more}{rounding}")
    return problems


def _float_dtypes(value):
    """The dtypes of the floating-point arrays in an input (arrays, dicts, lists, tuples)."""
    if isinstance(value, np.ndarray):
        return [value.dtype] if value.dtype.kind == "f" else []
    if isinstance(value, dict):
        return [dtype for item in value.values() for dtype in _float_dtypes(item)]
    if isinstance(value, (list, tuple)):
        return [dtype for item in value for dtype in _float_dtypes(item)]
    return []


def _floats(path: str, value):
    """``(path, value)`` of each floating-point NumPy array or scalar in a received value, in order."""
    if isinstance(value, (np.ndarray, np.generic)):
        return [(path, value)] if value.dtype.kind == "f" else []
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _floats(f"{path}[{key!r}]", item)]
    if isinstance(value, (list, tuple)):
        return [found for index, item in enumerate(value) for found in _floats(f"{path}[{index}]", item)]
    return []


def _agrees_to_rounding(expected, received: np.ndarray, atol: float) -> bool:
    """Whether a lower-precision array (float32, float16) equals a float64 reference up to its own rounding."""
    if not isinstance(expected, np.ndarray) or expected.dtype != np.float64 or expected.shape != received.shape \
            or received.dtype.itemsize >= 8 or not np.isfinite(received).all():
        return False
    rtol = max(FLOAT32_RTOL, 10 * float(np.finfo(received.dtype).eps))
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    return bool(np.allclose(received.astype(np.float64), expected, rtol=rtol, atol=max(atol, rtol * scale)))


def compare_value(name: str, expected, received, rtol: float, atol: float, hidden: bool = False) -> str | None:
    """Why ``received`` is not ``expected`` (None when it is, within tolerance).

    ``expected`` is an array, a number, or a dict or list of them (compared key by key, item by item).
    """
    if isinstance(expected, dict):
        return _compare_dict(name, expected, received, rtol, atol, hidden)
    if isinstance(expected, (list, tuple)):
        return _compare_list(name, expected, received, rtol, atol, hidden)
    expected = np.asarray(expected)
    if expected.ndim == 0 and _is_number(received):  # 3, 3.0, np.int64(3), np.float32(3): all the number 3
        received = np.asarray(received)
        received = received.astype(np.float64) if received.dtype.kind in "iu" and expected.dtype.kind == "f" \
            else received
    problem = _form_problem(name, expected, received, hidden)
    if problem:
        return problem
    got = received.astype(np.float64)
    want = expected.astype(np.float64)
    return _not_finite(name, want, got, hidden) or _values_problem(name, want, got, received.dtype, rtol, atol, hidden)


def _compare_dict(name: str, expected: dict, received, rtol: float, atol: float, hidden: bool) -> str | None:
    """``compare_value`` of a dict: the same keys (more are allowed), each value compared in turn."""
    if not isinstance(received, dict):
        return f"{name}: expected a dict with keys {sorted(expected)}, received {describe(received)}"
    missing = sorted(set(expected) - set(received))
    if missing:
        return f"{name}: missing keys {missing} (received keys {sorted(received)})"
    for key, value in expected.items():
        problem = compare_value(f"{name}[{key!r}]", value, received[key], rtol, atol, hidden)
        if problem:
            return problem
    return None


def _compare_list(name: str, expected: list | tuple, received, rtol: float, atol: float, hidden: bool) -> str | None:
    """``compare_value`` of a list or tuple: as many items, each compared in turn."""
    if not isinstance(received, (list, tuple)) or len(received) != len(expected):
        return f"{name}: expected a list of {len(expected)} values, received {describe(received)}"
    for index, (want, got) in enumerate(zip(expected, received)):
        problem = compare_value(f"{name}[{index}]", want, got, rtol, atol, hidden)
        if problem:
            return problem
    return None


def _form_problem(name: str, expected: np.ndarray, received, hidden: bool) -> str | None:
    """Why ``received`` cannot be compared with ``expected`` value by value: not an array, integers or booleans
    where floating-point values are expected, or another shape (None when it can)."""
    if not isinstance(received, np.ndarray):
        return f"{name}: expected a NumPy array of shape {expected.shape}, received {describe(received)}"
    if expected.dtype.kind == "f" and received.dtype.kind not in "f":
        return (f"{name}: wrong dtype: expected floating point values, received dtype {received.dtype} "
                f"(integer or boolean results lose the fractions; expected {expected.dtype})")
    if received.shape != expected.shape:
        if hidden:
            return f"{name}: wrong shape (received {received.shape}; hidden case, expected shape not shown)"
        note = " (transposed?)" if received.shape == expected.shape[::-1] else ""
        return f"{name}: wrong shape: expected {expected.shape}, received {received.shape}{note}"
    return None


def _not_finite(name: str, want: np.ndarray, got: np.ndarray, hidden: bool) -> str | None:
    """A NaN or an infinity received where a finite value is expected (None when there is none)."""
    bad = ~np.isfinite(got) & np.isfinite(want)
    if not bad.any():
        return None
    kind = "NaN" if np.isnan(got[bad]).any() else "inf"
    index = _index(np.argwhere(bad)[0])
    at = "" if hidden else f", first at index {index} (expected {_num(want[index])})"
    return f"{name}: contains {kind}: {int(bad.sum())} of {got.size} values{at}"


def _values_problem(name: str, want: np.ndarray, got: np.ndarray, dtype: np.dtype, rtol: float, atol: float,
                    hidden: bool) -> str | None:
    """Which values of ``got`` (received as ``dtype``, here in float64) are outside the tolerance of ``want``, and
    by how much (None when none is); a lower-precision dtype that explains the difference is named."""
    with np.errstate(invalid="ignore"):
        error = np.abs(got - want)
        matching = (error <= atol + rtol * np.abs(want)) | (got == want) | (np.isnan(want) & np.isnan(got))
    error = np.where(matching & ~np.isfinite(error), 0.0, error)
    outside = ~matching  # a NaN expected where a number was received is a difference too
    if not outside.any():
        return None
    nonzero = np.abs(want) > atol
    relative = _num(np.nanmax(error[nonzero] / np.abs(want[nonzero]))) if nonzero.any() else "n/a"
    ranked = np.where(outside, np.nan_to_num(error, nan=np.inf), -1.0)
    worst = _index(np.unravel_index(np.argmax(ranked), error.shape)) if error.ndim else ()
    if dtype.kind == "f" and dtype.itemsize < 8 and want.dtype == np.float64 \
            and np.allclose(got, want, rtol=FLOAT32_RTOL, atol=max(atol, FLOAT32_RTOL * float(np.max(np.abs(want))))):
        return (f"{name}: received {dtype} values, which agree with the expected ones only to "
                f"{dtype} rounding (max rel error {relative}; tolerance rtol={rtol:g}): this unit is "
                "graded in float64. Keep float64: no .astype(np.float32), dtype=np.float32 or np.float32(...) "
                "in its computation (NumPy computes in float64 unless told otherwise)")
    if hidden:
        return (f"{name}: wrong values in {int(outside.sum())} of {got.size} entries, "
                f"max abs error {_num(np.max(np.where(outside, error, 0.0)))} (hidden case)")
    return (f"{name}: wrong values in {int(outside.sum())} of {got.size} entries; max abs error "
            f"{_num(error[worst])} at index {worst} (expected {_num(want[worst])}, received {_num(got[worst])}); "
            f"max rel error {relative}; tolerance rtol={rtol:g}, atol={atol:g}")


def _is_number(value) -> bool:
    """A Python or NumPy int or float (not a bool: True is not a number of the answer)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) or \
        (isinstance(value, np.generic) and np.asarray(value).dtype.kind in "iuf")


def recognise_mistake(case: Case, inputs: dict, expected: dict, received: dict) -> str | None:
    """Name the known mistakes the received outputs match (None when none does).

    A mistake is recognised only when the quantities it changes match its wrong values, those values
    differ from the right ones on this case (at a batch of one, "db averages over the batch" changes
    nothing), and every quantity it does not change is right. When several mistakes match, all are
    named: this case cannot tell them apart. A mistake whose ``outputs`` are None does not apply here.
    """
    def same(name, want, got):
        return compare_value(name, want, got, case.rtol, case.atol) is None

    names = []
    for mistake in case.mistakes:
        wrong = mistake.outputs(inputs, expected)
        if not wrong or all(same(name, value, expected[name]) for name, value in wrong.items() if name in expected):
            continue
        if all(same(name, value, received.get(name)) for name, value in wrong.items()) and \
                all(same(name, value, received.get(name)) for name, value in expected.items() if name not in wrong):
            names.append(mistake.name)
    if len(names) > 1:
        return "; or ".join(names) + " (this case cannot tell these apart)"
    return names[0] if names else None


def describe(value) -> str:
    """A short, safe description of a received value (never its contents in full)."""
    if value is None:
        return "None (did the function forget to `return`?)"
    if isinstance(value, Unsupported):
        return f"an object of type {value.type_name} (return NumPy arrays and numbers)"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} values"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(value)[:10]}"
    if isinstance(value, str):
        return f"a string {value[:40]!r}"
    return f"{type(value).__name__} {value!r}"


def describe_inputs(inputs: dict) -> str:
    """``x.shape=(2, 7, 7, 3), strides=(2, 2), padding='same'``: what a student needs to reproduce a case."""
    return ", ".join(f"{key}.shape={_short(value)[6:]}" if isinstance(value, np.ndarray) else f"{key}={_short(value)}"
                     for key, value in inputs.items())


def _short(value) -> str:
    """An argument in a message: arrays by shape (and dtype unless float64), containers item by item."""
    if isinstance(value, np.ndarray):
        return f"shape {value.shape}" + ("" if value.dtype == np.float64 else f" ({value.dtype})")
    if isinstance(value, dict) and set(value) == {"__rng__"}:
        return f"default_rng({value['__rng__']})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_short(item)}" for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        items = ", ".join(_short(item) for item in value[:8]) + (", ..." if len(value) > 8 else "")
        return f"({items})" if isinstance(value, tuple) else f"[{items}]"
    return repr(value)


def _split(case: Case, value) -> tuple[dict, str | None]:
    names = case.outputs
    if len(names) == 1:
        return {names[0]: value}, None
    if not isinstance(value, (tuple, list)) or len(value) != len(names):
        wanted = f"a tuple of {len(names)} values ({', '.join(names)})"
        return {}, f"should return {wanted}, received {describe(value)}"
    return dict(zip(names, value)), None


def _error(case: Case, reply: dict, where: str, skipped: dict, assigned: dict | None = None) -> Verdict:
    raised = str(reply.get("type", "Exception"))
    during = reply.get("during")
    context = f" (while running `{during}`)" if during and during != case.unit else ""
    if raised == "NotImplementedError":
        return Verdict(False, f"{case.unit}: not implemented yet{context}: it still raises NotImplementedError. "
                              "Replace `raise NotImplementedError()` with your code; if you already did, run the "
                              "cell that defines it (Shift+Enter) before checking, and save the notebook before "
                              "`dlcourse check`.", Status.NOT_IMPLEMENTED)
    text = str(reply.get("traceback") or f"{raised}: {reply.get('message', '')}")
    if raised == "SystemExit":
        text = f"{raised} raised (do not call sys.exit or exit in a unit)\n{text}"
    elif raised == "KeyboardInterrupt":
        text = f"{raised} raised inside the unit (was it interrupted, or does it raise KeyboardInterrupt?)\n{text}"
    note = ""
    name = reply.get("name") if raised == "NameError" else None  # the name not defined, as the NameError said
    if isinstance(name, str) and name in skipped:
        note = (f"\n`{name}` is set only in {skipped[name]}. Grading does not run that "
                "statement: define the value inside your function, or set it from imports and constants only.")
    elif isinstance(name, str) and name in (assigned or {}):
        note = (f"\n`{name}` is set in {assigned[name]}, which failed when grading ran it (grading "
                "runs only imports, definitions and assignments of imported code, see the README): define the "
                "value inside your function.")
    return Verdict(False, f"{case.unit} raised {raised}{context}.{note}{where}\nYour traceback:\n{text.rstrip()}",
                   Status.ERROR)


def _where(case: Case, inputs: dict) -> str:
    if case.hidden:
        return f"\n  (hidden case '{case.name}': its inputs are not shown)"
    shown = {key: value for key, value in inputs.items() if key not in case.private}  # the grader's own stay here
    return f"\n  (public case '{case.name}': {describe_inputs(shown)})"


def _index(index) -> tuple:
    return tuple(int(i) for i in index)


def _num(value) -> str:
    return f"{float(value) + 0.0:.6g}"  # + 0.0 shows -0.0 as 0
