"""WeasyPrint writes the fonts of a FontConfiguration into a folder of its own in /tmp; a
forked worker that parsed the styles leaves through os._exit, which skipped its clean-up:
each left some 2 MB behind. A worker now removes the folders it made, never its parent's."""

from __future__ import annotations

import functools
import multiprocessing
import os
import tempfile
from pathlib import Path
from typing import Any

from recueil.markup.fragment import VIRTUAL_ROOT
from recueil.render import weasy
from recueil.render.workers import RenderPool

STYLE = '@font-face { font-family: "Essai"; src: url("fonts/Inter-Regular.otf"); }\n'
LINK = (VIRTUAL_ROOT + "styles/essai.css",)


def _project(tmp_path: Path) -> Path:
    fonts = Path(__file__).resolve().parents[1] / "styles" / "fonts"
    (tmp_path / "styles" / "fonts").mkdir(parents=True)
    (tmp_path / "styles" / "fonts" / "Inter-Regular.otf").write_bytes(
        (fonts / "Inter-Regular.otf").read_bytes()
    )
    (tmp_path / "styles" / "essai.css").write_text(STYLE, encoding="utf-8")
    return tmp_path


def _folder(project: Path) -> Path:
    _, font_config, _, _ = weasy._parsed_styles(project, (project / "styles",), LINK)
    folder = font_config._folder
    assert folder is not None and Path(folder).is_dir()
    return Path(folder)


def _in_worker(project: Path, edit: bool, out: object) -> None:
    if edit:  # the styles changed: the parent's entry is dropped here, its folder kept
        css = project / "styles" / "essai.css"
        css.write_text(STYLE + "body { color: black }\n", encoding="utf-8")
    out.send(str(_folder(project)))  # type: ignore[attr-defined]


def _render_own_fonts(project: Path, out: object) -> None:
    """A document with fonts of its own (not the shared styles), as the frame's are: its
    FontConfiguration waits in a reference cycle when the worker ends."""
    html = f'<html><head><style>{STYLE} p {{ font-family: "Essai" }}</style></head>'
    weasy.render_pdf(
        html + "<body><p>Bonjour</p></body></html>",
        project_dir=project,
        style_dirs=(project / "styles",),
        rel="essai.html",
        base_path="styles/",
    )
    out.send("rendered")  # type: ignore[attr-defined]


def _folders() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("weasyprint-*"))


def _run_worker(project: Path, edit: bool = False, target: Any = None) -> Path:
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()
    args = (project, child) if target else (project, edit, child)
    process = context.Process(target=target or _in_worker, args=args)
    process.start()
    child.close()  # a worker that fails closes the pipe instead of leaving recv() waiting
    try:
        folder = Path(parent.recv())
    finally:
        process.join(30)
    assert process.exitcode == 0
    return folder


def test_a_worker_removes_the_font_folder_it_made(tmp_path: Path) -> None:
    project = _project(tmp_path)
    folder = _run_worker(project)
    assert folder.name.startswith("weasyprint-")
    assert not folder.exists()


def test_a_worker_removes_the_folder_of_its_last_document(tmp_path: Path) -> None:
    project = _project(tmp_path)
    before = _folders()
    _run_worker(project, target=_render_own_fonts)
    assert _folders() - before == set()


def test_a_worker_keeps_its_parents_folder(tmp_path: Path) -> None:
    project = _project(tmp_path)
    mine = _folder(project)
    try:
        theirs = _run_worker(project, edit=True)
        assert theirs != mine and not theirs.exists()
        assert mine.is_dir() and any(mine.iterdir())  # the parent's fonts are still there
    finally:
        for key in [k for k in weasy._PARSED if k[0] == str(project)]:
            weasy._forget(key)


def test_edited_styles_replace_the_older_entry(tmp_path: Path) -> None:
    project = _project(tmp_path)
    first = _folder(project)
    (project / "styles" / "essai.css").write_text(STYLE + "p { margin: 0 }\n", encoding="utf-8")
    second = _folder(project)
    try:
        assert second != first and not first.exists()
        assert [k for k in weasy._PARSED if k[0] == str(project)] != []
        assert len([k for k in weasy._PARSED if k[0] == str(project)]) == 1
    finally:
        for key in [k for k in weasy._PARSED if k[0] == str(project)]:
            weasy._forget(key)


def _render_then_die(project: Path, slug: str) -> Any:
    """A render whose worker is killed right after it laid out a document with its own fonts
    (as on a time limit, the memory limit or a crash): nothing of it can clean up."""
    html = f'<html><head><style>{STYLE} p {{ font-family: "Essai" }}</style></head>'
    weasy.render_pdf(
        html + f"<body><p>{slug}</p></body></html>",
        project_dir=project,
        style_dirs=(project / "styles",),
        rel=f"{slug}.md",
        base_path="styles/",
    )
    os._exit(9)


def test_a_killed_workers_folders_are_removed_by_its_pool(tmp_path: Path) -> None:
    project = _project(tmp_path)
    before = _folders() | set(Path(tempfile.gettempdir()).glob("recueil-workers-*"))
    outcomes: dict[str, Any] = {}
    pool = RenderPool(functools.partial(_render_then_die, project), 2, 60, 0)
    pool.run(["a", "b", "c"], lambda slug: f"{slug}.md", outcomes.__setitem__)
    assert sorted(outcomes) == ["a", "b", "c"]  # each failed alone, after its worker died
    assert all("died" in str(outcome[1][0]) for outcome in outcomes.values())
    after = _folders() | set(Path(tempfile.gettempdir()).glob("recueil-workers-*"))
    assert after - before == set()
