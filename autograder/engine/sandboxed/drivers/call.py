"""``call``: ``value = unit(*args)``, the plain call most cases make.

Request: ``{"unit": name, "args": [[name, value], ...]}`` (the case's inputs, in call order).
Value: whatever the unit returns.
"""

from __future__ import annotations

from ._calling import invoke, lookup


def run(namespace, request):
    function = lookup(namespace, request["unit"])
    value, mutated = invoke(function, request["unit"], request["args"])
    return {"status": "ok", "value": value, "mutated": mutated}
