"""Cases and their drivers (``case.py``): typed driver options refused when wrong, seeded inputs, requests, assignments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from dlcourse.autograder.engine.case import (
    CALL, Assignment, Call, Case, Driver, ForwardBackward, GanTrain, KerasFit, NumericalGradient, RngProbe)


def vector(rng):
    return {"x": rng.normal(size=4), "scale": 2.0}


def case(**options) -> Case:
    return Case(**{"unit": "scale_up", "name": "four numbers", "inputs": vector,
                   "reference": lambda x, scale: {"out": scale * x}, "outputs": ("out",), **options})


def test_a_driver_names_its_module_and_a_class_without_one_is_refused():
    assert (Call().name, ForwardBackward("dense_forward").name, KerasFit().name) == ("call", "forward_backward",
                                                                                     "keras_fit")
    with pytest.raises(TypeError, match="names no driver module"):
        Driver()

    @dataclass(frozen=True)
    class Teleport(Driver):
        name: ClassVar[str] = "teleport"

    with pytest.raises(ValueError, match="no driver module 'teleport'"):
        Teleport()


@pytest.mark.parametrize("make, message", [
    (lambda: ForwardBackward(""), "needs the forward unit"),
    (lambda: NumericalGradient("no_such_function"), "no test function 'no_such_function'"),
    (lambda: NumericalGradient("cubic_sine", params=["c"]), "params must be a tuple"),
    (lambda: RngProbe(probe="not callable"), "needs a probe"),
    (lambda: KerasFit(progress=-1), "progress must be an int >= 0"),
    (lambda: KerasFit(progress=True), "progress must be an int >= 0"),
    (lambda: GanTrain(builders=("only_one",)), "builders must be a tuple of 2 names"),
    (lambda: GanTrain(progress=2), "only with report_every"),
    (lambda: GanTrain(report_every=0), "report_every must be an int >= 1"),
])
def test_wrong_driver_options_are_refused_when_the_case_is_declared(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_valid_driver_options_are_kept():
    assert NumericalGradient("cubic_sine", params=("c", "d")).params == ("c", "d")
    assert GanTrain(report_every=5, progress=2).builders == ("build_generator", "build_discriminator")
    assert KerasFit(progress=3).progress == 3


def test_a_case_whose_driver_is_not_a_driver_is_refused():
    with pytest.raises(TypeError, match="case 'scale_up: four numbers': driver must be a Driver"):
        case(driver="call")


def test_public_inputs_come_from_the_case_id_alone():
    first, again = case().make_inputs(None)["x"], case().make_inputs("any secret")["x"]
    assert np.array_equal(first, again)
    assert not np.array_equal(first, case(name="four other numbers").make_inputs(None)["x"])


def test_hidden_inputs_need_the_secret_and_change_with_it():
    hidden = case(hidden=True)
    with pytest.raises(ValueError, match="needs the grader's secret"):
        hidden.make_inputs(None)
    one, same, other = (hidden.make_inputs(secret)["x"] for secret in ("one", "one", "two"))
    assert np.array_equal(one, same) and not np.array_equal(one, other)
    assert not np.array_equal(one, case().make_inputs(None)["x"])


def test_fresh_inputs_differ_at_every_draw():
    fresh = case(fresh=True)
    assert not np.array_equal(fresh.make_inputs(None)["x"], fresh.make_inputs(None)["x"])


def test_a_request_names_unit_and_driver_and_sends_every_input_but_the_private_ones():
    request = case(private=("scale",)).request(vector(np.random.default_rng(0)))
    assert (request["op"], request["unit"], request["driver"]) == ("run", "scale_up", "call")
    assert [name for name, _ in request["args"]] == ["x"]
    assert case().driver is CALL and [name for name, _ in case().request(vector(np.random.default_rng(0)))["args"]] == \
        ["x", "scale"]


def test_an_assignment_lists_its_units_once_in_order_and_sums_its_points():
    cases = (case(points=2.0), case(name="hidden", hidden=True, points=1.5),
             case(unit="scale_down", name="one", points=0.5))
    assignment = Assignment("00_demo", "A demo", cases)
    assert assignment.units == ("scale_up", "scale_down")
    assert assignment.max_score == 4.0
    assert assignment.public_cases() == (cases[0], cases[2])
