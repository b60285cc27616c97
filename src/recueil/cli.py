"""Command line: a thin layer over the library, which never prints or exits by itself.

Exit codes: 0 clean, 1 content errors (or warnings with --strict), 2 usage errors.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from . import __version__
from .build import Corpus, SheetOutcome, SheetRenderer, build_sheets, load_corpus
from .bundle import (
    adhoc_collection,
    assemble_collection,
    check_references,
    collection_output,
    discover_collections,
    prepare_collection,
    record,
    up_to_date,
    variant_output,
    variants,
)
from .cache import RenderCache
from .cli_common import (
    EXIT_CONTENT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Progress,
    _count,
    _limits,
    _lock,
    _open,
    _show,
    project_option,
)
from .cli_edition import edition
from .collection import COLLECTIONS_DIR, Collection
from .diagnostics import Diagnostic, Level
from .project import CACHE_DIR, Project
from .publish import check_cleanable, clean_outputs, write_atomic
from .scaffold import new_source, slug_from_title
from .sheet import Sheet


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="recueil")
def main() -> None:
    """recueil: Markdown sheets to print-ready PDF sheets and collections."""


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


@main.command()
@project_option
@render_options
@click.option("--quiet", "-q", is_flag=True, help="Print only problems.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def build(project_dir: Path, jobs: int | None, no_cache: bool, quiet: bool, strict: bool) -> None:
    """Render every sheet into build/sheets/ and every collection into build/collections/."""
    started = time.perf_counter()
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
        failed |= not _build_variants(
            project,
            corpus,
            collection,
            renderer,
            collection_output(project, collection),
            diagnostics,
            quiet,
            _limits(project, jobs).jobs,
        )
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


def _build_variants(
    project: Project,
    corpus: Corpus,
    collection: Collection,
    renderer: SheetRenderer,
    output: Path,
    diagnostics: list[Diagnostic],
    quiet: bool,
    jobs: int,
) -> bool:
    """Build the screen PDF of a collection, then the printer's beside it when it asks for one.

    Each is skipped when it is up to date. The print-shop variant is built only when the screen
    one succeeded: it is the same collection, so its problems would be the same ones reported
    twice. False on errors.
    """
    for variant in variants(collection):
        target = variant_output(output, variant)
        started = time.perf_counter()
        prepared, found = prepare_collection(project, corpus, collection, renderer, variant)
        diagnostics += found
        if prepared is None:
            return False
        name = variant_output(Path(f"{collection.name}.json"), variant).name
        state = project.build_dir / CACHE_DIR / "collections" / name
        if renderer.cache is not None and up_to_date(state, prepared, target):
            if not quiet:
                click.echo(f"collection {collection.name}: {target} (unchanged)", err=True)
            continue
        result, found = assemble_collection(project, prepared, renderer.cache, jobs=jobs)
        diagnostics += found
        if result is None:
            return False
        write_atomic(target, result.pdf)
        if renderer.cache is not None:
            record(state, prepared, result.pdf)
        if not quiet:
            click.echo(
                f"collection {collection.name}: {target} ({result.plan.total} pages, "
                f"{len(result.pdf) / 1e6:.1f} MB, {time.perf_counter() - started:.1f} s)",
                err=True,
            )
    return True


@main.command()
@project_option
@click.argument("name", required=False)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output PDF (default: build/collections/NAME.pdf; the print-shop variant, when the "
    "collection asks for one, goes beside it as NAME-imprimeur.pdf).",
)
@click.option("--theme", "themes", multiple=True, help="Ad-hoc: keep sheets of this theme code.")
@click.option("--region", "regions", multiple=True, help="Ad-hoc: keep sheets of this region.")
@click.option("--kind", "kinds", multiple=True, help="Ad-hoc: keep sheets of this kind.")
@click.option("--slug", "slugs", multiple=True, help="Ad-hoc: keep this sheet (repeatable).")
@click.option("--keyword", "keywords", multiple=True, help="Ad-hoc: keep sheets with this keyword.")
@click.option(
    "--title",
    default="Recueil de fiches",
    show_default=True,
    help="Ad-hoc: title of the collection.",
)
@click.option("--no-cache", is_flag=True, help="Render everything again; do not use the cache.")
@click.option("--quiet", "-q", is_flag=True, help="Print only problems.")
def collection(
    project_dir: Path,
    name: str | None,
    output: Path | None,
    themes: tuple[str, ...],
    regions: tuple[str, ...],
    kinds: tuple[str, ...],
    slugs: tuple[str, ...],
    keywords: tuple[str, ...],
    title: str,
    no_cache: bool,
    quiet: bool,
) -> None:
    """Build the declared collection NAME, or an ad-hoc one from --theme/--region/--kind/--slug."""
    project, diagnostics = _open(project_dir)
    adhoc = any((themes, regions, kinds, slugs, keywords))
    if name and adhoc:
        raise click.UsageError("give either a collection NAME or ad-hoc options, not both")
    if not name and not adhoc:
        raise click.UsageError(
            "give a collection NAME or at least one of --theme, --region, --kind, --slug, --keyword"
        )
    _lock(project, "collection")
    corpus = load_corpus(project)
    diagnostics += corpus.diagnostics
    if name:
        collections, found = discover_collections(project)
        diagnostics += found
        chosen = next((c for c in collections if c.name == name), None)
        if chosen is None:
            _show(diagnostics)
            if (project.root / COLLECTIONS_DIR / f"{name}.yaml").is_file():
                sys.exit(EXIT_CONTENT)  # declared, with errors (its own or its editorial's)
            known = ", ".join(c.name for c in collections) or "none"
            raise click.UsageError(f"no collection '{name}' (declared: {known})")
        target = output or collection_output(project, chosen)
    else:
        if output is None:
            raise click.UsageError("an ad-hoc collection needs -o FILE")
        chosen = adhoc_collection(
            project,
            title,
            {
                "themes": list(themes),
                "regions": list(regions),
                "kinds": list(kinds),
                "slugs": list(slugs),
                "keywords": list(keywords),
            },
            dt.date.today(),
        )
        target = output
    renderer = _renderer(project, corpus, no_cache)
    jobs = _limits(project, None).jobs
    ok = _build_variants(project, corpus, chosen, renderer, target, diagnostics, quiet, jobs)
    _show(diagnostics)
    sys.exit(EXIT_OK if ok else EXIT_CONTENT)


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


main.add_command(edition)


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
