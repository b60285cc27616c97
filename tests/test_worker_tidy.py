"""A render worker collects a task's garbage after answering, not before (serve/tasks.py).

A sheet's layout leaves 30 to 45 ms of cyclic garbage, and loading a 1,000-sheet project after
an edit 80 ms more: the visitor or the author waiting for the render paid for both. The
collection now runs on a thread once the answer is sent; a task that comes before it leaves it
for after itself once, then collects first, so garbage never piles up under back-to-back tasks.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import copy_project  # type: ignore[import-not-found]
from recueil.serve import tasks
from servertools import SOURCES  # type: ignore[import-not-found]


@pytest.fixture
def collections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The moments gc.collect is called (the tidier's collections, counted, not run)."""
    called: list[float] = []
    monkeypatch.setattr(gc, "collect", lambda *args: called.append(time.monotonic()) or 0)
    yield called
    tasks._TIDIER.now()  # nothing left pending for the next test


def wait_for(condition: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.005)


def test_a_tasks_garbage_is_collected_after_its_answer(collections: list[float]) -> None:
    answered = tasks.call(time.monotonic)
    assert collections == []  # the answer went first
    wait_for(lambda: collections)
    assert len(collections) == 1 and collections[0] >= answered + tasks.TIDY_DELAY


def test_back_to_back_tasks_never_hold_more_than_two_tasks_garbage(
    collections: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks, "TIDY_DELAY", 30.0)  # the timer never fires during this test
    seen = [tasks.call(lambda: len(collections)) for _ in range(5)]
    # the first runs clean; the second leaves the first's garbage for after itself; the third
    # collects both before it runs, and so on
    assert seen == [0, 0, 1, 1, 2]


def test_a_project_loaded_is_frozen_once_the_task_that_loaded_it_answered(
    tmp_path: Path,
) -> None:
    root = copy_project(tmp_path / "p", SOURCES[:2])
    gc.unfreeze()
    try:
        tasks.call(tasks._state, str(root), "ctx-tidy")
        assert gc.get_freeze_count() == 0  # not while the task is answering
        wait_for(lambda: gc.get_freeze_count() > 0)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        tasks._LOADED.clear()
