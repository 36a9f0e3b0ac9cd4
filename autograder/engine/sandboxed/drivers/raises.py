"""``raises``: a unit called on arguments it must reject; the value says what it raised.

Request: ``{"unit", "args"}`` as for ``call``. Value: ``{"raised": the exception's type name, or None
when the call returned, "message": its text (or "")}``. The case's ``judge`` decides (a ValueError naming
the argument, say); what the unit returned, if anything, does not cross the boundary.
"""

from __future__ import annotations

from ._calling import StudentError, invoke, lookup


def run(namespace, request):
    function = lookup(namespace, request["unit"])
    try:
        invoke(function, request["unit"], request["args"])
    except StudentError as failure:
        return {"status": "ok", "value": {"raised": failure.reply["type"], "message": failure.reply["message"]},
                "mutated": []}
    return {"status": "ok", "value": {"raised": None, "message": ""}, "mutated": []}
