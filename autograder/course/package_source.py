"""The dlcourse package as the Gradescope zip carries it: the source of a checkout, or, where dlcourse
was installed from a wheel (``pip install dlcourse``), that install repacked as a wheel.

A wheel is a zip of the files an install unpacked plus its ``.dist-info``; the installed ``RECORD``
lists them, so repacking needs no build tool and no network (the wheel format: PEP 427).
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from importlib import metadata
from pathlib import Path, PurePosixPath

import dlcourse

CHECKOUT_FILES = ("pyproject.toml", "setup.cfg", "setup.py", "README.md")
CHECKOUT_DIRS = ("dlcourse", "autograder")
NOT_REPACKED = ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")  # written by the installer, not the wheel


def package_files() -> dict[str, bytes]:
    """``{path inside package/: bytes}``: the checkout's source where this dlcourse runs from one, else
    the installed wheel, repacked (``{"dlcourse-0.1.0-py3-none-any.whl": ...}``). Never ``solutions/``."""
    root = Path(dlcourse.__file__).resolve().parent.parent
    if (root / "setup.cfg").is_file() and (root / "autograder").is_dir():
        return checkout_source(root)
    return {wheel_name(): repacked_wheel()}


def checkout_source(root: Path) -> dict[str, bytes]:
    files = {name: (root / name).read_bytes() for name in CHECKOUT_FILES if (root / name).is_file()}
    for folder in CHECKOUT_DIRS:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def wheel_name() -> str:
    tag = _wheel_tag(metadata.distribution("dlcourse"))
    return f"dlcourse-{metadata.version('dlcourse')}-{tag}.whl"


def repacked_wheel() -> bytes:
    """The installed distribution as a wheel: its files (console scripts and caches left out: pip makes
    them again) and its ``.dist-info`` with a fresh ``RECORD``."""
    distribution = metadata.distribution("dlcourse")
    members: dict[str, bytes] = {}
    for entry in distribution.files or ():
        path = PurePosixPath(str(entry))
        if path.parts[0] == ".." or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        if path.parent.name.endswith(".dist-info") and path.name in NOT_REPACKED:
            continue
        members[str(path)] = Path(distribution.locate_file(entry)).read_bytes()
    info = next(name for name in members if name.endswith(".dist-info/METADATA")).rsplit("/", 1)[0]
    record = [f"{name},sha256={_digest(data)},{len(data)}" for name, data in sorted(members.items())]
    members[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in members.items():
            wheel.writestr(name, data)
    return buffer.getvalue()


def _wheel_tag(distribution) -> str:
    for line in (distribution.read_text("WHEEL") or "").splitlines():
        if line.startswith("Tag:"):
            return line.split(":", 1)[1].strip()
    return "py3-none-any"


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
