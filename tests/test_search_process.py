"""New searches made in a process beside the event loop: the same answers, and the loop's own
search whenever that process is not there (starting, killed, stuck, resting) or fails."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from conftest import REPO, copy_project  # type: ignore[import-not-found]
from recueil.serve import search_process
from recueil.serve.app import ServerOptions, create_app
from recueil.serve.search import SearchIndex
from recueil.serve.search_process import SearchProcess
from recueil.serve.search_results import from_plain, plain
from recueil.sources.corpus import load_corpus
from recueil.sources.project import load_project
from servertools import SOURCES  # type: ignore[import-not-found]

FILTERS = {"theme": ["parentalite"]}


@pytest.fixture(scope="module")
def index_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    project, _ = load_project(REPO)
    path = tmp_path_factory.mktemp("search") / "search.sqlite"
    with SearchIndex(path) as index:
        assert index.update(load_corpus(project).sheets) == 40
    yield path


async def _ready(searches: SearchProcess, index: Path, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not searches.running:
        searches.start(index)  # as each search does (no new start within a second of a loss)
        assert time.monotonic() < deadline, "the search process did not start"
        await asyncio.sleep(0.02)


def _pid(searches: SearchProcess) -> int:
    process = searches._process
    assert process is not None and process.pid is not None
    return process.pid


def test_results_cross_to_the_process_and_back_unchanged(index_file: Path) -> None:
    with SearchIndex(index_file) as index:
        for query in ("parents", "éducatif numérique", ""):
            found = index.search(query, FILTERS, page=1, per_page=5)
            assert from_plain(plain(found)) == found
            assert found.hits and any(v.count for f in found.facets for v in f.values)


def test_the_process_answers_what_the_index_answers_and_errors_go_back_to_the_loop(
    index_file: Path,
) -> None:
    searches = SearchProcess()

    async def scenario() -> None:
        await _ready(searches, index_file)
        with SearchIndex(index_file) as index:
            for query, filters, page in (("parents", {}, 1), ("parents", FILTERS, 1),
                                         ("école", {}, 2), ("", FILTERS, 1)):  # fmt: skip
                made = await searches.search(index_file, query, filters, page, 5)
                assert made == index.search(query, filters, page=page, per_page=5)
            assert searches.answered == 4
            # an unknown facet: the index raises; the process hands the search back
            assert await searches.search(index_file, "x", {"nope": ["1"]}, 1, 5) is None
            with pytest.raises(ValueError, match="unknown facet"):
                index.search("x", {"nope": ["1"]})
            assert searches.running  # an error in a search does not stop the process
            # twenty at once: all answered, in any order, each its own
            words = ["parents", "école", "numérique", "quartier", "santé"] * 4
            made_all = await asyncio.gather(
                *(searches.search(index_file, w, {}, 1, 3) for w in words)
            )
            assert [m and m.query for m in made_all] == words
        searches.stop()
        assert not searches.running

    asyncio.run(scenario())


def test_a_killed_or_stuck_process_leaves_the_search_to_the_loop_and_is_replaced(
    index_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_process, "ANSWER_SECONDS", 0.5)
    searches = SearchProcess()

    async def scenario() -> None:
        await _ready(searches, index_file)
        os.kill(_pid(searches), signal.SIGKILL)
        await asyncio.sleep(0.2)
        assert await searches.search(index_file, "parents", {}, 1, 5) is None
        assert searches._starting is None  # not started within a second of the loss
        await _ready(searches, index_file)  # started again by a search after that
        assert await searches.search(index_file, "parents", {}, 1, 5) is not None
        stuck = _pid(searches)
        os.kill(stuck, signal.SIGSTOP)
        started = time.monotonic()
        assert await searches.search(index_file, "parents", {}, 1, 5) is None
        assert 0.4 < time.monotonic() - started < 3
        assert not searches.running
        await asyncio.sleep(0.2)
        with pytest.raises(ProcessLookupError):  # killed, not left stopped
            os.kill(stuck, 0)
        await _ready(searches, index_file)
        assert await searches.search(index_file, "école", {}, 1, 5) is not None
        searches.stop()

    asyncio.run(scenario())


def test_the_server_searches_in_its_process_and_on_the_loop_alike(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "p", SOURCES[:4])
    with TestClient(create_app(ServerOptions(root, jobs=1, queue=2))) as client:
        site = client.app.state.site  # type: ignore[attr-defined]
        deadline = time.monotonic() + 30
        while not site.searches.running:  # started with the server
            assert time.monotonic() < deadline
            time.sleep(0.02)
        by_process = client.get("/recherche", params={"q": "parents"})
        assert by_process.status_code == 200 and site.searches.answered == 1
        assert "Le café des parents" in by_process.text
        client.portal.call(site.rest)  # type: ignore[union-attr]  # on the loop, as at rest
        assert not site.searches.running
        by_loop = client.get("/recherche", params={"q": "parents"})
        assert site.searches.answered == 1
        assert by_loop.text == by_process.text
        deadline = time.monotonic() + 30
        while not site.searches.running:  # that search started it again
            assert time.monotonic() < deadline
            time.sleep(0.02)
        again = client.get("/recherche", params={"q": "parents", "theme": "parentalite"})
        assert again.status_code == 200 and site.searches.answered == 2
