"""Worker processes for rendering: every core busy, and no sheet can take the build down.

Each worker is forked once (inheriting the loaded project and an imported WeasyPrint) and
renders many sheets, one at a time, under a memory limit. The parent hands out sheets, waits
with the per-sheet time limit, and kills and replaces a worker that hangs or dies: that sheet
becomes an error, the others complete. Workers are always killed before returning, even on
Ctrl-C, so none is left behind. What a worker writes in the temporary folder (WeasyPrint's
fonts, some 2 MB a document style) goes into a folder of the pool's, removed with the workers:
a worker that is killed cannot clean up after itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from recueil.core.diagnostics import Diagnostic, error
from recueil.render import glyph_arrays

#: what a worker sends back for one sheet
Outcome = tuple[Any, list[Diagnostic], bytes | None]
Task = Callable[[str], Outcome]


#: sheets a worker renders before it is replaced by a fresh fork: WeasyPrint, Pango and the
#: allocator keep memory that grows with every document (about 1.5 MB a sheet, measured over
#: 500 sheets a worker at 1,000 sheets), and a fresh worker costs a fraction of a second
TASKS_PER_WORKER = 100

#: prctl option: the signal this process gets when its parent dies (linux/prctl.h)
PR_SET_PDEATHSIG = 1


@dataclass
class _Worker:
    process: Any
    connection: Connection
    slug: str | None = None
    started: float = 0.0
    done: int = 0


def _serve(connection: Connection, task: Task, memory_mb: int, parent: int, scratch: str) -> None:
    """Worker loop: receive a slug, send back what rendering it gave."""
    die_with_parent(parent)
    tempfile.tempdir = scratch  # the pool removes it, whichever way this worker ends
    # Ctrl-C reaches the whole process group: the parent stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if memory_mb > 0:
        # A forked worker starts with its parent's address space: the limit is what a render
        # may add to it, so that a large parent does not leave workers unable to allocate.
        limit = _address_space() + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    while True:
        try:
            slug = connection.recv()
        except EOFError:
            break
        if slug is None:
            break
        try:
            outcome: Any = task(slug)
        except MemoryError:
            outcome = ("memory", None)
        except Exception:
            outcome = ("crash", traceback.format_exc(limit=3))
        try:
            connection.send(outcome)
        except MemoryError:
            connection.send(("memory", None))
    connection.close()


class RenderPool:
    """Runs ``task(slug)`` for many sheets in ``jobs`` forked workers with limits.

    ``fresh`` starts each worker as a new interpreter instead (``task`` must then be
    picklable: a module's function, a partial of one): a forked worker starts as large as
    this process, and is counted that large again. Worth its second of start-up only when
    this process has grown large and the work is long (the generated pages of a large
    collection, laid out while this process holds the copied sheets). A worker whose resident
    size is above ``recycle_above_mb`` after a task is replaced (0: never): WeasyPrint keeps
    much of what a long document took, and the next task is often small. Tasks for which
    ``heavy`` is true run one at a time (the others go on beside them): two long documents
    laid out at once would each take their 100 MB or more together.
    """

    def __init__(
        self,
        task: Task,
        jobs: int,
        timeout: float,
        memory_mb: int,
        fresh: bool = False,
        recycle_above_mb: int = 0,
        heavy: Callable[[str], bool] | None = None,
    ):
        self.task = task
        self.jobs = max(1, jobs)
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.recycle_above_mb = recycle_above_mb
        self.heavy = heavy
        self.fresh = fresh
        spawn, fork = multiprocessing.get_context("spawn"), multiprocessing.get_context("fork")
        self.context = spawn if fresh else fork
        self.scratch = ""

    def _start(self) -> _Worker:
        parent, child = self.context.Pipe()
        process = self.context.Process(
            target=_serve,
            args=(child, self.task, self.memory_mb, os.getpid(), self.scratch),
            daemon=True,
        )
        if self.fresh:
            with bare_main():
                process.start()
        else:
            process.start()
        child.close()
        return _Worker(process, parent)

    def run(
        self,
        slugs: Sequence[str],
        rel_of: Callable[[str], str],
        on_done: Callable[[str, Outcome], None],
        idle: Callable[[], bool] | None = None,
    ) -> None:
        """Render every slug; ``on_done`` gets each outcome (errors included) as it arrives.

        While every worker is busy and no outcome is waiting, this process calls ``idle``, one
        short step at a time, until it returns False: work of its own that needs no worker's
        result, done on the core it would otherwise leave idle. Outcomes wait one step at most.
        """
        pending = list(reversed(slugs))
        attempts: dict[str, int] = {}
        if not self.fresh:
            glyph_arrays.prepare()  # once, here: every forked worker inherits them
        self.scratch = tempfile.mkdtemp(prefix="recueil-workers-")
        workers: list[_Worker] = []
        try:
            workers = [self._start() for _ in range(min(self.jobs, len(slugs)))]
            while pending or any(w.slug is not None for w in workers):
                for position, worker in enumerate(workers):
                    if worker.slug is None and pending:
                        task = self._next(pending, workers)
                        if task is None:  # only heavy tasks left, and one is running
                            continue
                        try:
                            worker.connection.send(task)
                        except OSError:  # died while idle: start another, retry the sheet
                            attempts[task] = attempts.get(task, 0) + 1
                            workers[position] = self._replace(worker)
                            if attempts[task] < 3:
                                pending.append(task)
                            else:
                                failure = ("crash", "no worker could be started")
                                on_done(task, self._failure(task, rel_of(task), failure))
                            continue
                        worker.slug = task
                        worker.started = time.monotonic()
                busy = [w for w in workers if w.slug is not None]
                if not busy:
                    continue
                connections = [w.connection for w in busy]
                if idle is not None:
                    ready = wait(connections, 0)
                    if not ready and not idle():
                        idle = None
                else:
                    deadline = min(w.started for w in busy) + self.timeout
                    ready = wait(connections, max(0.0, deadline - time.monotonic()))
                for worker in list(busy):
                    slug = worker.slug
                    assert slug is not None
                    if worker.connection in ready:
                        try:
                            outcome = worker.connection.recv()
                        except (EOFError, OSError):
                            outcome = ("crash", "the worker process died")
                        worker.slug = None
                        if _failed(outcome):
                            on_done(slug, self._failure(slug, rel_of(slug), outcome))
                            if outcome[0] != "crash" or not worker.process.is_alive():
                                workers[workers.index(worker)] = self._replace(worker)
                        else:
                            on_done(slug, outcome)
                            worker.done += 1
                            if pending and (
                                worker.done >= TASKS_PER_WORKER
                                or resident_mb(worker.process.pid) > self.recycle_above_mb > 0
                            ):
                                workers[workers.index(worker)] = self._replace(worker)
                    elif time.monotonic() - worker.started >= self.timeout:
                        message = (
                            f"rendering took longer than {self.timeout:g} s and was stopped "
                            "(setting render_timeout)"
                        )
                        on_done(slug, (None, [error(rel_of(slug), None, message)], None))
                        worker.slug = None
                        workers[workers.index(worker)] = self._replace(worker)
        finally:
            for worker in workers:
                _stop(worker)
            shutil.rmtree(self.scratch, ignore_errors=True)

    def _next(self, pending: list[str], workers: list[_Worker]) -> str | None:
        """The next task to hand out, in order, but never a second heavy one at once."""
        heavy = self.heavy
        if heavy is None or not any(w.slug is not None and heavy(w.slug) for w in workers):
            return pending.pop()
        for index in range(len(pending) - 1, -1, -1):
            if not heavy(pending[index]):
                return pending.pop(index)
        return None

    def _replace(self, worker: _Worker) -> _Worker:
        _stop(worker)
        return self._start()

    def _failure(self, slug: str, rel: str, outcome: tuple[str, Any]) -> Outcome:
        kind, detail = outcome
        if kind == "memory":
            message = (
                f"rendering needed more than {self.memory_mb} MB and was stopped "
                "(setting render_memory_mb)"
            )
        else:
            last = str(detail).strip().splitlines()[-1] if detail else "unknown error"
            message = f"rendering failed: {last}"
        return (None, [error(rel, None, message)], None)


def _failed(outcome: Any) -> bool:
    return isinstance(outcome, tuple) and len(outcome) == 2 and outcome[0] in ("memory", "crash")


def _stop(worker: _Worker) -> None:
    """End a worker for sure: polite first, then killed."""
    try:
        if worker.process.is_alive() and worker.slug is None:
            worker.connection.send(None)
            worker.process.join(1.0)
    except (OSError, BrokenPipeError):
        pass
    if worker.process.is_alive():
        worker.process.kill()
        worker.process.join(5.0)
    worker.connection.close()


def die_with_parent(parent: int) -> None:
    """Have the kernel kill this worker if the parent dies without stopping it (SIGKILL).

    Waiting for the end of the pipe is not enough: a worker forked later inherits the parent's
    end of every earlier worker's pipe, so after a SIGKILL the orphans kept each other waiting
    for ever (found after a profiler killed a build).
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the pipe's end is all there is
        return
    if os.getppid() != parent:  # the parent died before the call above
        os._exit(1)


@contextlib.contextmanager
def bare_main() -> Iterator[None]:
    """Start a fresh worker without running this program's main module in it.

    A spawned interpreter imports the parent's ``__main__`` first (for ``recueil``, the whole
    command line: some 20 MB the worker never uses). Its task and loop live in importable
    modules, so the worker is started while ``__main__`` is an empty module. Only the thread
    starting the worker may run meanwhile (this program's threads never read ``__main__``).
    """
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = saved


def resident_mb(pid: int) -> int:
    """Resident size of a process in MB (0 when it cannot be read)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def _address_space() -> int:
    """Current virtual memory size of this process, in bytes."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def default_jobs() -> int:
    """The number of cores this process may use."""
    return len(os.sched_getaffinity(0)) or 1
