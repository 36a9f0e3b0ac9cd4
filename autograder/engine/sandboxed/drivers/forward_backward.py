"""``forward_backward``: ``out, cache = forward(*args)``, then ``value = unit(dout, cache)``.

Request: ``{"unit": the backward unit, "forward": the forward unit, "dout": upstream gradient,
"args": the forward's arguments}``, and ``"keep_forward": True`` to have the forward's ``out``
back as ``reply["forward"]`` (the "rng_probe" driver checks a backward against its forward's mask).
Value: what the backward returns. A forward that returns no ``(out, cache)`` pair is a wrong type.
"""

from __future__ import annotations

from ._calling import invoke, lookup, wrong_type


def request(case, args: dict, inputs: dict) -> dict:
    """The forward unit (``case.driver.forward``) and ``dout``, taken out of the inputs."""
    return {"forward": case.driver.forward, "dout": args.pop("dout")}


def run(namespace, request):
    forward = lookup(namespace, request["forward"])
    backward = lookup(namespace, request["unit"])
    forward_result, mutated = invoke(forward, request["forward"], request["args"])
    if not isinstance(forward_result, tuple) or len(forward_result) != 2:
        raise wrong_type(request["forward"], f"{request['forward']} must return a tuple (out, cache)", forward_result)
    value, mutated_dout = invoke(backward, request["unit"], [("dout", request["dout"]), ("cache", forward_result[1])])
    reply = {"status": "ok", "value": value, "mutated": mutated + mutated_dout}
    if request.get("keep_forward"):
        reply["forward"] = forward_result[0]
    return reply
