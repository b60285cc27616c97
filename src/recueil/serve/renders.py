"""Renders on request: a bounded set of warm worker processes, shared by identical requests.

- Each worker slot is a process pool of one process, so a worker killed (out of memory, a
  crash, a time limit overrun) fails only the request it was running; the slot is replaced.
- Identical concurrent requests share one render (single flight): fifty visitors asking for the
  same new selection cause one assembly.
- The queue is bounded: when every slot is busy and ``queue`` requests already wait, the next
  one is refused at once (:class:`Busy`, answered 503 with Retry-After) instead of piling up.
- Each render has a time limit inside its worker (the project's ``render_timeout``); past it
  plus a margin, the server stops waiting and kills the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Hashable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

from recueil.render.workers import bare_main
from recueil.serve import tasks

T = TypeVar("T")

#: the start of a render service's scratch folder's name, followed by its process id and "-"
SCRATCH_PREFIX = "recueil-workers-"


class Busy(Exception):
    """Every worker is busy and the queue is full: come back later."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"busy, retry after {retry_after} s")
        self.retry_after = retry_after


class WorkerLost(Exception):
    """The worker running this request died or overran its time limit."""


class RenderService:
    """Warm workers for renders requested through the web."""

    def __init__(self, jobs: int, queue: int, timeout: float, memory_mb: int) -> None:
        self.jobs = max(1, jobs)
        self.queue_limit = max(0, queue)
        self.timeout = timeout
        self.memory_mb = memory_mb
        self._context = multiprocessing.get_context("spawn")  # never fork a threaded server
        #: the workers' temporary folder (WeasyPrint's fonts): removed on close, so that a
        #: worker killed on a time limit or a crash leaves nothing in /tmp; named after this
        #: process, so that a server killed outright (its folder left behind, some 4 MB) has
        #: it removed by the next one (sweep_abandoned)
        sweep_abandoned()
        self.scratch = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
        self._slots: list[ProcessPoolExecutor] = [self._new_slot() for _ in range(self.jobs)]
        self._free: asyncio.Semaphore | None = None
        self._waiting = 0
        self._flights: dict[Hashable, asyncio.Future[Any]] = {}
        self._busy: set[int] = set()
        self._last_used: dict[int, float] = {}
        #: renders actually run (tests count them: identical requests must share one)
        self.runs = 0

    def _new_slot(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=self._context,
            initializer=tasks.start_worker,
            initargs=(self.memory_mb, self.scratch),
        )

    def _slots_free(self) -> asyncio.Semaphore:
        if self._free is None:
            self._free = asyncio.Semaphore(self.jobs)
        return self._free

    def _take_slot(self) -> int:
        """A free slot, one whose worker is running first: a worker retired while idle starts
        only when every running one is busy (starting one takes a second or more). Among the
        running ones, the one idle longest: a worker collects a render's garbage just after
        answering (tasks.call), and requests one after the other went to the same worker,
        which then had to collect first."""
        idle = [i for i in range(self.jobs) if i not in self._busy]
        running = [i for i in idle if _running(self._slots[i])]
        index = min(running, key=lambda i: self._last_used.get(i, 0.0)) if running else idle[0]
        self._busy.add(index)
        return index

    async def warm(self, root: str, stamp: str, every: bool = True) -> None:
        """Load the project in the workers before the first request: every worker (at start),
        or (``every`` False: the project changed) those running and the first one, so that a
        worker retired while idle is not started again just to load the project."""
        chosen = [
            slot for index, slot in enumerate(self._slots)
            if every or index == 0 or _running(slot)
        ]  # fmt: skip
        await asyncio.gather(*(_submit(slot, tasks.warm, root, stamp) for slot in chosen))

    def retire_idle(self, idle_seconds: float) -> int:
        """Stop the workers beyond the first that have been idle ``idle_seconds``; the number
        stopped. At rest the server keeps one warm worker (a sheet not yet rendered still
        answers in a fraction of a second); under load the others start again on demand."""
        now = time.monotonic()
        retired = 0
        for index in range(1, self.jobs):
            slot = self._slots[index]
            idle = now - self._last_used.get(index, 0.0) >= idle_seconds
            if idle and index not in self._busy and _running(slot):
                slot.shutdown(wait=False, cancel_futures=True)
                self._slots[index] = self._new_slot()  # its process starts at the next render
                retired += 1
        return retired

    async def run(self, key: Hashable, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in a worker; identical ``key``s in flight share one run."""
        flight = self._flights.get(key)
        if flight is not None:
            return await asyncio.shield(flight)
        free = self._slots_free()
        if free.locked() and self._waiting >= self.queue_limit:
            raise Busy(retry_after=max(1, int(self.timeout // 4) or 1))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._flights[key] = future
        try:
            result = await self._run_in_slot(function, *args)
        except BaseException as exc:
            if not future.done():
                future.set_exception(exc)
                future.exception()  # retrieved: sharers get it through await
            raise
        else:
            future.set_result(result)
            return result
        finally:
            self._flights.pop(key, None)

    async def _run_in_slot(self, function: Callable[..., T], *args: Any) -> T:
        free = self._slots_free()
        self._waiting += 1
        try:
            await free.acquire()
        finally:
            self._waiting -= 1
        index = self._take_slot()
        slot = self._slots[index]
        try:
            self.runs += 1
            return await asyncio.wait_for(_submit(slot, function, *args), timeout=self.timeout + 10)
        except (TimeoutError, BrokenProcessPool) as exc:
            self._replace(index)
            raise WorkerLost(str(exc) or exc.__class__.__name__) from None
        finally:
            self._busy.discard(index)
            self._last_used[index] = time.monotonic()
            free.release()

    def _replace(self, index: int) -> None:
        """Kill what is left of a slot's worker and start a new one in its place."""
        old = self._slots[index]
        for process in list(getattr(old, "_processes", {}).values()):
            if process.pid is not None and process.is_alive():
                # it may end between the two calls (the pool's own thread reaps a worker
                # killed from outside): a request then failed with a 500, not WorkerLost
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGKILL)
        old.shutdown(wait=False, cancel_futures=True)
        self._slots[index] = self._new_slot()

    def pids(self) -> list[int]:
        """Process ids of the live workers (tests kill one)."""
        return [pid for slot in self._slots for pid in _pids(slot)]

    def close(self) -> None:
        """Stop every worker."""
        for slot in self._slots:
            slot.shutdown(wait=False, cancel_futures=True)
        shutil.rmtree(self.scratch, ignore_errors=True)


def _submit(slot: ProcessPoolExecutor, function: Callable[..., T], *args: Any) -> Any:
    """``function(*args)`` handed to the slot's worker, as an awaitable. A slot starts its
    worker on its first task, here: started without this program's main module (for `recueil
    serve`, the whole command line, some 20 MB a worker never uses: workers.bare_main)."""
    with bare_main():
        return asyncio.get_running_loop().run_in_executor(slot, tasks.call, function, *args)


def _pids(slot: ProcessPoolExecutor) -> list[int]:
    """The live process of a slot (none before its first task or once retired)."""
    processes = list((getattr(slot, "_processes", None) or {}).values())
    return [p.pid for p in processes if p.pid is not None and p.is_alive()]


def _running(slot: ProcessPoolExecutor) -> bool:
    return bool(_pids(slot))


def sweep_abandoned() -> int:
    """Remove the scratch folders of render services whose process is gone (a server stopped
    by SIGKILL or a power cut cannot remove its own); the number removed. A folder whose
    process id is running again, or that belongs to another user, is left alone."""
    removed = 0
    for path in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        pid = path.name.removeprefix(SCRATCH_PREFIX).split("-", 1)[0]
        try:
            mine = path.is_dir() and path.stat().st_uid == os.getuid()
        except OSError:
            continue
        if mine and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
