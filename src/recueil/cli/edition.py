"""``recueil edition …``: create, list, verify, compare and rebuild published editions.

Exit codes as for every command: 0 done (or intact, or identical), 1 a content problem, a
refused publication, a damaged or non-reproducible edition, 2 a usage error.
"""

from __future__ import annotations

import datetime as dt
import signal
import sys
import time
from pathlib import Path
from types import FrameType

import click

from recueil.cli.common import (
    EXIT_CONTENT,
    EXIT_OK,
    Progress,
    _limits,
    _lock,
    _open,
    _show,
    project_option,
)
from recueil.edition.archive import Archive, ArchiveError, fingerprint, verify
from recueil.edition.changes import as_text, compare
from recueil.edition.create import EditionRequest, create_edition
from recueil.edition.rebuild import rebuild_check
from recueil.sources.edition_label import Edition, check_version, default_date
from recueil.sources.project import Project


@click.group()
def edition() -> None:
    """Publish immutable, verifiable PDF/A editions and compare them."""


def _archive(project: Project) -> Archive:
    return Archive(project.editions_dir)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM ends an edition like Ctrl-C: the staging folder is removed on the way out."""
    raise KeyboardInterrupt


def _manifest(archive: Archive, version: str) -> dict:  # type: ignore[type-arg]
    try:
        return archive.manifest(version)
    except ArchiveError as exc:
        raise click.UsageError(str(exc)) from None


@edition.command()
@project_option
@click.argument("version")
@click.option(
    "--date",
    "date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Publication date (default: SOURCE_DATE_EPOCH, else today).",
)
@click.option("--title", default="", help="Title of the edition (e.g. '2e édition revue').")
@click.option(
    "--collection",
    "collections",
    multiple=True,
    help="Publish this collection (repeatable; default: every declared collection).",
)
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Worker processes.")
@click.option("--no-cache", is_flag=True, help="Render everything again.")
@click.option("--quiet", "-q", is_flag=True, help="Print only problems.")
def create(
    project_dir: Path,
    version: str,
    date: dt.datetime | None,
    title: str,
    collections: tuple[str, ...],
    jobs: int | None,
    no_cache: bool,
    quiet: bool,
) -> None:
    """Build the collections and their sheets strictly and publish them as edition VERSION."""
    problem = check_version(version)
    if problem:
        raise click.UsageError(problem)
    started = time.perf_counter()
    project, diagnostics = _open(project_dir)
    _lock(project, "edition create")  # it renders into the build folder's cache
    request = EditionRequest(
        Edition(version, date.date() if date else default_date(), title),
        collections,
        _limits(project, jobs),
        use_cache=not no_cache,
    )
    progress = Progress(quiet)
    signal.signal(signal.SIGTERM, _interrupt)

    def waiting() -> None:
        click.echo("waiting for another edition being created in this archive…", err=True)

    try:
        published, diagnostics = create_edition(
            project, request, _archive(project), progress, diagnostics, waiting
        )
    except ArchiveError as exc:
        progress.done()
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(EXIT_CONTENT)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    progress.done()
    _show(diagnostics)
    if published is None:
        click.secho(
            f"edition {version} not published: editions are strict, every problem above "
            "must be mended first",
            fg="red",
            err=True,
        )
        sys.exit(EXIT_CONTENT)
    manifest = published.manifest
    pages = sum(c["pages"] for c in manifest["collections"])
    click.echo(
        f"edition {version} published: {published.folder} ({len(manifest['sheets'])} sheets, "
        f"{len(manifest['collections'])} collection(s), {pages} pages, "
        f"{time.perf_counter() - started:.1f} s)"
    )
    click.echo(f"fingerprint (SHA-256 of SHA256SUMS): {fingerprint(published.folder)}")
    if published.changes is not None and not quiet:
        click.echo(as_text(published.changes), nl=False)
    sys.exit(EXIT_OK)


@edition.command(name="list")
@project_option
def list_editions(project_dir: Path) -> None:
    """Show the published editions, oldest first."""
    project, _ = _open(project_dir)
    archive = _archive(project)
    versions = archive.versions()
    if not versions:
        click.echo(f"no edition in {archive.folder}")
        return
    rows = [("version", "date", "sheets", "pages", "title")]
    for version in versions:
        try:
            manifest = archive.manifest(version)
        except ArchiveError as exc:
            rows.append((version, "?", "?", "?", f"(unreadable manifest: {exc})"))
            continue
        pages = sum(c.get("pages", 0) for c in manifest.get("collections", []))
        rows.append(
            (
                version,
                str(manifest.get("date", "?")),
                str(len(manifest.get("sheets", []))),
                str(pages),
                str(manifest.get("title", "")),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
        click.echo("  ".join([*cells, row[4]]))


@edition.command(name="verify")
@project_option
@click.argument("version")
def verify_edition(project_dir: Path, version: str) -> None:
    """Re-hash every file of edition VERSION: intact, or what is missing, altered or extra."""
    project, _ = _open(project_dir)
    archive = _archive(project)
    folder = archive.path(version)
    if not folder.is_dir():
        raise click.UsageError(f"no edition '{version}' in {archive.folder}")
    problems = verify(folder)
    for problem in problems:
        click.secho(f"{folder / problem.path}: {problem.kind}", fg="red", err=True)
    if problems:
        click.secho(f"edition {version}: {len(problems)} problem(s)", fg="red", err=True)
        sys.exit(EXIT_CONTENT)
    click.echo(f"edition {version}: intact (fingerprint {fingerprint(folder)})")


@edition.command(name="diff")
@project_option
@click.argument("older")
@click.argument("newer")
def diff_editions(project_dir: Path, older: str, newer: str) -> None:
    """Sheets added, removed and changed from OLDER to NEWER, and the pages to reprint."""
    project, _ = _open(project_dir)
    archive = _archive(project)
    click.echo(as_text(compare(_manifest(archive, older), _manifest(archive, newer))), nl=False)


@edition.command(name="rebuild")
@project_option
@click.argument("version")
@click.option("--check", is_flag=True, help="Rebuild in a temporary folder and compare bytes.")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), default=None, help="Worker processes.")
@click.option("--quiet", "-q", is_flag=True, help="Print only problems.")
def rebuild(project_dir: Path, version: str, check: bool, jobs: int | None, quiet: bool) -> None:
    """Rebuild edition VERSION from the sources it records and compare it with the archive."""
    if not check:
        raise click.UsageError(
            "an edition is never rebuilt in place: use --check to rebuild it in a temporary "
            "folder and compare"
        )
    project, _ = _open(project_dir)
    archive = _archive(project)
    _manifest(archive, version)
    progress = Progress(quiet)
    try:
        outcome = rebuild_check(
            project,
            archive,
            version,
            _limits(project, jobs),
            progress,
            lambda text: click.echo(text, err=True),
        )
    except ArchiveError as exc:
        progress.done()
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(EXIT_CONTENT)
    progress.done()
    _show(outcome.diagnostics)
    if outcome.identical:
        click.echo(f"edition {version}: rebuilt byte for byte identical")
        return
    for rel in outcome.differing:
        click.secho(f"differs: {rel}", fg="red", err=True)
    click.secho(f"edition {version}: the rebuild is not identical", fg="red", err=True)
    sys.exit(EXIT_CONTENT)
