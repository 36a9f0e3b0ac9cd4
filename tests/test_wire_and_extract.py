"""The plain-data format and the notebook extractor, on their own."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from dlcourse.autograder.engine import wire
from dlcourse.autograder.engine.extract import kept_statements, read_notebook
from dlcourse.datasets import load_digits


def test_wire_round_trips_plain_data():
    value = {"a": np.arange(6.0).reshape(2, 3), "t": (1, 2.5, None, "s", True), "l": [np.int64(3), float("nan")],
             "nested": {"b": np.array([True, False])}}
    back = wire.decode(wire.encode(value))
    np.testing.assert_array_equal(back["a"], value["a"])
    assert back["t"] == (1, 2.5, None, "s", True)
    assert back["l"][0] == 3 and np.isnan(back["l"][1])
    assert back["nested"]["b"].dtype == bool


def test_wire_turns_objects_into_unsupported_markers_without_calling_them():
    class Sneaky:
        def __repr__(self):
            raise AssertionError("must not be called")
    back = wire.decode(wire.encode({"x": Sneaky(), "f": len, "s": np.array(["a"]), "k": {1: 2}}))
    assert all(isinstance(back[key], wire.Unsupported) for key in ("x", "f", "s", "k"))
    assert back["s"].type_name == "numpy array of dtype <U1"


def test_wire_refuses_zip_bombs_and_oversized_messages():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a0.npy", b"\0" * (2 * 2**20))
    with pytest.raises(wire.WireError, match="size limit"):
        wire.decode(buffer.getvalue(), max_bytes=2**20)
    with pytest.raises(wire.WireError, match="over the limit"):
        wire.decode(b"x" * 100, max_bytes=10)


def test_extraction_keeps_definitions_and_quick_assignments_and_drops_calls():
    source = ("%matplotlib inline\n!pip install x\nimport numpy as np\nRATE = 0.5\nSIZES = [64, 10]\n"
              "params = train(x)\nplt.plot(history)\n@decorator\ndef f(x):\n    return x\nclass C:\n    pass\n"
              "for i in range(3):\n    print(i)\nlookup = {k: 1 for k in 'ab'}\n")
    kept = kept_statements(source, "cell 1")
    texts = [text for _, text, _ in kept]
    assert texts == ["import numpy as np", "RATE = 0.5", "SIZES = [64, 10]", "@decorator\ndef f(x):\n    return x",
                     "class C:\n    pass", "lookup = {k: 1 for k in 'ab'}"]
    assert [line for line, _, _ in kept] == [3, 4, 5, 8, 11, 15]
    assert [name for _, _, name in kept if name] == ["f", "C"]


def test_syntax_errors_are_reported_for_code_cells_only():
    problems = []
    assert kept_statements("def f(:\n", "cell 4", problems) == []
    assert problems and problems[0].startswith("cell 4, line 1: SyntaxError")
    assert kept_statements("Some *markdown* text.", "cell 5", None) == []


def test_read_notebook_finds_units_in_any_cell_type(tmp_path):
    import json
    notebook = {"cells": [{"cell_type": "markdown", "source": "# Title"},
                          {"cell_type": "raw", "source": "def g():\n    return 2\n"},
                          {"cell_type": "code", "source": ["def f(", "):\n    return 1\n"]}],
                "metadata": {"dlcourse": {"assignment": "01_backprop"}}}
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(notebook))
    read = read_notebook(path)
    assert read.defined == {"f", "g"} and read.metadata["dlcourse"]["assignment"] == "01_backprop"
    assert [cell["label"] for cell in read.cells] == ["cell 2", "cell 3"]


def test_shipped_digits_load_with_a_fixed_stratified_split():
    x_train, y_train = load_digits("train")
    x_test, y_test = load_digits("test")
    images, _ = load_digits("all", flatten=False)
    assert x_train.shape == (1437, 64) and x_test.shape == (360, 64) and images.shape == (1797, 8, 8, 1)
    assert np.bincount(y_test).tolist() == [36] * 10
    assert 0.0 == x_train.min() and x_train.max() == 1.0
    x_all, _ = load_digits("all")
    assert sorted(map(bytes, np.vstack([x_train, x_test]))) == sorted(map(bytes, x_all))  # a partition
    again, _ = load_digits("test")
    np.testing.assert_array_equal(again, x_test)
    with pytest.raises(ValueError, match="Received split='validation'"):
        load_digits("validation")
