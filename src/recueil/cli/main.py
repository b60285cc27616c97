"""Command line: a thin layer over the library, which never prints or exits by itself.

Exit codes: 0 clean, 1 content errors (or warnings with --strict), 2 usage errors.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import click

from recueil import __version__
from recueil.cli.collection import allow_incomplete_option, build_variants
from recueil.cli.collection import collection as collection_command
from recueil.cli.common import (
    EXIT_CONTENT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Progress,
    _count,
    _limits,
    _lock,
    _open,
    _renderer,
    _show,
    _show_skipped,
    _summary,
    project_option,
    render_options,
)
from recueil.cli.edition import edition
from recueil.cli.records import records
from recueil.cli.serve import serve
from recueil.collection.collection_build import check_references
from recueil.collection.declared import collection_output, discover_collections
from recueil.core.diagnostics import Level
from recueil.render.sheet_build import (
    Corpus,
    SheetRenderer,
    build_sheets,
    load_corpus,
)
from recueil.scaffold.new_project import ProjectExists, init_project
from recueil.scaffold.new_source import new_source, slug_from_title
from recueil.sources.build_folder import check_cleanable, clean_outputs, remove_unused_caches
from recueil.sources.sheet import Sheet


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="recueil")
def main() -> None:
    """recueil: Markdown sheets to print-ready PDF sheets and collections."""


@main.command()
@project_option
@render_options
@click.option("--quiet", "-q", is_flag=True, help="Print only problems.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@allow_incomplete_option
def build(
    project_dir: Path,
    jobs: int | None,
    no_cache: bool,
    quiet: bool,
    strict: bool,
    allow_incomplete: bool,
) -> None:
    """Render every sheet into build/sheets/ and every collection into build/collections/."""
    started, begun = time.perf_counter(), time.time()
    project, diagnostics = _open(project_dir)
    if any(d.level is Level.ERROR for d in diagnostics):
        _show(diagnostics)
        sys.exit(EXIT_CONTENT)
    _lock(project, "build")
    corpus = load_corpus(project)
    diagnostics += corpus.diagnostics
    out = project.build_dir / "sheets"
    progress = Progress(quiet)
    renderer = _renderer(project, corpus, no_cache)
    outcomes = build_sheets(
        renderer,
        corpus.sheets,
        lambda s: out / f"{s.slug}.pdf",
        on_progress=progress,
        strict=strict,
        limits=_limits(project, jobs),
    )
    progress.done()
    for outcome in outcomes:
        diagnostics += outcome.diagnostics
    collections, found = discover_collections(project)
    diagnostics += found
    failed = any(not o.ok for o in outcomes) or any(d.level is Level.ERROR for d in found)
    for collection in collections:
        failed |= not build_variants(
            project,
            corpus,
            collection,
            renderer,
            collection_output(project, collection),
            diagnostics,
            quiet,
            _limits(project, jobs),
            allow_incomplete,
        )
    if renderer.cache is not None:  # every entry the project needs now was read: the rest
        removed = remove_unused_caches(project, begun)
        if removed.entries and not quiet:
            click.echo(
                f"cache: removed {removed.entries} "
                f"{'entry' if removed.entries == 1 else 'entries'} unused for "
                f"{project.settings.cache_days} days ({removed.size / 1e6:.1f} MB)",
                err=True,
            )
    if not quiet:
        _show_skipped(corpus)
    _show(diagnostics)
    _summary(outcomes, diagnostics, time.perf_counter() - started, out, quiet)
    errors, warnings = _count(diagnostics)
    sys.exit(EXIT_CONTENT if errors or failed or (strict and warnings) else EXIT_OK)


@main.command()
@project_option
@click.argument("targets", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Output file (one sheet) or folder (several).",
)
@render_options
@click.option("--quiet", "-q", is_flag=True, help="Print only problems.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def sheet(
    project_dir: Path,
    targets: tuple[str, ...],
    output: Path | None,
    jobs: int | None,
    no_cache: bool,
    quiet: bool,
    strict: bool,
) -> None:
    """Render just the sheets named by slug or path, on demand."""
    started = time.perf_counter()
    project, diagnostics = _open(project_dir)
    _lock(project, "sheet")
    scan = load_corpus(project, focus=set())  # slugs and titles only: fast
    wanted: set[Path] = set()
    for target in targets:
        for candidate in (Path(target), project.root / target):
            if candidate.is_file():
                wanted.add(candidate.resolve())
        for slug in (target, target.upper()):
            if slug in scan.by_slug():
                wanted.add(scan.by_slug()[slug].path.resolve())
    corpus = load_corpus(project, focus=wanted, scanned=scan)
    full = [(s, s.path.resolve()) for s in corpus.loaded if s.kind]  # stubs were not asked for
    by_slug = {s.slug: s for s, path in full if path in wanted}
    by_path = {path: s for s, path in full if path in wanted}
    chosen: list[Sheet] = []
    for target in targets:
        found = (
            by_slug.get(target)
            or by_slug.get(target.upper())
            or by_path.get(Path(target).resolve())
            or by_path.get((project.root / target).resolve())
        )
        if found is None:
            asked = {Path(target).resolve(), (project.root / target).resolve()}
            stub = scan.by_slug().get(target) or scan.by_slug().get(target.upper())
            if stub is not None:
                asked.add(stub.path.resolve())
            related = [d for d in corpus.diagnostics if (project.root / d.path).resolve() in asked]
            if related:
                diagnostics += related
                continue
            raise click.UsageError(f"no sheet with slug or path '{target}'")
        own = [d for d in corpus.diagnostics if d.path == found.rel]
        diagnostics += own
        if any(valid is found for valid in corpus.sheets):
            chosen.append(found)
    if output is not None and len(targets) > 1 and output.suffix.lower() == ".pdf":
        raise click.UsageError("-o must be a folder when several sheets are asked for")

    def output_for(s: Sheet) -> Path:
        if output is None:
            return project.build_dir / "sheets" / f"{s.slug}.pdf"
        if len(targets) == 1 and output.suffix.lower() == ".pdf":
            return output
        return output / f"{s.slug}.pdf"

    outcomes = build_sheets(
        _renderer(project, corpus, no_cache),
        chosen,
        output_for,
        strict=strict,
        limits=_limits(project, jobs),
    )
    for outcome in outcomes:
        diagnostics += outcome.diagnostics
        if outcome.ok and not quiet:
            click.echo(
                f"{outcome.slug}: {outcome.output} ({outcome.pages} page(s), "
                f"{outcome.seconds:.2f} s)",
                err=True,
            )
    _show(diagnostics)
    errors, warnings = _count(diagnostics)
    if not quiet:
        click.echo(f"done in {time.perf_counter() - started:.2f} s", err=True)
    failed = any(not o.ok for o in outcomes) or len(outcomes) < len(targets)
    sys.exit(EXIT_CONTENT if errors or failed or (strict and warnings) else EXIT_OK)


@main.command()
@project_option
def clean(project_dir: Path) -> None:
    """Delete build outputs and caches (never sources, never editions)."""
    project, _ = _open(project_dir)
    try:
        check_cleanable(project)
        if project.build_dir.is_dir():  # no build folder: nothing to clean, nothing to lock
            _lock(project, "clean")
        removed = clean_outputs(project)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    for path in removed:
        click.echo(f"removed {project.relative(path)}", err=True)
    if not removed:
        click.echo("nothing to clean", err=True)


@main.command()
@project_option
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def check(project_dir: Path, strict: bool) -> None:
    """Validate the whole project without rendering; report every problem at once."""
    project, diagnostics = _open(project_dir)
    corpus = (
        load_corpus(project)
        if not any(d.level is Level.ERROR for d in diagnostics)
        else Corpus([], [])
    )
    diagnostics += corpus.diagnostics
    renderer = SheetRenderer(project, corpus) if corpus.sheets else None
    for item in corpus.sheets:
        assert renderer is not None
        diagnostics += renderer.page(item)[1]
    collections, found = discover_collections(project)
    diagnostics += found
    for declared in collections:
        diagnostics += check_references(declared, corpus, project)
    _show_skipped(corpus)
    _show(diagnostics)
    errors, warnings = _count(diagnostics)
    total = len(project.sources())
    click.echo(f"{total} source(s) checked: {errors} error(s), {warnings} warning(s)", err=True)
    sys.exit(EXIT_CONTENT if errors or (strict and warnings) else EXIT_OK)


@main.command()
@project_option
@click.argument("kind_name", metavar="KIND")
@click.argument("title")
@click.option("--slug", help="Slug of the new sheet (default: derived from the title).")
def new(project_dir: Path, kind_name: str, title: str, slug: str | None) -> None:
    """Create a new source of KIND with every field of its schema ready to fill."""
    project, _diagnostics = _open(project_dir)
    if kind_name not in project.kinds:
        known = ", ".join(sorted(project.kinds))
        raise click.UsageError(f"unknown kind '{kind_name}' (known kinds: {known})")
    kind = project.kinds[kind_name]
    slug = slug or slug_from_title(title)
    path = project.content_dir / kind.folder / f"{slug.lower()}.md"
    if path.exists():
        raise click.UsageError(f"{project.relative(path)} already exists")
    text = new_source(kind, title, slug, dt.date.today())
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8") as stream:
            stream.write(text)
    except FileExistsError:
        raise click.UsageError(f"{project.relative(path)} already exists") from None
    click.echo(project.relative(path))


@main.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Create a new project in DIRECTORY (default: here) that builds straight away."""
    try:
        written = init_project(directory)
    except ProjectExists as exc:
        raise click.UsageError(str(exc)) from None
    for path in written:
        click.echo(path.relative_to(directory).as_posix())
    where = "" if directory == Path(".") else f" --project {directory}"
    click.echo(f"new project in {directory}: now run `recueil build{where}`", err=True)


main.add_command(collection_command)
main.add_command(serve)
main.add_command(edition)
main.add_command(records)


def run() -> None:
    """Console entry point: Ctrl-C ends with a short message and exit code 130, no traceback.

    Outputs are written atomically and cache entries are complete or absent, so whatever was
    finished before the interruption is kept and reused by the next build.
    """
    try:
        main(standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo(
            "interrupted: finished sheets are kept and cached; nothing half-written is left "
            "(an unfinished edition is not published)",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    run()
