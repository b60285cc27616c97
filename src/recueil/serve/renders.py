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
import multiprocessing
import os
import signal
from collections.abc import Callable, Hashable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from recueil.serve import tasks

T = TypeVar("T")


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
        self._slots: list[ProcessPoolExecutor] = [self._new_slot() for _ in range(self.jobs)]
        self._free: asyncio.Queue[int] | None = None
        self._waiting = 0
        self._flights: dict[Hashable, asyncio.Future[Any]] = {}
        #: renders actually run (tests count them: identical requests must share one)
        self.runs = 0

    def _new_slot(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=self._context,
            initializer=tasks.start_worker,
            initargs=(self.memory_mb,),
        )

    def _queue(self) -> asyncio.Queue[int]:
        if self._free is None:
            self._free = asyncio.Queue()
            for index in range(self.jobs):
                self._free.put_nowait(index)
        return self._free

    async def warm(self, root: str, stamp: str) -> None:
        """Start every worker and load the project in it before the first request."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(slot, tasks.warm, root, stamp) for slot in self._slots)
        )

    async def run(self, key: Hashable, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in a worker; identical ``key``s in flight share one run."""
        flight = self._flights.get(key)
        if flight is not None:
            return await asyncio.shield(flight)
        free = self._queue()
        if free.empty() and self._waiting >= self.queue_limit:
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
        free = self._queue()
        self._waiting += 1
        try:
            index = await free.get()
        finally:
            self._waiting -= 1
        slot = self._slots[index]
        loop = asyncio.get_running_loop()
        try:
            self.runs += 1
            return await asyncio.wait_for(
                loop.run_in_executor(slot, function, *args), timeout=self.timeout + 10
            )
        except (TimeoutError, BrokenProcessPool) as exc:
            self._replace(index)
            raise WorkerLost(str(exc) or exc.__class__.__name__) from None
        finally:
            free.put_nowait(index)

    def _replace(self, index: int) -> None:
        """Kill what is left of a slot's worker and start a new one in its place."""
        old = self._slots[index]
        for process in list(getattr(old, "_processes", {}).values()):
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signal.SIGKILL)
        old.shutdown(wait=False, cancel_futures=True)
        self._slots[index] = self._new_slot()

    def pids(self) -> list[int]:
        """Process ids of the live workers (tests kill one)."""
        found = []
        for slot in self._slots:
            for process in list(getattr(slot, "_processes", {}).values()):
                if process.pid is not None and process.is_alive():
                    found.append(process.pid)
        return found

    def close(self) -> None:
        """Stop every worker."""
        for slot in self._slots:
            slot.shutdown(wait=False, cancel_futures=True)
