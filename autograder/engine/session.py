"""A conversation with one sandboxed worker: load the student's code once, then run cases.

If a case hangs, crashes the worker, or breaks the protocol, that case fails and the worker is
killed; the next case starts a fresh worker. So one bad unit never costs the rest of a submission.
Closing a session kills every process of the worker's uid (a daemon that called ``setsid`` too)
and removes its scratch folder, before anything is scored or written.

Workers are started by ``pool.spawn``; in a batch a ``WorkerPool`` has the next one started ahead,
and hands it to one session only. While a training case runs, the worker may send progress reports,
each answered with one bit, "stop" (``drivers/_progress.py``), before its reply.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass, field
from enum import StrEnum

from dlcourse.autograder.engine.sandboxed import wire
from dlcourse.autograder.engine.pool import Spawned, WorkerPool, spawn
from dlcourse.autograder.engine.sandbox import Sandbox

LOAD_TIMEOUT = 60.0
MAX_REPLY_BYTES = 64 * 1024 * 1024
MAX_CAPTURED_OUTPUT = 16 * 1024
# Errors after which a worker may be unusable (memory or stack exhausted, an exit or an interrupt
# raised inside the unit): the next case gets a fresh worker. After any other error the worker goes on
# with the next case, as after a wrong answer: a fresh Keras worker costs TensorFlow's import (about 3 s)
# for each case of a unit that raises. A worker that died, hung or sent garbage is always replaced.
RESTART_AFTER = frozenset({"MemoryError", "RecursionError", "SystemExit", "KeyboardInterrupt", "GeneratorExit"})


class FailureKind(StrEnum):
    """Why a case produced no reply: for the grader to act on, never read from a message."""

    TIMEOUT = "timeout"  # past its time limit: killed
    CRASH = "crash"  # the worker died or exited
    TOO_LARGE = "too_large"  # a reply over MAX_REPLY_BYTES
    PROTOCOL = "protocol"  # a reply that is not plain data or not a status dict


@dataclass
class Failure:
    """A case that produced no reply.

    Args:
        kind: what went wrong, a ``FailureKind`` (a plain string is converted; an unknown one is a ValueError).
        message: what went wrong, for the student.
        output: what the worker printed (bounded).
        loading: the student's code could not be loaded, so no case ran.
    """

    kind: FailureKind
    message: str
    output: str = ""
    loading: bool = False

    @classmethod
    def timed_out(cls, seconds: float, output: str = "") -> Failure:
        """A case past its time limit (the sandbox's and a check's alike)."""
        return cls(FailureKind.TIMEOUT, f"timed out after {seconds:g} s (an infinite loop, or far too slow)", output)

    def __post_init__(self):
        if self.kind not in set(FailureKind):
            raise ValueError(f"Expected a failure kind among {', '.join(FailureKind)}. Received kind={self.kind!r}.")
        self.kind = FailureKind(self.kind)


@dataclass
class WorkerSession:
    """Runs cases against one submission's code in sandboxed workers.

    Args:
        sandbox: how workers are started.
        cells: the student's kept statements, as ``extract.kept_cells`` returns them.
    """

    sandbox: Sandbox
    cells: list
    load_problems: list[str] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    last_seconds: float = 0.0  # wall time of the last case, measured here (the worker cannot forge it)
    starts: int = 0  # workers started for this submission (the first, and one after each restart)
    _worker: Spawned | None = None  # the running worker: process, reply pipe, uid lease, scratch folder
    pool: WorkerPool | None = None
    _pooled: bool = False  # this session's first worker came from (or was started beside) the pool
    _output: bytearray = field(default_factory=bytearray)

    def run(self, request: dict, timeout: float, progress=None) -> dict | Failure:
        """Send one case; return the worker's plain reply, or a ``Failure``.

        Args:
            request: the case's plain request.
            timeout: wall-clock seconds for the whole case, progress reports included.
            progress: ``(value, at) -> bool``, the answer to each progress report the worker sends while
                the case runs (``drivers/_progress.py``): True tells it to stop training. Without it every
                report is answered False.
        """
        if self._worker is None:
            started = self._start()
            if isinstance(started, Failure):
                return started
        started = time.monotonic()
        reply = self._exchange(request, timeout, progress)
        self.last_seconds = time.monotonic() - started
        if isinstance(reply, Failure) or (reply.get("status") == "error" and reply.get("type") in RESTART_AFTER):
            self.close()  # the next case gets a clean worker: see RESTART_AFTER
        return reply

    def probe(self, worker: Spawned | None = None, **targets: str) -> dict | Failure:
        """Start a worker without student code (or take ``worker``, one just started) and ask what confinement
        holds in it; ``targets`` are what its probe tries to reach (``worker.probe``: a ``canary`` file, a
        ``writable`` folder)."""
        self.close()
        reply = self._start(probe={"op": wire.Op.PROBE.value, **targets}, worker=worker)
        self.close()
        return reply

    def close(self) -> None:
        """Kill the worker (if any) and everything it started (``Spawned.kill``)."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------------- details

    def _start(self, probe: dict | None = None, worker: Spawned | None = None) -> dict | Failure:
        first = self.pool is not None and not probe and not self._pooled
        spawned = self.pool.take(self.sandbox) if first else worker  # a restart after an error starts cold
        if spawned is None:
            spawned = spawn(self.sandbox)
        self._worker = spawned
        self.starts += 0 if probe else 1
        if first:
            self._pooled = True
            self.pool.prepare(self.sandbox)  # the next submissions' workers start while this one is graded
        if probe:
            return self._exchange(probe, LOAD_TIMEOUT)
        loaded = self._exchange({"op": wire.Op.LOAD.value, "cells": self.cells}, LOAD_TIMEOUT)
        if isinstance(loaded, Failure):
            self.close()
            return Failure(loaded.kind, f"your code could not be loaded: {loaded.message}", loaded.output, loading=True)
        problems = loaded.get("problems") if isinstance(loaded, dict) else None
        if isinstance(problems, list):
            self.load_problems = [str(problem)[:500] for problem in problems[:20]]
        unavailable = loaded.get("unavailable") if isinstance(loaded, dict) else None
        if isinstance(unavailable, list):
            self.unavailable = sorted({str(name)[:80] for name in unavailable[:50]})
        return loaded

    def _exchange(self, request: dict, timeout: float, progress=None) -> dict | Failure:
        """Write a request frame, read one reply frame, keep what the worker prints; all within ``timeout``.

        Progress reports met on the way (``{"status": "progress", ...}``) are answered with ``progress``
        (False without it) and the reading goes on."""
        deadline = time.monotonic() + timeout
        self._output.clear()
        with _Pump(self._worker, self._output) as pump:
            pump.send(wire.frame(wire.encode(request)))
            while True:
                frame = _complete_frame(pump.incoming)
                if isinstance(frame, Failure):
                    return frame
                if frame is None:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return Failure.timed_out(timeout, self._captured())
                    if not pump.turn(min(remaining, 1.0)):
                        return self._death()
                    if len(pump.incoming) > MAX_REPLY_BYTES + wire.HEADER_BYTES:
                        return Failure(FailureKind.TOO_LARGE, "the reply broke a bound: it was larger than the frame size "
                                       f"limit of {MAX_REPLY_BYTES} bytes")
                    continue
                reply = self._decode(frame, deadline, timeout)
                if isinstance(reply, Failure) or reply.get("status") != "progress":
                    return reply
                del pump.incoming[:wire.HEADER_BYTES + len(frame)]
                stop = bool(progress(reply.get("value"), reply.get("at"))) if progress is not None else False
                pump.send(wire.frame(wire.encode({"op": wire.Op.PROGRESS.value, "stop": stop})))

    def _decode(self, frame: bytes, deadline: float, timeout: float) -> dict | Failure:
        """The reply in ``frame``, decoded within the case's ``deadline``; a ``Failure`` naming the bound it broke.

        Every bound of ``wire.decode`` is checked before the reply's data is read, so a crafted reply costs
        the grader a fraction of a second; decoding an honest one counts against the case's time."""
        try:
            reply = wire.decode(frame, MAX_REPLY_BYTES, deadline=deadline)
        except wire.DeadlinePassed:
            return Failure(FailureKind.TIMEOUT, f"timed out after {timeout:g} s (the time ran out while its reply was decoded)",
                           self._captured())
        except wire.BoundError as error:
            return Failure(FailureKind.PROTOCOL, f"the reply broke a bound of plain data, on its {error.bound}: {error}")
        except wire.WireError as error:
            return Failure(FailureKind.PROTOCOL, f"the worker sent something that is not plain data ({error})")
        if not isinstance(reply, dict) or not isinstance(reply.get("status"), str):
            return Failure(FailureKind.PROTOCOL, "the worker's reply was not a status dict (was the worker tampered with?)")
        return reply

    def _death(self) -> Failure:
        try:
            code = self._worker.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        if self._worker.over_limit:  # killed by the grader's watch on its scratch folder (quota.py)
            return Failure(FailureKind.CRASH, f"the process was killed: {self._worker.over_limit}", self._captured())
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            why = {"SIGKILL": "killed: out of memory or over the CPU-time limit",
                   "SIGXCPU": "over the CPU-time limit", "SIGSEGV": "a segmentation fault",
                   "SIGXFSZ": "wrote a file over the size limit"}.get(name, "killed by a signal")
            return Failure(FailureKind.CRASH, f"the process died ({name}: {why})", self._captured())
        return Failure(FailureKind.CRASH, f"the process exited with code {code} in the middle of the test "
                       "(sys.exit, os._exit or a crash)", self._captured())

    def _captured(self) -> str:
        return self._output.decode("utf-8", "replace")


class _Pump:
    """One exchange's non-blocking input and output with a worker: frames to write to its stdin, what it prints
    on stdout (kept up to ``MAX_CAPTURED_OUTPUT``), and the bytes of its reply pipe (``incoming``)."""

    def __init__(self, worker: Spawned, output: bytearray):
        self.process, self.reply_fd, self.output = worker.process, worker.reply_fd, output
        self.incoming = bytearray()
        self._outgoing, self._writing = memoryview(b""), False
        self._selector = selectors.DefaultSelector()
        os.set_blocking(self.process.stdin.fileno(), False)
        self._selector.register(self.process.stdout, selectors.EVENT_READ)
        self._selector.register(self.reply_fd, selectors.EVENT_READ)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._selector.close()

    def send(self, data: bytes) -> None:
        """Queue ``data`` for the worker's stdin (written as it becomes writable)."""
        self._outgoing = memoryview(bytes(self._outgoing) + data)
        if not self._writing:
            self._selector.register(self.process.stdin, selectors.EVENT_WRITE)
            self._writing = True

    def turn(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the worker, then write, read its output and read its reply pipe as they are
        ready; False once the reply pipe is closed (the worker died)."""
        for key, _ in self._selector.select(seconds):
            if key.fileobj is self.process.stdin:
                self._write()
            elif key.fileobj is self.process.stdout:
                chunk = os.read(self.process.stdout.fileno(), 1 << 16)
                if not chunk:
                    self._selector.unregister(self.process.stdout)
                elif len(self.output) < MAX_CAPTURED_OUTPUT:
                    self.output += chunk[:MAX_CAPTURED_OUTPUT - len(self.output)]
            else:
                chunk = os.read(self.reply_fd, 1 << 20)
                if not chunk:
                    return False
                self.incoming += chunk
        return True

    def _write(self) -> None:
        try:
            written = os.write(self.process.stdin.fileno(), self._outgoing[:1 << 16])
        except OSError:  # the worker closed its stdin (or died): stop writing; its reply pipe tells the rest
            written = None
        if written is not None:
            self._outgoing = self._outgoing[written:]
        if written is None or not self._outgoing:
            self._selector.unregister(self.process.stdin)
            self._writing = False


def _complete_frame(buffer: bytearray) -> bytes | None | Failure:
    """The payload of the frame at the start of ``buffer`` once it is whole (None before), or a ``Failure`` as soon
    as its header announces more than ``MAX_REPLY_BYTES``."""
    length = wire.frame_length(buffer)
    if length is None:
        return None
    if length > MAX_REPLY_BYTES:
        return Failure(FailureKind.TOO_LARGE, f"the reply broke a bound, on its frame size: the worker announced {length} "
                       f"bytes, over the limit of {MAX_REPLY_BYTES}")
    if len(buffer) < wire.HEADER_BYTES + length:
        return None
    return bytes(buffer[wire.HEADER_BYTES:wire.HEADER_BYTES + length])
