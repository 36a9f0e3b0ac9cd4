"""The plain-data format and the notebook extractor, on their own."""

from __future__ import annotations

import io
import pickle
import struct
import time
import zipfile
import zlib

import numpy as np
import pytest

from dlcourse.autograder.engine.sandboxed import wire
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


def test_wire_round_trips_every_kind_of_array_encode_writes():
    arrays = [np.asfortranarray(np.arange(12.0).reshape(3, 4)), np.arange(6, dtype=">i4").reshape(2, 3),
              np.zeros((0, 5), dtype=np.float32), np.array(7, dtype=np.uint64), np.array([True, False]),
              np.arange(4, dtype=np.float16), np.ones((1, 1, 1, 1, 1, 1, 1, 1), dtype=np.int8)]
    back = wire.decode(wire.encode({"arrays": arrays, "scalars": [np.float64(0.25), np.int32(-3), np.bool_(True)]}))
    for sent, received in zip(arrays, back["arrays"]):
        np.testing.assert_array_equal(received, sent)
        assert received.shape == sent.shape and received.dtype == sent.dtype.newbyteorder("=")
        assert received.flags.writeable
    assert back["scalars"] == [0.25, -3, True] and isinstance(back["scalars"][0], np.float64)


def test_wire_accepts_a_message_of_as_many_arrays_as_the_limit_allows():
    value = [np.float64(k) for k in range(wire.MAX_MEMBERS - 1)]  # and the skeleton
    assert wire.decode(wire.encode(value)) == value
    with pytest.raises(wire.BoundError, match=f"{wire.MAX_MEMBERS + 1} members"):
        wire.decode(wire.encode(value + [np.float64(1)]))


def stored_zip(members, claimed=None, method=zipfile.ZIP_STORED) -> bytes:
    """A zip of ``[(name, data)]`` written by hand as a student would (fast enough for 600,000 members);
    its end record claims ``claimed`` members (all of them by default)."""
    local, central, offset = [], [], 0
    for name, data in members:
        raw, crc = name.encode(), zlib.crc32(data)
        header = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0, crc, len(data), len(data), len(raw), 0)
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0, crc, len(data), len(data),
                                   len(raw), 0, 0, 0, 0, 0, offset) + raw)
        local.append(header + raw + data)
        offset += len(header) + len(raw) + len(data)
    directory = b"".join(central)
    count = len(central) if claimed is None else claimed
    return b"".join(local) + directory + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count,
                                                     len(directory), offset, 0)


def members_of(message: bytes) -> list:
    with zipfile.ZipFile(io.BytesIO(message)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    return buffer.getvalue()


HONEST = wire.encode({"status": "ok", "value": (np.float64(0.5), np.arange(8.0)), "mutated": []})


def refused(message: bytes, bound: str, match: str, **limits) -> float:
    """Decode ``message``, expecting a ``BoundError`` on ``bound`` whose text matches; return its seconds."""
    started = time.perf_counter()
    with pytest.raises(wire.BoundError, match=match) as error:
        wire.decode(message, **limits)
    assert error.value.bound == bound
    return time.perf_counter() - started


@pytest.mark.parametrize(("extra", "claimed"), [(60_000, None), (600_000, 3)])
def test_a_reply_of_many_empty_members_is_refused_from_its_directory_in_a_fraction_of_a_second(extra, claimed):
    """60,000 empty members made a decode take seconds (minutes with older NumPy); 600,000 behind an end
    record that claims 3 (50 MB), 25 s."""
    bomb = stored_zip(members_of(HONEST) + [(str(k), b"") for k in range(extra)], claimed=claimed)
    assert refused(bomb, "member count", "members", max_bytes=64 * 2**20) < 0.5


def test_member_names_must_be_those_encode_writes():
    members = members_of(HONEST)
    refused(stored_zip(members + [("evil.npy", npy(np.zeros(1)))]), "names", "'evil.npy' is not named as encode")
    refused(stored_zip(members + [("a01.npy", npy(np.zeros(1)))]), "names", "not named as encode")
    refused(stored_zip(members + [members[0]]), "names", "appears twice")


def test_compressed_members_and_zip_bombs_are_refused_before_inflating():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a0.npy", b"\0" * (2 * 2**20))
    refused(buffer.getvalue(), "compression", "a0.npy is compressed", max_bytes=2**20)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, a0=np.zeros(3), __skeleton__=np.frombuffer(b'{"__array__": "a0"}', np.uint8))
    refused(buffer.getvalue(), "compression", "compressed")


def test_declared_sizes_must_agree_with_the_data_and_the_limits():
    refused(b"x" * 100, "frame size", "over the limit of 10", max_bytes=10)
    entry = HONEST.index(b"PK\x01\x02")
    huge = bytearray(HONEST)
    huge[entry + 20:entry + 28] = struct.pack("<2L", 0xFFFFFFF0, 0xFFFFFFF0)
    refused(bytes(huge), "total size", "over the size limit")
    longer = bytearray(HONEST)
    longer[entry + 20:entry + 28] = struct.pack("<2L", 4000, 4000)  # under the limits, past the data
    refused(bytes(longer), "member size", "declares 4000 bytes, but the message holds only")
    unequal = bytearray(HONEST)
    unequal[entry + 24:entry + 28] = struct.pack("<L", 4000)
    refused(bytes(unequal), "member size", "declares 4000 bytes unpacked but")
    short = npy(np.zeros(10))[:-8]  # a header for 10 values, 9 values of data
    refused(stored_zip([("a0.npy", short), *members_of(HONEST)[2:]]), "member size", r"shape \(10,\) of float64")


@pytest.mark.parametrize("array", [np.array([len, 1.0], dtype=object), np.array(["a"]),
                                   np.zeros(2, dtype=[("x", "<f8")]), np.zeros(2, dtype=complex)])
def test_arrays_of_other_dtypes_are_refused_from_their_header(array):
    members = [("a0.npy", npy(array)) if name == "a0.npy" else (name, data) for name, data in members_of(HONEST)]
    refused(stored_zip(members), "dtypes", "only bool, integer and floating")


def test_a_long_skeleton_is_refused_before_it_is_parsed():
    refused(wire.encode([0.5] * 2_000_000), "skeleton size", "long lists of numbers cross as NumPy arrays")


def test_archives_encode_never_writes_are_refused():
    for message in (HONEST + b"trailing", HONEST[:-2] + b"\x05\x00comment", pickle.dumps({"status": "ok"})):
        with pytest.raises(wire.WireError, match="not a plain-data message"):
            wire.decode(message)
    end = len(HONEST) - 22
    zip64 = HONEST[:end] + b"PK\x06\x07" + bytes(16) + HONEST[end:]  # a ZIP64 locator before the end record
    refused(zip64, "member count", "ZIP64 end record")


def test_decoding_counts_against_a_deadline():
    message = wire.encode({"value": [np.float64(k) for k in range(2000)], "text": ["x"] * 10_000})
    assert len(wire.decode(message, deadline=time.monotonic() + 60)["value"]) == 2000
    with pytest.raises(wire.DeadlinePassed, match="past its deadline"):
        wire.decode(message, deadline=time.monotonic() - 1)


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


def test_a_drawn_glyph_task_is_balanced_reproducible_new_and_learnable():
    """``make_glyphs``: what 01's and 06's training cases train on. The same generator gives the same
    task; another gives other symbols (nothing prepared for one task fits the next); the class means of
    one task tell its held-out images apart far better than chance but not perfectly (it must be learned)."""
    from dlcourse.datasets import make_glyphs

    x, y, x_test, y_test = make_glyphs(np.random.default_rng(3))
    assert x.shape == (1500, 8, 8) and x_test.shape == (400, 8, 8) and x.dtype == np.float64
    assert np.bincount(y).tolist() == [150] * 10 and np.bincount(y_test).tolist() == [40] * 10
    assert 0.0 <= x.min() and x.max() <= 1.0 and not np.array_equal(y[:20], np.sort(y[:20]))  # shuffled
    again = make_glyphs(np.random.default_rng(3))
    np.testing.assert_array_equal(again[0], x)
    other_x, other_y, _, _ = make_glyphs(np.random.default_rng(4))
    means = np.stack([x[y == k].mean(0).ravel() for k in range(10)])
    other_means = np.stack([other_x[other_y == k].mean(0).ravel() for k in range(10)])
    nearest = np.argmin(((x_test.reshape(len(x_test), 1, 64) - means) ** 2).sum(-1), 1)
    accuracy = np.mean(nearest == y_test)
    assert 0.75 < accuracy < 0.99, accuracy
    # the symbols of another task are others: none of this task's means is close to one of them
    gaps = np.linalg.norm(means[:, None] - other_means[None], axis=-1).min(axis=1)
    assert gaps.min() > 0.5 * np.linalg.norm(means[:, None] - means[None], axis=-1)[~np.eye(10, dtype=bool)].min()
