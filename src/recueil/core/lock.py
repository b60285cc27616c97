"""One writer at a time in a project's build folder.

Two builds of one project at once (a maintainer and CI, a cron job and a `recueil sheet`) would
race on the same outputs and cache entries: each write is atomic, but a collection could be
assembled from one build's sheets and recorded against the other's, and `clean` could delete a
cache another command is filling. Every command that writes to the build folder therefore holds
`project_lock` while it runs; a second one waits for the first, saying so.

The lock is `fcntl.flock` on `build/.lock`. The kernel releases it when its holder exits, however
it exits (even SIGKILL), so a crashed build never leaves a stale lock to delete by hand. The
file holds the holder's pid and command, only for the waiting message; it is never deleted
(unlinking a lock file lets a third process lock a new file while the second holds the old one).
flock works on local file systems; on NFS it is emulated with POSIX locks (Linux ≥ 2.6.12).

Usage (the only public API)::

    with project_lock(project.build_dir, "recueil edition create", on_wait=tell_the_user):
        ...  # write into the build folder

Inside one process the lock is re-entrant: a command holding it may call code that takes it
again for the same folder (a second `open()` of the file would otherwise block on itself).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

LOCK_FILE = ".lock"


@dataclass(frozen=True)
class LockHolder:
    """Who holds the lock, as it wrote itself into the lock file (both may be unknown: the
    holder writes them just after locking, and an older file may be unreadable)."""

    pid: int | None
    command: str | None

    def describe(self) -> str:
        """'pid 1234, `recueil build`', or what is known of it."""
        parts = [f"pid {self.pid}"] if self.pid is not None else []
        parts += [f"`{self.command}`"] if self.command else []
        return ", ".join(parts) or "unknown process"


# resolved lock path → (descriptor, depth): locks this process holds, for re-entrance
_held: dict[Path, tuple[int, int]] = {}
_held_guard = threading.Lock()


@contextlib.contextmanager
def project_lock(
    build_dir: Path,
    command: str,
    on_wait: Callable[[LockHolder], None] | None = None,
) -> Iterator[None]:
    """Hold the exclusive lock of `build_dir` (created if missing) for the block.

    If another process holds it, `on_wait` is called once with what it wrote (pid, command),
    then this call blocks until the lock is free: commands are serialised, never refused. The
    library prints nothing itself; the command line passes a callback that tells the user.
    `command` is what a waiting process will be shown, e.g. "recueil build".
    """
    build_dir.mkdir(parents=True, exist_ok=True)
    path = build_dir.resolve() / LOCK_FILE  # the folder resolved, never the file (a link)
    with _held_guard:
        if path in _held:
            descriptor, depth = _held[path]
            _held[path] = (descriptor, depth + 1)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            _release(path)
        return
    # O_NOFOLLOW: a symbolic link planted as build/.lock must not make us truncate its target.
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait(_read_holder(descriptor))
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        _write_holder(descriptor, command)
    except BaseException:
        os.close(descriptor)  # closing releases the lock if it was taken
        raise
    with _held_guard:
        _held[path] = (descriptor, 1)
    try:
        yield
    finally:
        _release(path)


def _release(path: Path) -> None:
    with _held_guard:
        descriptor, depth = _held[path]
        if depth > 1:
            _held[path] = (descriptor, depth - 1)
            return
        del _held[path]
    try:
        os.ftruncate(descriptor, 0)  # no stale pid for the next waiter to show
        # Explicit unlock: forked render workers may still share this open file description,
        # and closing our descriptor alone would leave the lock held until they exit.
        fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _write_holder(descriptor: int, command: str) -> None:
    data = json.dumps({"pid": os.getpid(), "command": command}).encode() + b"\n"
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, data, 0)


def _read_holder(descriptor: int) -> LockHolder:
    """What the holder wrote; nothing known if it has not written yet or wrote nonsense."""
    try:
        data = json.loads(os.pread(descriptor, 4096, 0).decode("utf-8"))
    except (OSError, ValueError):
        return LockHolder(None, None)
    if not isinstance(data, dict):
        return LockHolder(None, None)
    pid, command = data.get("pid"), data.get("command")
    return LockHolder(
        pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
        command if isinstance(command, str) else None,
    )
