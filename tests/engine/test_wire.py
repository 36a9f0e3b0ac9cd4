"""The plain-data format (``sandboxed/wire.py``), on its own: round trips, and replies refused before they are decoded.

The notebook extractor is tested in ``test_extract.py``, the shipped data sets in ``library/test_datasets.py``."""

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
