"""``numerical_gradient``: ``value = unit(f, *args)`` for a known test function ``f`` made in the worker.

Functions do not cross the boundary; their names and parameters do. Request: ``{"unit", "function":
a name in ``TEST_FUNCTIONS``, "params": {its parameters}, "args": [["x", x], ["h", h]]}``.
"""

from __future__ import annotations

import numpy as np

from ._calling import invoke, lookup


def cubic_sine(c, d):
    """``f(x) = sum(c*sin(x)) + sum(d*x**3)/3 + (sum x)**2 / 2`` for arrays of any shape."""
    def f(x):
        return float(np.sum(c * np.sin(x)) + np.sum(d * x ** 3) / 3 + np.sum(x) ** 2 / 2)
    return f


TEST_FUNCTIONS = {"cubic_sine": cubic_sine}


def request(case, args: dict, inputs: dict) -> dict:
    """The test function ``case.driver.function``; its parameters ``case.driver.params`` are taken out of the inputs."""
    return {"function": case.driver.function, "params": {key: args.pop(key) for key in case.driver.params}}


def run(namespace, request):
    function = lookup(namespace, request["unit"])
    f = TEST_FUNCTIONS[request["function"]](**request["params"])
    value, mutated = invoke(function, request["unit"], [("f", f)] + request["args"])
    return {"status": "ok", "value": value, "mutated": mutated}
