"""The worker's drivers: one module each, the Keras ones mounted only for Keras assignments, and typed replies
(failures told apart by their kind: ``test_session.py``)."""

from __future__ import annotations


from dlcourse.autograder.cases.backprop import ASSIGNMENT as BACKPROP
from dlcourse.autograder.engine import runtime
from dlcourse.autograder.engine.runner import CaseRunner, in_process
from dlcourse.autograder.engine.sandbox import Sandbox
from dlcourse.autograder.engine.sandboxed import drivers
from dlcourse.autograder.engine.session import Failure, WorkerSession
from conftest import TEST_SECRET, solution_namespace
from dlcourse.autograder.engine.sandboxed.drivers.keras import model_spec
from dlcourse.references import cnn_architectures as cnn

NUMPY_DRIVERS = {"call", "forward_backward", "numerical_gradient", "steps", "rng_probe", "raises"}
KERAS_DRIVERS = {"keras_model", "keras_call", "keras_fit", "gan_step", "gan_train"}



def test_each_driver_is_a_module_named_as_its_driver_with_its_request_shape_documented():
    found = drivers.available()
    assert set(found) == NUMPY_DRIVERS | KERAS_DRIVERS
    for name, module in found.items():
        assert module.__name__.endswith(("drivers." + name, "drivers.keras." + name)), module.__name__
        assert ("drivers.keras." in module.__name__) == (name in KERAS_DRIVERS), module.__name__
        assert "Request" in (module.__doc__ or ""), f"{name}: its docstring should say what the request holds"


def test_only_keras_assignments_get_the_keras_drivers_and_the_shared_model_description():
    numpy_files = {name for name, _ in runtime.worker_files(False)}
    keras_files = dict(runtime.worker_files(True))
    assert {f"drivers/{name}.py" for name in NUMPY_DRIVERS} <= numpy_files
    assert not any(name.startswith("drivers/keras/") for name in numpy_files)
    assert {f"drivers/keras/{name}.py" for name in KERAS_DRIVERS} <= set(keras_files)
    assert keras_files["drivers/keras/model_spec.py"].samefile(model_spec.__file__)
    folder = runtime.SANDBOXED_DIR
    assert all(source.is_relative_to(folder) and source.relative_to(folder).as_posix() == name
               for name, source in keras_files.items())


def test_the_reference_and_the_worker_describe_models_with_one_function():
    from dlcourse.autograder.engine.sandboxed.drivers.keras import model_spec as worker_spec

    assert worker_spec is model_spec and cnn.describe is model_spec.describe


def test_a_numpy_assignments_worker_has_no_keras_driver(level):
    """A Keras request in a NumPy assignment's sandbox finds no driver: the worker stops, a crash."""
    with WorkerSession(Sandbox(frameworks=False, isolation=level), cells=[]) as session:
        reply = session.run({"op": "run", "unit": "f", "driver": "keras_call", "args": []}, 30.0)
    assert isinstance(reply, Failure) and reply.kind == "crash", reply
    assert "no driver 'keras_call' here" in reply.output, reply.output


def test_a_unit_returning_the_wrong_type_is_a_typed_reply_with_the_same_message(reference_cache):
    namespace = {**solution_namespace("01_backprop"), "dense_forward": lambda x, w, b: x @ w + b}
    case = next(case for case in BACKPROP.cases if case.unit == "dense_backward" and not case.hidden)
    request = case.request(case.make_inputs(None))
    reply = drivers.run_case(namespace, request)
    assert reply["kind"] == "wrong_type" and reply["type"] == "TypeError" and reply["during"] == "dense_forward"
    assert reply["message"] == "dense_forward must return a tuple (out, cache); received numpy.ndarray"
    verdict = CaseRunner(in_process(namespace), reference_cache.expected, secret=TEST_SECRET).verdict(case)
    assert verdict.status == "error" and "raised TypeError (while running `dense_forward`)" in verdict.message


def test_a_raised_error_is_a_typed_reply_naming_what_is_not_defined():
    def dense_forward(x, w, b):
        return undefined_scale * x  # noqa: F821 - the point of the test

    case = next(case for case in BACKPROP.cases if case.unit == "dense_forward" and not case.hidden)
    reply = drivers.run_case({"dense_forward": dense_forward}, case.request(case.make_inputs(None)))
    assert (reply["status"], reply["kind"], reply["type"], reply["name"]) == \
        ("error", "raised", "NameError", "undefined_scale")


def test_a_cases_private_inputs_stay_in_the_grader():
    """A held-out set (01, 06 training), the judge's own noise (09 coverage) and which calls of an argument
    check must raise (02, 03, 07, 08) are inputs the reference and the judge read; the request sent to the
    worker holds none of them."""
    from dlcourse.autograder.cases import ASSIGNMENTS
    from dlcourse.autograder.cases.rejections import RUNS

    private = [case for assignment in ASSIGNMENTS.values() for case in assignment.cases if case.private]
    assert {case.unit for case in private if RUNS not in case.private} == {"train_mlp", "train_lenet5", "train_step"}
    assert {case.unit for case in private if RUNS in case.private} == {
        "compute_fans", "gaussian_init", "uniform_init", "truncated_normal", "activation_stats", "inverse_time_decay",
        "exponential_decay", "rnn_forward", "clip_by_global_norm", "lstm_forward"}
    for case in private:
        inputs = case.make_inputs("secret")
        sent = case.request(inputs)
        assert set(case.private) <= set(inputs)
        assert not set(case.private) & {key for key, _ in sent["args"]}, case.id
        assert not set(case.private) & set(sent), case.id
