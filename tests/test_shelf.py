"""What the server makes for visitors stays under its ceiling, least recently used out first."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from pypdf import PdfReader
from starlette.testclient import TestClient

from conftest import copy_project  # type: ignore[import-not-found]
from recueil.serve import shelf as shelf_module
from recueil.serve.app import ServerOptions, create_app
from recueil.serve.shelf import LOW_WATER, TOUCH_SECONDS, Shelf
from servertools import SOURCES  # type: ignore[import-not-found]


def _file(folder: Path, name: str, size: int, used_ago: float) -> Path:
    """A file of ``size`` bytes last used ``used_ago`` seconds ago (its access time)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"x" * size)
    when = time.time() - used_ago
    os.utime(path, (when, when))
    return path


def _names(*folders: Path) -> set[str]:
    return {p.name for folder in folders for p in folder.iterdir()}


def test_under_the_ceiling_nothing_goes(tmp_path: Path) -> None:
    shelf = Shelf([tmp_path / "a", tmp_path / "b"], ceiling=1000)
    _file(tmp_path / "a", "old.pdf", 400, used_ago=9000)
    new = _file(tmp_path / "b", "new.png", 500, used_ago=0)
    assert shelf.added(new, 500) == 0
    assert _names(tmp_path / "a", tmp_path / "b") == {"old.pdf", "new.png"}


def test_past_the_ceiling_the_least_recently_used_go_first_across_folders(
    tmp_path: Path,
) -> None:
    shelf = Shelf([tmp_path / "selections", tmp_path / "thumbnails"], ceiling=1000)
    _file(tmp_path / "selections", "oldest.pdf", 300, used_ago=5000)
    _file(tmp_path / "thumbnails", "older.png", 300, used_ago=4000)
    _file(tmp_path / "selections", "recent.pdf", 300, used_ago=10)
    outside = _file(tmp_path / "renders", "sheet.pdf", 5000, used_ago=99999)
    writing = _file(tmp_path / "selections", ".new.pdf.abc.tmp", 5000, used_ago=99999)
    new = _file(tmp_path / "selections", "new.pdf", 400, used_ago=0)
    assert shelf.added(new, 400) == 2  # 1,300 bytes: 1,000 is not under 900 (LOW_WATER), 700 is
    assert _names(tmp_path / "selections", tmp_path / "thumbnails") == {
        "recent.pdf", "new.pdf", writing.name,
    }  # fmt: skip
    assert outside.exists()  # only the shelf's folders are cleaned
    assert sum(p.stat().st_size for p in (tmp_path / "selections").glob("[!.]*")) <= (
        1000 * LOW_WATER
    )


def test_the_file_just_written_stays_even_alone_past_the_ceiling(tmp_path: Path) -> None:
    shelf = Shelf([tmp_path], ceiling=1000)
    _file(tmp_path, "other.pdf", 100, used_ago=50)
    big = _file(tmp_path, "big.pdf", 3000, used_ago=9999)  # an old access time, still kept
    assert shelf.added(big, 3000) == 1
    assert _names(tmp_path) == {"big.pdf"}


def test_a_file_served_goes_to_the_end_of_the_line_its_date_unchanged(tmp_path: Path) -> None:
    shelf = Shelf([tmp_path], ceiling=1000)
    served = _file(tmp_path, "served.pdf", 400, used_ago=5000)
    _file(tmp_path, "idle.pdf", 400, used_ago=100)
    modified = served.stat().st_mtime_ns
    shelf.used(served)
    assert time.time() - served.stat().st_atime < TOUCH_SECONDS
    assert served.stat().st_mtime_ns == modified  # Last-Modified and the server's memory of it
    new = _file(tmp_path, "new.pdf", 400, used_ago=0)
    assert shelf.added(new, 400) == 1
    assert _names(tmp_path) == {"served.pdf", "new.pdf"}


def test_the_count_follows_writes_without_reading_the_folder_again(tmp_path: Path) -> None:
    shelf = Shelf([tmp_path], ceiling=1000)
    first = _file(tmp_path, "1.pdf", 400, used_ago=30)
    assert shelf.added(first, 400) == 0
    _file(tmp_path, "elsewhere.pdf", 400, used_ago=20)  # another process wrote it
    second = _file(tmp_path, "2.pdf", 400, used_ago=10)
    assert shelf.added(second, 400) == 0  # 800 counted: the other process's file unseen yet
    third = _file(tmp_path, "3.pdf", 400, used_ago=0)
    assert shelf.added(third, 400) == 2  # past 1,000: the folder counted again, 1,600 bytes
    assert _names(tmp_path) == {"2.pdf", "3.pdf"}


def test_the_server_keeps_visitors_selections_under_serve_cache_mb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the filler below stands for another server process's files: counted at every write
    monkeypatch.setattr(shelf_module, "RECOUNT_SECONDS", 0.0)
    root = copy_project(tmp_path / "p", SOURCES[:4])
    (root / "recueil.yaml").write_text("serve_cache_mb: 1\n", encoding="utf-8")
    folder = root / "build" / ".cache" / "serve" / "selections"
    pair = [("fiche", "HDF-2022-001"), ("fiche", "HDF-2022-003")]
    with TestClient(create_app(ServerOptions(root, jobs=1, queue=2))) as client:
        site = client.app.state.site  # type: ignore[attr-defined]
        first = client.get("/selection.pdf", params=[*pair, ("titre", "Première")])
        assert first.status_code == 200, first.text
        (kept,) = folder.glob("*.pdf")
        again = client.get("/selection.pdf", params=[*pair, ("titre", "Première")])
        assert (again.headers["etag"], again.headers["last-modified"]) == (
            first.headers["etag"], first.headers["last-modified"],
        )  # fmt: skip
        assert site.service.runs == 1
        long_ago = time.time() - 3600
        os.utime(kept, (long_ago, long_ago))
        filler = _file(folder, "autre.pdf", 1_000_000 - len(first.content) // 2, used_ago=60)
        writing = _file(folder, ".autre.pdf.x.tmp", 2_000_000, used_ago=7200)

        second = client.get("/selection.pdf", params=[*pair, ("titre", "Seconde")])
        assert second.status_code == 200
        assert not kept.exists()  # the least recently used went first
        assert writing.exists()  # a file being written is never deleted
        assert not filler.exists()  # still past 90 % of the ceiling without the first
        (made,) = folder.glob("*.pdf")
        assert made.read_bytes() == second.content
        assert sum(p.stat().st_size for p in folder.glob("*.pdf")) <= 1_000_000

        made_again = client.get("/selection.pdf", params=[*pair, ("titre", "Première")])
        assert made_again.status_code == 200
        assert site.service.runs == 3  # deleted, so made again
        assert "Première" in PdfReader(io.BytesIO(made_again.content)).pages[0].extract_text()
