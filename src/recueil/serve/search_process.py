"""New searches run in a process of their own, beside the event loop.

A search not asked before is some 2 ms of Python at 1,000 sheets (the words found and ranked,
the facets counted, twenty snippets: search.py). On the event loop it held every other request,
and twenty visitors' new searches queued behind each other: in the benchmark's search phase the
first hundred answers, most of them new searches, had a p95 of 170-190 ms against 45 for the
rest. In a process of its own a search runs on the machine's other core while the loop reads
requests, writes the pages of the searches already answered and sends files.

The process holds only what a search needs: SQLite, the stemmer and what search.py keeps (no
project, no WeasyPrint: some 32 MB). It starts with the server and stops when the server rests
(Site.rest), giving its memory back; the first search after a rest starts it again. Whenever
it is not there (starting, lost, or IN_FLIGHT searches already waiting on it) or answers with
an error, the search is made on the event loop as before, which also raises the error a
request should see. A search it has not answered in ANSWER_SECONDS is made on the loop too,
and the process replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing
import pickle
import time
from collections.abc import Mapping, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from recueil.render.workers import bare_main
from recueil.serve.search_results import Results, from_plain

#: searches sent to the process and not yet answered, at most (more are made on the loop; the
#: requests waiting in the socket stay well under its buffer, so sending never blocks the loop)
IN_FLIGHT = 32
#: a search the process has not answered in this many seconds is made on the loop
ANSWER_SECONDS = 2.0
#: after the process was lost, it is not started again for this many seconds (a process that
#: cannot start must not cost a spawn per search)
RESTART_SECONDS = 1.0
#: how the messages are pickled
_PROTOCOL = pickle.HIGHEST_PROTOCOL


class SearchProcess:
    """The search process of one server process: started, fed and stopped on the event loop."""

    def __init__(self) -> None:
        self._process: multiprocessing.process.BaseProcess | None = None
        self._link: Connection | None = None
        self._starting: asyncio.Future[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wanted = False  # started and not stopped since
        self._not_before = 0.0  # no start before (time.monotonic), after a loss
        self._ready = False
        self._waiting: dict[int, asyncio.Future[tuple[bool, Any]]] = {}
        self._numbers = itertools.count()
        #: searches the process answered (tests and the benchmark look)
        self.answered = 0

    @property
    def running(self) -> bool:
        """Whether searches go to the process now."""
        return self._ready

    def start(self, index: Path) -> None:
        """Start the process (on a thread: spawning it takes milliseconds) unless it is
        running or starting; it reads the index ``index`` before it says it is ready."""
        self._wanted = True
        if self._link is not None or self._starting is not None:
            return
        if time.monotonic() < self._not_before:
            return
        loop = self._loop = asyncio.get_running_loop()
        self._starting = loop.run_in_executor(None, _spawn, index)
        self._starting.add_done_callback(self._started)

    def _started(self, future: asyncio.Future[Any]) -> None:
        self._starting = None
        if future.cancelled() or future.exception() is not None:
            return  # searches stay on the loop; the next one tries again
        self._process, self._link = future.result()
        if not self._wanted:  # the server rested while it was starting
            self.stop()
            return
        asyncio.get_running_loop().add_reader(self._link.fileno(), self._readable)

    async def search(
        self,
        index: Path,
        query: str,
        filters: Mapping[str, Sequence[str]],
        page: int,
        per_page: int,
    ) -> Results | None:
        """The search made by the process, or None: make it on the loop (see the module)."""
        link = self._link
        if not self._ready or link is None:
            self.start(index)
            return None
        if len(self._waiting) >= IN_FLIGHT:
            return None
        number = next(self._numbers)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[tuple[bool, Any]] = loop.create_future()
        self._waiting[number] = answer
        request = (number, str(index), query, {k: list(v) for k, v in filters.items()},
                   page, per_page)  # fmt: skip
        timer = loop.call_later(ANSWER_SECONDS, self._too_slow, number)
        try:
            link.send_bytes(pickle.dumps(request, _PROTOCOL))
            ok, found = await answer
        except OSError:
            self._lost()
            return None
        finally:
            timer.cancel()
            self._waiting.pop(number, None)
        if not ok:
            return None
        self.answered += 1
        return from_plain(found)

    def _readable(self) -> None:
        """Answers arrived (on the event loop): hand each to the search waiting for it."""
        link = self._link
        if link is None:
            return
        try:
            while link.poll():
                message = pickle.loads(link.recv_bytes())
                if message == "ready":
                    self._ready = True
                    continue
                number, ok, found = message
                waiting = self._waiting.get(number)
                if waiting is not None and not waiting.done():
                    waiting.set_result((ok, found))
        except (EOFError, OSError):
            self._lost()

    def _too_slow(self, number: int) -> None:
        """A search waited ANSWER_SECONDS: the process is stuck (replaced)."""
        if number in self._waiting:
            self._lost()

    def _lost(self) -> None:
        """The process is gone, or stuck: searches go to the loop until one starts again."""
        self._not_before = time.monotonic() + RESTART_SECONDS
        self.stop()

    def stop(self) -> None:
        """Stop the process (the server rests, or stops): it ends when its link closes. From
        another thread than the event loop's, the loop does it soon after."""
        loop = self._loop
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if loop is not None and current is not loop and not loop.is_closed():
            loop.call_soon_threadsafe(self.stop)
            return
        link, process = self._link, self._process
        self._link, self._process, self._ready, self._wanted = None, None, False, False
        if link is not None:
            with contextlib.suppress(Exception):
                (loop or asyncio.get_running_loop()).remove_reader(link.fileno())
            link.close()
        for waiting in self._waiting.values():
            if not waiting.done():
                waiting.set_result((False, None))
        if process is not None and process.is_alive():
            process.kill()  # stuck in a search, or not reading: it holds nothing to save
            with contextlib.suppress(Exception):
                (loop or asyncio.get_running_loop()).run_in_executor(None, process.join, 5)


def _spawn(index: Path) -> tuple[multiprocessing.process.BaseProcess, Connection]:
    """Start the process (without this program's main module: workers.bare_main)."""
    context = multiprocessing.get_context("spawn")  # never fork a threaded server
    ours, theirs = context.Pipe()
    process = context.Process(
        target=serve_searches, args=(theirs, str(index)), name="recueil-search", daemon=True
    )
    with bare_main():
        process.start()
    theirs.close()
    return process, ours


def serve_searches(link: Connection, index: str) -> None:
    """The search process: read the index, say it is ready, then answer searches one after
    the other until the server closes the link (or ends: the link closes with it)."""
    from recueil.serve.search import index_for
    from recueil.serve.search_results import plain

    with contextlib.suppress(Exception):  # a damaged index: the server's searches rebuild it
        index_for(Path(index)).search("", per_page=1)  # the facet table, read once
    link.send_bytes(pickle.dumps("ready", _PROTOCOL))
    while True:
        try:
            number, path, query, filters, page, per_page = pickle.loads(link.recv_bytes())
        except (EOFError, OSError):
            return
        try:
            found = index_for(Path(path)).search(query, filters, page=page, per_page=per_page)
            answer: tuple[int, bool, Any] = (number, True, plain(found))
        except Exception as exc:  # made again on the loop, which raises it where it belongs
            answer = (number, False, repr(exc))
        link.send_bytes(pickle.dumps(answer, _PROTOCOL))
