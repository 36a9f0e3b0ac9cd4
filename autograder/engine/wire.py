"""Plain data across the trust boundary: the only format the grader and the worker exchange.

A message is a NumPy ``.npz`` archive (uncompressed). Arrays are stored as members ``a0, a1, ...``;
everything else is a JSON skeleton stored as the uint8 member ``__skeleton__``. The skeleton holds
numbers, strings, booleans, None, lists, tuples and str-keyed dicts, and points to arrays by name.
Nothing here can carry code: arrays are read with ``allow_pickle=False`` and only numeric or bool
dtypes are accepted, so an object array, a pickle, or a forged archive is a ``WireError``.

This file is bound into the sandbox next to ``worker.py``: it imports only the standard library
and NumPy.
"""

from __future__ import annotations

import io
import json
import math
import struct
import zipfile

import numpy as np

MAX_MESSAGE_BYTES = 256 * 1024 * 1024
_NUMERIC_KINDS = "biuf"
_HEADER = struct.Struct(">Q")


class WireError(ValueError):
    """A message that is not plain data of the expected form."""


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

def decode(data: bytes, max_bytes: int = MAX_MESSAGE_BYTES):
    """Read a message written by :func:`encode`; raise ``WireError`` for anything else."""
    if len(data) > max_bytes:
        raise WireError(f"message of {len(data)} bytes is over the limit of {max_bytes}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > max_bytes:
                raise WireError("message unpacks to more than the size limit")
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except WireError:
        raise
    except Exception as error:  # noqa: BLE001 - any malformed archive is the same failure
        raise WireError(f"not a plain-data message ({type(error).__name__}: {error})") from None
    skeleton = arrays.pop("__skeleton__", None)
    if skeleton is None or skeleton.dtype != np.uint8 or skeleton.ndim != 1:
        raise WireError("message has no skeleton")
    try:
        tree = json.loads(skeleton.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise WireError(f"malformed skeleton: {error}") from None
    return _from_skeleton(tree, arrays, depth=0)


def _from_skeleton(node, arrays, depth):
    if depth > 64:
        raise WireError("structure nested too deep")
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_from_skeleton(item, arrays, depth + 1) for item in node]
    if not isinstance(node, dict) or len(node) > 2:
        raise WireError(f"unexpected skeleton node {str(node)[:80]}")
    if "__array__" in node:
        array = arrays.get(node["__array__"])
        if not isinstance(array, np.ndarray) or array.dtype.kind not in _NUMERIC_KINDS:
            raise WireError("array member missing or not numeric")
        return array[()] if node.get("__scalar__") else array
    if "__tuple__" in node:
        return tuple(_from_skeleton(item, arrays, depth + 1) for item in _list(node["__tuple__"]))
    if "__dict__" in node:
        pairs = _list(node["__dict__"])
        if not all(isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) for pair in pairs):
            raise WireError("malformed dict")
        return {key: _from_skeleton(value, arrays, depth + 1) for key, value in pairs}
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

def write_frame(stream, payload: bytes) -> None:
    """Write one length-prefixed frame to a binary stream and flush it."""
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def read_frame(stream, max_bytes: int = MAX_MESSAGE_BYTES) -> bytes | None:
    """Read one frame from a binary stream; None at end of stream."""
    header = _read_exactly(stream, _HEADER.size)
    if header is None:
        return None
    (length,) = _HEADER.unpack(header)
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
