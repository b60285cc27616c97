"""``recueil collection``: build a declared collection, or an ad-hoc one, with its variants."""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from recueil.cli.common import (
    EXIT_CONTENT,
    EXIT_OK,
    _limits,
    _lock,
    _open,
    _renderer,
    _show,
    project_option,
)
from recueil.collection.collection_build import (
    adhoc_collection,
    assemble_collection,
    mark_recorded,
    prepare_collection,
    record,
    up_to_date,
)
from recueil.collection.declared import (
    collection_output,
    discover_collections,
    variant_output,
    variants,
)
from recueil.collection.definition import COLLECTIONS_DIR, Collection, select_sheets
from recueil.core.atomic import write_atomic
from recueil.core.cache_prune import journal
from recueil.core.diagnostics import Diagnostic
from recueil.render.sheet_build import (
    Corpus,
    Limits,
    SheetRenderer,
    load_corpus,
    render_variant_ahead,
)
from recueil.sources.project import CACHE_DIR, Project


def allow_incomplete_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """--allow-incomplete, for every command that publishes declared collections."""
    return click.option(
        "--allow-incomplete",
        is_flag=True,
        help="Publish a collection even when some of its sheets have errors or cannot be "
        "rendered, as a draft that says so on its cover (default: keep the previous PDF and "
        "fail the collection).",
    )(function)


def build_variants(
    project: Project,
    corpus: Corpus,
    collection: Collection,
    renderer: SheetRenderer,
    output: Path,
    diagnostics: list[Diagnostic],
    quiet: bool,
    limits: Limits,
    allow_incomplete: bool = False,
) -> bool:
    """Build the screen PDF of a collection, then the printer's beside it when it asks for one.

    Each is skipped when it is up to date. The print-shop variant is built only when the screen
    one succeeded: it is the same collection, so its problems would be the same ones reported
    twice; its sheets are laid out in workers first. False on errors.
    """
    for variant in variants(collection):
        target = variant_output(output, variant)
        started = time.perf_counter()
        if variant:
            chosen = select_sheets(collection, corpus.sheets)
            render_variant_ahead(renderer, chosen, variant, limits)
        prepared, found = prepare_collection(
            project, corpus, collection, renderer, variant, allow_incomplete
        )
        diagnostics += found
        if prepared is None:
            return False
        name = variant_output(Path(f"{collection.name}.json"), variant).name
        state = project.build_dir / CACHE_DIR / "collections" / name
        if renderer.cache is not None and up_to_date(state, prepared, target):
            mark_recorded(state)  # its generated parts and tree copies are still needed
            if not quiet:
                click.echo(f"collection {collection.name}: {target} (unchanged)", err=True)
            continue
        with journal() as used:
            result, found = assemble_collection(project, prepared, renderer.cache, jobs=limits.jobs)
        diagnostics += found
        if result is None:
            return False
        write_atomic(target, result.pdf)
        if renderer.cache is not None:
            record(state, prepared, result.pdf, used)
        if not quiet:
            click.echo(
                f"collection {collection.name}: {target} ({result.plan.total} pages, "
                f"{len(result.pdf) / 1e6:.1f} MB, {time.perf_counter() - started:.1f} s)",
                err=True,
            )
    return True


@click.command()
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
@allow_incomplete_option
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
    allow_incomplete: bool,
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
    limits = _limits(project, None)
    ok = build_variants(
        project, corpus, chosen, renderer, target, diagnostics, quiet, limits, allow_incomplete
    )
    _show(diagnostics)
    sys.exit(EXIT_OK if ok else EXIT_CONTENT)
