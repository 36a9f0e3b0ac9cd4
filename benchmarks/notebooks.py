"""How long each solution notebook takes to run top to bottom, alone, against the course's promise of 2 minutes
on 2 cores (a student's machine). Prints figures and the ratio to the promise; asserts nothing.

    .venv/bin/python benchmarks/notebooks.py [01_backprop 06_cnn_architectures ...]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parent.parent
PROMISE_SECONDS = 120.0


def run(path: Path) -> float:
    """Seconds to execute ``path`` in a fresh kernel (figures drawn off screen), from a scratch folder."""
    notebook = nbformat.read(path, as_version=4)
    os.environ["MPLBACKEND"] = "Agg"
    with tempfile.TemporaryDirectory() as workdir:
        started = time.perf_counter()
        nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": workdir}}).execute()
        return time.perf_counter() - started


def main(names: list[str]) -> int:
    paths = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    if names:
        paths = [path for path in paths if path.stem in names]
    print(f"{'notebook':28} {'seconds':>8}  of the {PROMISE_SECONDS:.0f} s promise")
    for path in paths:
        seconds = run(path)
        print(f"{path.stem:28} {seconds:8.1f}  {seconds / PROMISE_SECONDS:.2f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
