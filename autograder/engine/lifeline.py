"""A worker's lifeline: no sandboxed worker outlives the grader that started it, even after ``kill -9``.

Beside each worker, ``pool.spawn`` starts this file as a small root process (standard library only:
``python -I -S lifeline.py UID``). It holds the worker's uid lease (the locked file's descriptor,
inherited) and the read end of a pipe whose only write end is the grader's. The grader writes the
worker's pid, and ``done`` once it has swept the worker's uid itself; the lifeline then exits. If the
grader dies first, however it dies, the kernel closes the write end: the lifeline reads end-of-file,
kills every process of the worker's uid (without a uid: the worker's process group), removes the worker's
scratch folder (a student's files do not stay on the machine until the uid is leased again), and only then
exits, which releases the lease, so no other grader can be handed that uid while anything of the
dead grader's worker still runs.

Why not a parent-death signal (``PR_SET_PDEATHSIG``) on the worker: the kernel clears it when the
worker switches uid (``setpriv``, ``chroot --userspec``), forks do not inherit it, and a student's
daemon (fork, ``setsid``, fork) is in no group of ours. Only a sweep of the uid reaches them all.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time

SWEEP_SECONDS = 30.0


def processes_of(uid: int) -> list[int]:
    """Live (not zombie) processes whose real, effective or saved uid is ``uid`` (the sandbox's sweep uses it too)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as stream:
                status = stream.read()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if not fields.get("State", "").strip().startswith("Z") and str(uid) in fields.get("Uid", "").split()[:3]:
            found.append(int(name))
    return found


def kill_all(uid: int, signal_as_uid, seconds: float) -> bool:
    """Kill every process of ``uid`` within ``seconds``; True once none is left.

    Each round ``signal_as_uid()`` sends SIGKILL to all that ``uid`` may signal, as ``uid`` (so a fork racing the
    sweep is caught on the next round), and each process found is killed by pid too. Only for uids leased to
    workers: they run nothing else."""
    deadline = time.monotonic() + seconds
    pause = 0.001  # a killed process is usually gone within a millisecond: look again soon, then less often
    while pids := processes_of(uid):
        if time.monotonic() > deadline:
            return False
        signal_as_uid()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(pause)
        pause = min(2 * pause, 0.01)
    return True


def sweep(uid: int) -> None:
    """Kill every process of ``uid`` (``kill_all``), signalling as ``uid`` from a forked child: this process is
    single-threaded, so it may run Python after ``fork``."""
    if uid < 1000:
        raise ValueError(f"Expected a sandbox uid. Received uid={uid}.")

    def signal_as_uid() -> None:
        child = os.fork()
        if child == 0:
            try:
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                if os.getuid() == os.geteuid() == uid:  # never kill(-1) as anyone else
                    os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(child, 0)
    kill_all(uid, signal_as_uid, SWEEP_SECONDS)


class Lifeline:
    """The grader's end of one worker's lifeline: ``start`` it before the worker, ``watch`` the worker's pid,
    ``release`` it once the grader has swept the worker's uid itself (``pool.Spawned.kill``).

    Args:
        uid: the worker's uid (None: the grader's own, and the lifeline kills the worker's process group).
        lease_fd: the descriptor of the uid's locked lease file, held by the lifeline too (None without a uid).
        scratch: the worker's scratch folder, removed after the sweep (None: it has none, as under bubblewrap).
    """

    def __init__(self, uid: int | None, lease_fd: int | None = None, scratch: str | os.PathLike | None = None):
        import subprocess

        read_end, self._write = os.pipe()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-S", os.path.abspath(__file__), "none" if uid is None else str(uid),
                 *([os.fspath(scratch)] if scratch is not None else [])],
                stdin=read_end, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/",
                pass_fds=() if lease_fd is None else (lease_fd,), start_new_session=True)
        except BaseException:
            os.close(self._write)
            raise
        finally:
            os.close(read_end)

    def watch(self, pid: int) -> None:
        """Tell the lifeline the worker's pid (its process group, swept when there is no uid)."""
        self._send(f"{pid}\n")

    def release(self) -> None:
        """The grader has swept the worker itself: the lifeline exits without sweeping (waited for, so that
        the lease it holds is free when this returns)."""
        self._send("done\n")
        os.close(self._write)
        try:
            self.process.wait(timeout=10)
        except Exception:  # noqa: BLE001 - a lifeline that does not exit at once is killed: the sweep is done
            self.process.kill()
            self.process.wait()

    def _send(self, text: str) -> None:
        try:
            os.write(self._write, text.encode())
        except OSError:  # the lifeline is gone (killed by someone): nothing to tell it
            pass


def main(argv: list[str]) -> None:
    """``lifeline.py UID [SCRATCH]`` (``none`` without a uid): read the pipe on stdin until ``done`` or end-of-file."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    uid = None if argv[1] == "none" else int(argv[1])
    worker, received = None, b""
    while chunk := os.read(0, 4096):
        received += chunk
        lines = received.split(b"\n")
        if b"done" in lines:
            return
        worker = next((int(line) for line in reversed(lines[:-1]) if line.isdigit()), worker)
    if uid is not None:
        sweep(uid)
    elif worker is not None:
        try:
            os.killpg(worker, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if len(argv) > 2:  # nothing of the uid runs any more: its folder cannot refill (rmtree follows no link)
        shutil.rmtree(argv[2], ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv)
