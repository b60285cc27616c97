"""Shared fixtures: a throw-away copy of the sample project and ways to run the command line."""

from __future__ import annotations

import contextlib
import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from recueil.cli.main import main

REPO = Path(__file__).resolve().parents[1]

#: Sample sources used by several tests (paths relative to content/).
CLASSE_PASSERELLE = "experiences/hdf-2022-001-classe-passerelle.md"  # HDF-2022-001, photo
GUIDE_EXCLUSIONS = "resources/res-2021-001-guide-exclusions-temporaires.md"  # RES-2021-001
DOSSIER_VACANCES = "resources/res-2021-002-dossier-vacances-apprenantes.md"  # see_also RES-2021-001


def copy_project(root: Path, sources: tuple[str, ...] | list[str], images: bool = True) -> Path:
    """Copy kinds/, templates/, styles/, themes.yaml and the chosen content/ files into ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for folder in ("kinds", "templates", "styles"):
        shutil.copytree(REPO / folder, root / folder)
    shutil.copy2(REPO / "themes.yaml", root / "themes.yaml")
    (root / "content").mkdir()
    for rel in sources:
        target = root / "content" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / "content" / rel, target)
    if images:
        shutil.copytree(REPO / "content" / "images", root / "content" / "images")
    return root


@pytest.fixture
def project_copy(tmp_path: Path) -> Callable[..., Path]:
    """``project_copy(*sources)``: a fresh project in tmp_path holding only those sources.

    Sources are paths relative to content/, e.g. "resources/res-2021-001-guide-….md".
    """

    def make(*sources: str, images: bool = True) -> Path:
        return copy_project(tmp_path / "project", sources, images)

    return make


@pytest.fixture(scope="session")
def session_project(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Like project_copy, for session-scoped fixtures (each call makes a new folder)."""

    def make(*sources: str, images: bool = True) -> Path:
        return copy_project(tmp_path_factory.mktemp("project"), sources, images)

    return make


def run_cli(*args: object) -> Result:
    """Run ``recueil ARGS`` in-process; stdout and stderr are both in ``result.output``."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)


@pytest.fixture
def cli() -> Callable[..., Result]:
    """The in-process command line runner (see run_cli)."""
    return run_cli


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block with TimeoutError after ``seconds`` (SIGALRM, main thread only).

    For inputs that might make recueil loop forever: a hang must fail one test, not the suite.
    """

    def interrupt(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s (endless loop?)")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def limit() -> Callable[[float], contextlib.AbstractContextManager[None]]:
    """``with limit(seconds):`` fails the test instead of hanging (see time_limit)."""
    return time_limit


def national_collection(cached: bool = False) -> tuple[Any, Any, Any, Any]:
    """The sample's national collection: project, corpus, collection and a sheet renderer
    (reading and writing the build folder's render cache when ``cached``, as the server's
    workers do)."""
    from recueil.collection.declared import discover_collections
    from recueil.render.cache import RenderCache
    from recueil.render.sheet_build import SheetRenderer, load_corpus
    from recueil.sources.project import CACHE_DIR, load_project

    project, problems = load_project(REPO)
    assert not problems
    corpus = load_corpus(project)
    collections, _ = discover_collections(project)
    collection = next(c for c in collections if c.name == "rencontre-nationale-2022")
    cache = RenderCache(project.build_dir / CACHE_DIR / "renders") if cached else None
    return project, corpus, collection, SheetRenderer(project, corpus, cache)
