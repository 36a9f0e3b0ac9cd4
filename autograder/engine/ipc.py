"""Removing every SysV IPC object (shared memory, semaphore set, message queue) of a sandbox uid.

SysV IPC objects belong to the kernel, not to a process: a segment made by student code outlives
every process of the worker, and killing them all (``sandbox.kill_uid``) leaves it behind. Under
bubblewrap the worker has an IPC namespace of its own, which dies with it; at the fallback level
there is none, so the seccomp filter of ``confine.py`` denies ``shmget``, ``semget`` and
``msgget``, and, where that filter is missing (no libseccomp), this sweep removes what was made.

Objects are read from ``/proc/sysvipc/{shm,sem,msg}`` (the IPC namespace of the grader, which a
fallback worker shares) and removed with ``IPC_RMID``, which root may do to any object. Only for
uids leased to workers: they own nothing else.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path

SYSVIPC = Path("/proc/sysvipc")
KINDS = ("shm", "sem", "msg")
IPC_RMID = 0
SHM_DEST = 0o1000

_libc = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True)
class IpcObject:
    """One SysV IPC object: its kind (``shm``, ``sem`` or ``msg``), id, owner and creator uids, mode."""

    kind: str
    id: int
    uid: int
    cuid: int
    mode: int = 0

    @property
    def removed(self) -> bool:
        """A segment marked for removal (``SHM_DEST``) that waits only for its last detach."""
        return self.kind == "shm" and bool(self.mode & SHM_DEST)


def objects(kind: str) -> list[IpcObject]:
    """Every object of ``kind`` visible in this IPC namespace (none where ``/proc/sysvipc`` is absent)."""
    try:
        lines = (SYSVIPC / kind).read_text().splitlines()
    except OSError:
        return []
    if not lines:
        return []
    header = lines[0].split()
    try:  # the id column is named shmid, semid or msqid; the others are fixed names
        ident = next(i for i, name in enumerate(header) if name.endswith("id") and name not in ("uid", "cuid"))
        uid, cuid, perms = header.index("uid"), header.index("cuid"), header.index("perms")
    except (StopIteration, ValueError):
        return []
    found = []
    for line in lines[1:]:
        fields = line.split()
        try:
            found.append(IpcObject(kind, int(fields[ident]), int(fields[uid]), int(fields[cuid]), int(fields[perms], 8)))
        except (IndexError, ValueError):
            continue
    return found


def objects_of(uid: int) -> list[IpcObject]:
    """Every SysV IPC object that ``uid`` owns or created."""
    return [item for kind in KINDS for item in objects(kind) if uid in (item.uid, item.cuid)]


def remove(item: IpcObject) -> bool:
    """Remove one object (``IPC_RMID``); True when it is gone (removed now or already)."""
    if item.kind == "shm":
        status = _libc.shmctl(item.id, IPC_RMID, None)
    elif item.kind == "sem":
        status = _libc.semctl(item.id, 0, IPC_RMID)
    else:
        status = _libc.msgctl(item.id, IPC_RMID, None)
    return status == 0 or ctypes.get_errno() in (22, 43)  # EINVAL, EIDRM: removed meanwhile


def remove_objects_of(uid: int) -> list[IpcObject]:
    """Remove every SysV IPC object of ``uid``; return those still there afterwards (none as root).

    A removed shared-memory segment that is still attached lingers until its last detach; the
    processes of ``uid`` are killed first (``kill_uid``), so none is attached by then.
    """
    for item in objects_of(uid):
        if not item.removed:
            remove(item)
    return [item for item in objects_of(uid) if not item.removed]
