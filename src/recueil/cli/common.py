"""What every command shares: exit codes, --project, reading the project, showing problems."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from recueil.core.diagnostics import Diagnostic, Level, printable
from recueil.core.lock import LockHolder, project_lock
from recueil.render.cache import RenderCache
from recueil.render.sheet_build import Corpus, Limits, SheetOutcome, SheetRenderer
from recueil.render.workers import default_jobs
from recueil.sources.project import CACHE_DIR, Project, load_project
from recueil.sources.sheet import Sheet

EXIT_OK, EXIT_CONTENT, EXIT_USAGE = 0, 1, 2


def project_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """Every command takes --project DIR (default: the current folder)."""
    return click.option(
        "--project",
        "project_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("."),
        show_default=True,
        help="Project folder.",
    )(function)


EXIT_INTERRUPTED = 130


def _open(project_dir: Path) -> tuple[Project, list[Diagnostic]]:
    if not project_dir.is_dir():
        raise click.UsageError(f"project folder '{project_dir}' does not exist")
    return load_project(project_dir)


def _show(diagnostics: Iterable[Diagnostic]) -> None:
    for diagnostic in sorted(set(diagnostics), key=_sort_key):
        colour = "red" if diagnostic.level is Level.ERROR else "yellow"
        click.secho(diagnostic.format(), fg=colour, err=True)


def _show_skipped(corpus: Corpus) -> None:
    """A note for each folder of sources left out because its name starts with '_'."""
    for item in corpus.skipped:
        click.echo(f"{printable(item.path)}: note: {item.message()}", err=True)


def _sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    return (d.path, d.line or 0, d.column or 0, d.message)


def _count(diagnostics: Iterable[Diagnostic]) -> tuple[int, int]:
    items = set(diagnostics)
    errors = sum(1 for d in items if d.level is Level.ERROR)
    return errors, len(items) - errors


class Progress:
    """Count, current sheet and elapsed time on stderr; one line per sheet when not a terminal."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.started = time.perf_counter()
        self.tty = sys.stderr.isatty()

    def __call__(self, index: int, total: int, sheet: Sheet) -> None:
        if self.quiet:
            return
        elapsed = time.perf_counter() - self.started
        line = f"[{index + 1}/{total}] {sheet.slug}  {elapsed:5.1f} s"
        if self.tty:
            click.echo(f"\r\033[K{line}", nl=False, err=True)
        else:
            click.echo(line, err=True)

    def done(self) -> None:
        if self.tty and not self.quiet:
            click.echo("\r\033[K", nl=False, err=True)


def _limits(project: Project, jobs: int | None) -> Limits:
    return Limits(
        jobs=jobs or default_jobs(),
        timeout=project.settings.render_timeout,
        memory_mb=project.settings.render_memory_mb,
    )


def _lock(project: Project, command: str) -> None:
    """Hold the project's build lock until the command ends (see lock.py); wait if it is taken.

    Every command that writes into the build folder calls this before writing anything.
    """

    def waiting(holder: LockHolder) -> None:
        click.echo(
            f"waiting for another recueil build of this project ({printable(holder.describe())}) "
            "to finish…",
            err=True,
        )

    stack = contextlib.ExitStack()
    try:
        stack.enter_context(project_lock(project.build_dir, f"recueil {command}", waiting))
    except OSError as exc:
        where = project.relative(project.build_dir)
        raise click.UsageError(f"cannot lock the build folder {where}: {exc}") from None
    click.get_current_context().with_resource(stack)


def _summary(
    outcomes: list[SheetOutcome],
    diagnostics: list[Diagnostic],
    seconds: float,
    where: Path,
    quiet: bool,
) -> None:
    built = sum(1 for o in outcomes if o.ok)
    pages = sum(o.pages for o in outcomes if o.ok)
    rendered = sum(1 for o in outcomes if o.ok and not o.cached)
    errors, warnings = _count(diagnostics)
    failed = len(outcomes) - built
    message = (
        f"{built} sheet(s) ready ({pages} pages; {rendered} rendered, {built - rendered} "
        f"unchanged) in {seconds:.1f} s → {where}; "
        f"{failed} failed, {errors} error(s), {warnings} warning(s)"
    )
    if not quiet or errors or failed:
        click.secho(message, err=True, fg="red" if errors or failed else None)


def render_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """--jobs and --no-cache, for every command that renders."""
    function = click.option(
        "--jobs",
        "-j",
        type=click.IntRange(1, 256),
        default=None,
        help="Worker processes (default: the number of cores).",
    )(function)
    return click.option(
        "--no-cache", is_flag=True, help="Render everything again; do not read or write the cache."
    )(function)


def _renderer(project: Project, corpus: Corpus, no_cache: bool) -> SheetRenderer:
    cache = None if no_cache else RenderCache(project.build_dir / CACHE_DIR / "renders")
    return SheetRenderer(project, corpus, cache)
