"""``steps``: an optimizer's update stepped K times, ``w, config = unit(w, dws[k], config)``.

Request: ``{"unit", "args": [["w", any shape], ["dws", (K, *w.shape)], ["config", dict]]}``, and
optionally ``["partner", {"w", "dws", "config"}]``: a second optimizer with its own config. With a
partner, three instances are stepped in turn (the primary, the partner, and a copy of the primary
one step behind), each call on fresh copies of ``w`` and ``config``: a unit whose result depends on
anything but its arguments (state kept outside ``config``) gives the copy other weights than the
primary.

Value: ``{"weights": (K, *w.shape) array of w after each step, "configs": [config after each
step]}`` for the primary, plus ``"partner"`` and ``"copy"`` (the same keys) when a partner was
given. A step that returns no ``(next_w, config)`` pair is a wrong type.
"""

from __future__ import annotations

import numpy as np

from ._calling import invoke, lookup, wrong_type


def run(namespace, request):
    update = lookup(namespace, request["unit"])
    args = dict(request["args"])
    primary = {"w": args["w"], "dws": args["dws"], "config": args["config"]}
    instances = [primary]
    partner = args.get("partner")
    if partner is not None:
        instances += [dict(partner), dict(primary)]  # the third: a copy of the primary, run one step behind
    order = interleaving([len(instance["dws"]) for instance in instances])
    records = [{"weights": [], "configs": []} for _ in instances]
    mutated = set()
    for index, k in order:
        instance, record = instances[index], records[index]
        w, config = fresh(instance["w"]), fresh(instance["config"])
        value, changed = invoke(update, request["unit"], [("w", w), ("dw", instance["dws"][k]), ("config", config)])
        mutated.update(changed)
        if not isinstance(value, tuple) or len(value) != 2:
            raise wrong_type(request["unit"], f"step {k + 1}: {request['unit']} must return (next_w, config)", value)
        instance["w"], instance["config"] = value
        record["weights"].append(fresh(value[0]))
        record["configs"].append(fresh(value[1]))
    for record in records:
        if all(isinstance(item, np.ndarray) for item in record["weights"]) and record["weights"]:
            record["weights"] = np.stack(record["weights"])
    value = records[0]
    if partner is not None:
        value = {**records[0], "partner": records[1], "copy": records[2]}
    return {"status": "ok", "value": value, "mutated": sorted(mutated)}


def interleaving(counts):
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


def fresh(value):
    """A copy of an array, or of a dict's arrays (so state cannot hide in an object's identity)."""
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    if isinstance(value, dict):
        return {key: fresh(item) for key, item in value.items()}
    return value
