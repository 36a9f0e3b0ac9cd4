"""Plain data across the trust boundary: the only format the grader and the worker exchange.

A message is a NumPy ``.npz`` archive (uncompressed). Arrays are stored as members ``a0, a1, ...``;
everything else is a JSON skeleton stored as the uint8 member ``__skeleton__``. The skeleton holds
numbers, strings, booleans, None, lists, tuples and str-keyed dicts, and points to arrays by name.
Nothing here can carry code: a member's data is read only after its ``.npy`` header says a numeric
or bool dtype, so an object array, a pickle, or a forged archive is a ``WireError``.

Decoding costs the reader little whatever was sent: the member count, names, compression and sizes
are checked from the zip directory before any member is read, each header before its data, and a
message over a bound is a ``BoundError`` that names the bound. A deadline given to ``decode`` counts
the rest (``DeadlinePassed``).

This file is bound into the sandbox next to ``worker.py``: it imports only the standard library
and NumPy.
"""

from __future__ import annotations

import io
import json
import math
import re
import struct
import time
import zipfile
from enum import StrEnum

import numpy as np

MAX_MESSAGE_BYTES = 256 * 1024 * 1024
# Arrays in one message. Honest replies hold at most a few hundred (a 50-step RNN cache: about 300); every
# NumPy scalar is an array of its own, so a list of a thousand np.float64 still fits.
MAX_MEMBERS = 4096
# The JSON skeleton: json.loads cannot be interrupted, and 64 MB of "[]," is 20 million lists in the grader.
MAX_SKELETON_BYTES = 8 * 1024 * 1024
_NUMERIC_KINDS = "biuf"
_HEADER = struct.Struct(">Q")
_MEMBER_NAME = re.compile(r"a(0|[1-9][0-9]{0,8})\.npy|__skeleton__\.npy")
_ZIP_END = struct.Struct("<4s4H2LH")  # end of central directory record
_ZIP_END_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP_LOCAL = struct.Struct("<4s5H3L2H")  # local file header
_ZIP_LOCAL_SIGNATURE = b"PK\x03\x04"
_MAX_DIRECTORY_ENTRY = 46 + len("__skeleton__.npy") + 28  # fixed part, longest name, a ZIP64 extra field
_ENCRYPTED = 0x1
_MAX_NPY_HEADER = 4096  # encode's headers take about 128 bytes; a 32-dimensional shape under 1 KB


class Op(StrEnum):
    """The ``"op"`` of a request from the grader to the worker.

    A request carries ``Op.X.value``, a plain ``str``: ``encode`` turns any subclass of ``str`` (a member
    included) into an unsupported marker. A member compares equal to its string, so ``request["op"] == Op.X``.
    """

    PROBE = "probe"  # what confinement holds (before any student code is loaded)
    LOAD = "load"  # execute the notebook's kept statements
    RUN = "run"  # run one case
    PROGRESS = "progress"  # the answer to a driver's progress report: stop or go on


class WireError(ValueError):
    """A message that is not plain data of the expected form."""


class BoundError(WireError):
    """A message over one of the bounds checked before its data is read: frame size, member count, names,
    compression, member and total size, dtypes, skeleton size.

    Args:
        bound: which bound, in words ("member count").
        message: what was found, and the limit.
    """

    def __init__(self, bound: str, message: str):
        super().__init__(message)
        self.bound = bound


class DeadlinePassed(WireError):
    """Decoding ran past the deadline it was given."""


class Unsupported:
    """Stands for a value that plain data cannot carry (an object, a function, ...).

    Only its type name crosses: the grader reports it; it never sees the object.
    """

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"Unsupported({self.type_name})"


# ----------------------------------------------------------------------------- encoding

def encode(obj) -> bytes:
    """Return ``obj`` as an npz message. Values plain data cannot carry become ``Unsupported``."""
    arrays: dict[str, np.ndarray] = {}
    skeleton = _to_skeleton(obj, arrays, depth=0)
    text = json.dumps(skeleton, allow_nan=False).encode("utf-8")
    arrays["__skeleton__"] = np.frombuffer(text, dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _to_skeleton(obj, arrays, depth):
    if depth > 32:
        return {"__unsupported__": "a structure nested more than 32 deep"}
    if obj is None or type(obj) in (bool, str):
        return obj
    if type(obj) is int:
        return obj if abs(obj) < 2**63 else float(obj)
    if type(obj) is float:
        return obj if math.isfinite(obj) else {"__float__": repr(obj)}
    if type(obj) is np.ndarray or isinstance(obj, np.generic):
        array = np.asarray(obj)
        if array.dtype.kind not in _NUMERIC_KINDS:
            return {"__unsupported__": f"numpy array of dtype {array.dtype}"}
        name = f"a{len(arrays)}"
        arrays[name] = np.array(array, copy=True)  # a plain ndarray, never a subclass
        return {"__array__": name, "__scalar__": isinstance(obj, np.generic)}
    if type(obj) in (list, tuple):
        items = [_to_skeleton(item, arrays, depth + 1) for item in obj]
        return items if type(obj) is list else {"__tuple__": items}
    if type(obj) is dict and all(type(key) is str for key in obj):
        return {"__dict__": [[key, _to_skeleton(value, arrays, depth + 1)] for key, value in obj.items()]}
    return {"__unsupported__": _type_name(obj)}


def _type_name(obj) -> str:
    kind = type(obj)
    module = getattr(kind, "__module__", "") or ""
    name = getattr(kind, "__qualname__", "object")
    return name if module in ("builtins", "__main__", "") else f"{module}.{name}"


# ----------------------------------------------------------------------------- decoding

def decode(data: bytes, max_bytes: int = MAX_MESSAGE_BYTES, *, max_members: int = MAX_MEMBERS,
           deadline: float | None = None):
    """Read a message written by :func:`encode`; raise ``WireError`` for anything else.

    What the zip directory shows (member count, names, compression, sizes) is checked before any member
    is read, and each member's ``.npy`` header (dtype, shape) before its data, so a message over a bound
    (``BoundError``) costs a fraction of a second however it was made. Members are read straight from
    ``data``: ``np.load``, whose archive object opens member by member, is never used.

    Args:
        data: the message.
        max_bytes: the most bytes the message, and its members together, may hold.
        max_members: the most arrays (npz members) it may hold.
        deadline: a ``time.monotonic()`` value; decoding past it raises ``DeadlinePassed``.
    """
    clock = _Clock(deadline)
    if len(data) > max_bytes:
        raise BoundError("frame size", f"message of {len(data)} bytes is over the limit of {max_bytes}")
    arrays = _read_members(data, max_bytes, max_members, clock)
    skeleton = arrays.pop("__skeleton__", None)
    if skeleton is None or skeleton.dtype != np.uint8 or skeleton.ndim != 1:
        raise WireError("message has no skeleton")
    if skeleton.size > MAX_SKELETON_BYTES:
        raise BoundError("skeleton size", f"the skeleton (everything but arrays) takes {skeleton.size} bytes, over "
                         f"the limit of {MAX_SKELETON_BYTES} (long lists of numbers cross as NumPy arrays)")
    try:
        tree = json.loads(skeleton.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise WireError(f"malformed skeleton: {error}") from None
    clock.check()
    return _from_skeleton(tree, arrays, 0, clock)


class _Clock:
    """Checks a deadline every ``every`` ticks (a ``time.monotonic()`` call costs more than a tick)."""

    def __init__(self, deadline: float | None, every: int = 256):
        self.deadline, self.every, self.ticks = deadline, every, 0

    def tick(self) -> None:
        self.ticks += 1
        if self.ticks % self.every == 0:
            self.check()

    def check(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise DeadlinePassed("decoding the message ran past its deadline")


def _read_members(data: bytes, max_bytes: int, max_members: int, clock: _Clock) -> dict[str, np.ndarray]:
    """The message's arrays by name (``a0``, ..., ``__skeleton__``), each bound checked before it is read."""
    entries, directory_start = _directory(data, max_bytes, max_members)
    view, arrays, end_of_previous = memoryview(data), {}, 0
    for info in sorted(entries, key=lambda info: info.header_offset):
        clock.tick()
        start, end_of_previous = _member_span(view, info, end_of_previous, directory_start)
        arrays[info.filename[:-len(".npy")]] = _array(info.filename, view[start:end_of_previous])
    return arrays


def _directory(data: bytes, max_bytes: int, max_members: int) -> tuple[list[zipfile.ZipInfo], int]:
    """The zip directory's entries and where it starts, once its end record, member count, names,
    compression and sizes hold.

    The end record is read first: its member count, and the directory's size, bound what ``zipfile``
    will parse. ``encode`` writes no archive comment, no ZIP64 end record and nothing after the end record.
    """
    end = len(data) - _ZIP_END.size
    if end < 0 or data[end:end + 4] != _ZIP_END_SIGNATURE:
        raise WireError("not a plain-data message (no zip end record where encode writes it)")
    _, disk, first_disk, here, count, size, offset, comment = _ZIP_END.unpack_from(data, end)
    if end >= 20 and data[end - 20:end - 16] == _ZIP64_LOCATOR_SIGNATURE:
        raise BoundError("member count", "the message has a ZIP64 end record, which no message needs")
    if disk or first_disk or here != count or comment or offset + size != end:
        raise WireError("not a plain-data message (its zip end record is not one encode writes)")
    if count > max_members:
        raise BoundError("member count", f"the message has {count} members (arrays), over the limit of {max_members}")
    if size > count * _MAX_DIRECTORY_ENTRY:
        raise BoundError("member count", f"the zip directory takes {size} bytes, more than {count} members need "
                         f"(at most {_MAX_DIRECTORY_ENTRY} bytes each)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except Exception as error:  # noqa: BLE001 - any malformed directory is the same failure
        raise WireError(f"not a plain-data message ({type(error).__name__}: {error})") from None
    if len(entries) != count:
        raise BoundError("member count", f"the zip directory lists {len(entries)} members, but its end record says {count}")
    names, total = set(), 0
    for info in entries:
        name = info.filename
        if not _MEMBER_NAME.fullmatch(name):
            raise BoundError("names", f"member {name[:40]!r} is not named as encode names them "
                             "(a0.npy, a1.npy, ..., __skeleton__.npy)")
        if name in names:
            raise BoundError("names", f"member {name!r} appears twice")
        names.add(name)
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & _ENCRYPTED:
            raise BoundError("compression", f"member {name} is compressed or encrypted (method {info.compress_type}); "
                             "members are stored as they are")
        if info.compress_size != info.file_size:
            raise BoundError("member size", f"member {name} declares {info.file_size} bytes unpacked but "
                             f"{info.compress_size} stored; a stored member's two sizes are equal")
        total += info.file_size
    if total > max_bytes:
        raise BoundError("total size", f"the members declare {total} bytes in all, over the size limit of {max_bytes}")
    return entries, offset


def _member_span(data: memoryview, info: zipfile.ZipInfo, not_before: int, directory_start: int) -> tuple[int, int]:
    """Where ``info``'s data lies in ``data``: after its local header, after the previous member, before the directory."""
    offset = info.header_offset
    if offset < not_before or offset + _ZIP_LOCAL.size > directory_start:
        raise BoundError("member size", f"member {info.filename} overlaps another member or the zip directory")
    signature, _, _, method, _, _, _, _, _, name_length, extra_length = _ZIP_LOCAL.unpack_from(data, offset)
    start = offset + _ZIP_LOCAL.size + name_length + extra_length
    if signature != _ZIP_LOCAL_SIGNATURE or method != zipfile.ZIP_STORED \
            or bytes(data[offset + _ZIP_LOCAL.size:offset + _ZIP_LOCAL.size + name_length]) != info.filename.encode():
        raise WireError(f"not a plain-data message (member {info.filename}'s local header disagrees with the directory)")
    if start + info.file_size > directory_start:
        raise BoundError("member size", f"member {info.filename} declares {info.file_size} bytes, but the message holds "
                         f"only {max(directory_start - start, 0)} after its header")
    return start, start + info.file_size


def _array(name: str, blob: memoryview) -> np.ndarray:
    """The array of one ``.npy`` member, once its header says a numeric dtype and a shape that fills ``blob``."""
    if len(blob) < 12 or bytes(blob[:6]) != b"\x93NUMPY":
        raise WireError(f"not a plain-data message (member {name} is not a .npy array)")
    version = (blob[6], blob[7])
    if version not in ((1, 0), (2, 0)):
        raise WireError(f"not a plain-data message (member {name} is .npy version {version}; encode writes 1.0 or 2.0)")
    length_size = 2 if version == (1, 0) else 4
    header_length = int.from_bytes(blob[8:8 + length_size], "little")
    data_start = 8 + length_size + header_length
    if header_length > _MAX_NPY_HEADER or data_start > len(blob):
        raise BoundError("member size", f"member {name}'s .npy header declares {header_length} bytes "
                         f"(at most {_MAX_NPY_HEADER}, within the member)")
    stream = io.BytesIO(bytes(blob[:data_start]))
    try:
        np.lib.format.read_magic(stream)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran_order, dtype = read_header(stream, max_header_size=_MAX_NPY_HEADER)
    except Exception as error:  # noqa: BLE001 - any malformed header is the same failure
        raise WireError(f"not a plain-data message (member {name}: {type(error).__name__}: {error})") from None
    if dtype.kind not in _NUMERIC_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise BoundError("dtypes", f"member {name} has dtype {str(dtype)[:60]}; only bool, integer and floating "
                         "arrays cross")
    if any(side < 0 for side in shape):
        raise WireError(f"not a plain-data message (member {name} has shape {shape})")
    count = math.prod(shape)
    if count * dtype.itemsize != len(blob) - data_start:
        raise BoundError("member size", f"member {name}'s header declares shape {shape} of {dtype} "
                         f"({count * dtype.itemsize} bytes), but it holds {len(blob) - data_start}")
    flat = np.frombuffer(blob, dtype=dtype, count=count, offset=data_start).astype(dtype.newbyteorder("="))
    return flat.reshape(shape[::-1]).transpose() if fortran_order else flat.reshape(shape)


def _from_skeleton(node, arrays, depth, clock):
    clock.tick()
    if depth > 64:
        raise WireError("structure nested too deep")
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_from_skeleton(item, arrays, depth + 1, clock) for item in node]
    if not isinstance(node, dict) or len(node) > 2:
        raise WireError(f"unexpected skeleton node {str(node)[:80]}")
    if "__array__" in node:
        array = arrays.get(node["__array__"])
        if not isinstance(array, np.ndarray) or array.dtype.kind not in _NUMERIC_KINDS:
            raise WireError("array member missing or not numeric")
        return array[()] if node.get("__scalar__") else array
    if "__tuple__" in node:
        return tuple(_from_skeleton(item, arrays, depth + 1, clock) for item in _list(node["__tuple__"]))
    if "__dict__" in node:
        pairs = _list(node["__dict__"])
        if not all(isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) for pair in pairs):
            raise WireError("malformed dict")
        return {key: _from_skeleton(value, arrays, depth + 1, clock) for key, value in pairs}
    if "__float__" in node and node["__float__"] in ("nan", "inf", "-inf"):
        return float(node["__float__"])
    if "__unsupported__" in node and isinstance(node["__unsupported__"], str):
        return Unsupported(node["__unsupported__"][:200])
    raise WireError(f"unexpected skeleton node {str(node)[:80]}")


def _list(value) -> list:
    if not isinstance(value, list):
        raise WireError("malformed skeleton")
    return value


# ----------------------------------------------------------------------------- framing

HEADER_BYTES = _HEADER.size


def frame(payload: bytes) -> bytes:
    """``payload`` behind its length (8 bytes, big-endian): one frame, as both sides write and read it."""
    return _HEADER.pack(len(payload)) + payload


def frame_length(buffer) -> int | None:
    """The payload length that the frame at the start of ``buffer`` announces; None before its header is whole."""
    return _HEADER.unpack(bytes(buffer[:HEADER_BYTES]))[0] if len(buffer) >= HEADER_BYTES else None


def write_frame(stream, payload: bytes) -> None:
    """Write one frame to a binary stream and flush it."""
    stream.write(frame(payload))
    stream.flush()


def read_frame(stream, max_bytes: int = MAX_MESSAGE_BYTES) -> bytes | None:
    """Read one frame from a binary stream; None at end of stream."""
    header = _read_exactly(stream, HEADER_BYTES)
    if header is None:
        return None
    length = frame_length(header)
    if length > max_bytes:
        raise WireError(f"frame of {length} bytes is over the limit of {max_bytes}")
    payload = _read_exactly(stream, length)
    if payload is None:
        raise WireError("stream ended inside a frame")
    return payload


def _read_exactly(stream, size: int) -> bytes | None:
    chunks, remaining = [], size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
