"""Several server processes on one project (`recueil serve --workers N`).

uvicorn starts N processes sharing the listening socket; each has its own snapshot and render
workers, and they share the project's render cache, search index and the selections made on
request. What must hold: every answer is right whichever process gives it, renders made by one
process are the same bytes (same ETag) for the other, and an edit reaches all of them.
"""

from __future__ import annotations

import io
import os
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import copy_project  # type: ignore[import-not-found]
from servertools import SOURCES, running_server  # type: ignore[import-not-found]


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=60) as answer:  # a new connection each time
        return answer.status, dict(answer.headers), answer.read()


def server_processes(root: Path) -> list[int]:
    """The processes answering for ``root``: children of its `recueil serve` process."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"recueil.cli" in words and b"serve" in words and str(root).encode() in words:
            children = cmdline.with_name("task") / cmdline.parent.name / "children"
            pids = [int(pid) for pid in children.read_text().split()]
            # multiprocessing's resource tracker is a child too: not a server
            tracker = [p for p in pids if b"resource_tracker" in _cmdline(p)]
            return [pid for pid in pids if pid not in tracker]
    return []


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_two_server_processes_share_one_project_and_its_cache(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "p", SOURCES[:3])
    with running_server(root, "--workers", "2", "--jobs", "1") as base:
        assert len(server_processes(root)) == 2
        # the same sheet, not built, asked 12 times at once: whichever process renders it,
        # every answer is the same file
        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(fetch, [f"{base}/fiches/HDF-2022-001.pdf"] * 12))
        assert {status for status, _, _ in answers} == {200}
        assert len({body for _, _, body in answers}) == 1
        assert len({headers["etag"] for _, headers, _ in answers}) == 1
        pages = PdfReader(io.BytesIO(answers[0][2])).pages
        assert "Classe passerelle" in pages[0].extract_text()

        # a selection asked of both processes at once: one file, right contents
        query = urllib.parse.urlencode(
            [("fiche", "HDF-2022-001"), ("fiche", "ARA-2022-004"), ("titre", "Deux fiches")]
        )
        with ThreadPoolExecutor(6) as pool:
            made = list(pool.map(fetch, [f"{base}/selection.pdf?{query}"] * 6))
        assert {status for status, _, _ in made} == {200}
        assert len({body for _, _, body in made}) == 1
        outline = [item.title for item in PdfReader(io.BytesIO(made[0][2])).outline
                   if not isinstance(item, list)]  # fmt: skip
        assert any("Classe passerelle" in title for title in outline)

        # searches answered by either process
        with ThreadPoolExecutor(6) as pool:
            found = list(pool.map(fetch, [f"{base}/recherche?q=parents"] * 12))
        assert {status for status, _, _ in found} == {200}
        assert all(b"HDF-2022-003" in body or b"ARA-2022-004" in body for _, _, body in found)

        # an edit reaches every process within a few seconds
        source = root / "content" / SOURCES[1]
        text = source.read_text(encoding="utf-8")
        source.write_text(text.replace("Classe passerelle", "Classe relais", 1), encoding="utf-8")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            bodies = [fetch(f"{base}/fiches/HDF-2022-001")[2] for _ in range(8)]
            if all(b"Classe relais" in body for body in bodies):
                break
            time.sleep(0.3)
        assert all(b"Classe relais" in body for body in bodies)


def test_a_killed_servers_scratch_folder_is_removed_by_the_next_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server stopped by SIGKILL cannot remove its workers' scratch folder (WeasyPrint's
    fonts, some 4 MB): the next render service removes those whose process is gone, and
    leaves the others (a live server's, a folder of another name)."""
    import subprocess
    import sys
    import tempfile

    from recueil.serve.renders import SCRATCH_PREFIX, RenderService

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead = tmp_path / f"{SCRATCH_PREFIX}{gone.stdout.strip()}-abc"
    live = tmp_path / f"{SCRATCH_PREFIX}{os.getppid()}-def"  # the test runner's parent
    other = tmp_path / f"{SCRATCH_PREFIX}oldstyle"
    for folder in (dead, live, other):
        (folder / "fonts").mkdir(parents=True)
        (folder / "fonts" / "font.ttf").write_bytes(b"\0" * 100)
    service = RenderService(jobs=1, queue=1, timeout=10, memory_mb=0)
    try:
        assert not dead.exists()
        assert live.is_dir() and other.is_dir()
        mine = Path(service.scratch)
        assert mine.parent == tmp_path and mine.name.startswith(f"{SCRATCH_PREFIX}{os.getpid()}-")
    finally:
        service.close()
    assert not mine.exists()


def test_a_worker_that_ends_while_being_replaced_is_no_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker killed from outside can be reaped between the check that it is alive and the
    signal meant to end it: replacing it must not fail (the request got a 500 instead of
    "worker lost", seen once in a full test run)."""
    import asyncio

    from recueil.serve import renders, tasks

    service = renders.RenderService(jobs=1, queue=1, timeout=30, memory_mb=0)
    try:
        asyncio.run(service.run("k", tasks.give_back_memory, False))  # starts the worker
        (pid,) = service.pids()

        def gone(pid: int, sig: int) -> None:
            raise ProcessLookupError(3, "No such process")

        monkeypatch.setattr(renders.os, "kill", gone)
        service._replace(0)  # no error
        monkeypatch.undo()
        assert pid not in service.pids()
    finally:
        service.close()


def main_module_ran() -> str | None:
    """In a render worker: whether the marker script below ran there as its main module."""
    return os.environ.get("RECUEIL_TEST_MAIN_RAN")


def test_render_workers_start_without_the_servers_main_module(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A spawned worker runs its parent's main module first; for `recueil serve` that is the
    whole command line, some 20 MB per worker that the memory at rest counts (issue 13)."""
    import asyncio
    import sys
    import types

    from recueil.serve.renders import RenderService

    script = tmp_path / "marker.py"
    script.write_text("import os\nos.environ['RECUEIL_TEST_MAIN_RAN'] = 'yes'\n", "utf-8")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)
    service = RenderService(jobs=1, queue=1, timeout=30, memory_mb=0)
    try:
        ran = asyncio.run(service.run("k", main_module_ran))
    finally:
        service.close()
    assert ran is None
    assert sys.modules["__main__"] is main  # put back once the worker started
