"""``recueil records``: the library records of the sheets and collections, in one file.

All sheets and declared collections by default; ``--collection NAME`` keeps one collection and
its sheets; ``--edition VERSION`` describes a published edition (its sheets, collections, page
ranges and PDFs, read from its manifest and folder; the notices' text comes from the current
sources, and a sheet changed since is named). The file is written atomically; ``-o -`` writes
to standard output.

Exit codes: 0 written (warnings are shown), 1 content errors, 2 usage errors.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from recueil.cli.common import EXIT_CONTENT, _open, _show, project_option
from recueil.collection.declared import discover_collections
from recueil.collection.definition import Collection
from recueil.core.atomic import write_atomic
from recueil.core.diagnostics import Diagnostic, Level, warning
from recueil.edition.archive import Archive, ArchiveError
from recueil.records.export import FORMATS, export
from recueil.records.pdf_files import Layout, with_slash
from recueil.records.scope import Part, Scope, make_notices, project_scope
from recueil.sources.corpus import load_corpus
from recueil.sources.edition_label import Edition
from recueil.sources.project import Project
from recueil.sources.sheet import Sheet


@click.command()
@project_option
@click.option(
    "--format",
    "format_name",
    type=click.Choice(sorted(FORMATS)),
    default="unimarc",
    show_default=True,
    help="unimarc (ISO 2709), unimarcxml (MARCXML), dc (Dublin Core XML), csv, jsonld.",
)
@click.option("--collection", "collection_name", help="Only this collection and its sheets.")
@click.option("--edition", "version", help="The records of this published edition.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write, '-' for standard output (default: build/records/notices[-VERSION]"
    "[-NAME].EXT).",
)
def records(
    project_dir: Path,
    format_name: str,
    collection_name: str | None,
    version: str | None,
    output: Path | None,
) -> None:
    """Write the library records (UNIMARC, Dublin Core, CSV, JSON-LD) of sheets and
    collections."""
    project, diagnostics = _open(project_dir)
    if any(d.level is Level.ERROR for d in diagnostics):
        _show(diagnostics)
        sys.exit(EXIT_CONTENT)
    corpus = load_corpus(project)
    declared, found = discover_collections(project)
    diagnostics += corpus.diagnostics + found
    base = with_slash(project.settings.pdf_base_url)
    if version is None:
        try:
            scope = project_scope(project, corpus.sheets, declared, collection_name)
        except KeyError:
            raise click.UsageError(_unknown(collection_name, declared)) from None
        layout = Layout(project.build_dir, base)
    else:
        scope, layout, found = _edition_scope(project, version, corpus.sheets, declared, base)
        diagnostics += found
        if collection_name is not None:
            part = next((p for p in scope.parts if p.collection.name == collection_name), None)
            if part is None:
                names = [p.collection for p in scope.parts]
                raise click.UsageError(_unknown(collection_name, names, version))
            scope = Scope(part.sheets, (part,), scope.edition)
    notices, found = make_notices(project, scope, layout)
    diagnostics += found
    if not base:
        diagnostics.append(
            warning(
                "recueil.yaml",
                None,
                "setting 'pdf_base_url' is empty: the records give no address of their PDFs "
                "(UNIMARC 856)",
            )
        )
    data, found = export(notices, format_name)
    diagnostics += [d for d in found if d not in diagnostics]
    _show(diagnostics)
    if output is not None and str(output) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        name = FORMATS[format_name].file_name
        suffix = "".join(f"-{part}" for part in (version, collection_name) if part)
        target = output or project.build_dir / "records" / name.replace(
            "notices", f"notices{suffix}"
        )
        write_atomic(target, data)
        sheets = sum(1 for n in notices if not n.is_collection)
        click.echo(
            f"{len(notices)} record(s) ({sheets} sheet(s), {len(notices) - sheets} "
            f"collection(s)) → {target}",
            err=True,
        )
    if any(d.level is Level.ERROR for d in diagnostics):
        sys.exit(EXIT_CONTENT)


def _unknown(name: str | None, known: list[Collection], version: str | None = None) -> str:
    names = ", ".join(sorted(c.name for c in known)) or "none"
    where = f"edition {version}" if version else "the project"
    return f"no collection '{name}' in {where} (collections: {names})"


def _edition_scope(
    project: Project,
    version: str,
    sheets: list[Sheet],
    declared: list[Collection],
    base: str,
) -> tuple[Scope, Layout, list[Diagnostic]]:
    """The sheets and collections an edition's manifest lists, as the current sources give
    them; a warning for each that is gone or changed since."""
    archive = Archive(project.editions_dir)
    try:
        manifest: dict[str, Any] = archive.manifest(version)
    except ArchiveError as exc:
        raise click.UsageError(str(exc)) from None
    problems: list[Diagnostic] = []
    where = f"{project.relative(archive.path(version))}/manifest.json"
    by_slug = {s.slug: s for s in sheets}
    chosen = []
    for entry in manifest.get("sheets", []):
        sheet = by_slug.get(entry.get("slug"))
        if sheet is None:
            message = f"sheet {entry.get('slug')} of edition {version} is no longer a valid "
            problems.append(warning(where, None, message + "sheet: it has no record"))
        else:
            if sheet.source_hash != entry.get("source_sha256"):
                message = f"changed since edition {version}: its record describes the source "
                problems.append(warning(sheet.rel, None, message + "as it is now"))
            chosen.append(sheet)
    known = {s.slug for s in chosen}
    collections = {c.name: c for c in declared}
    parts = []
    for entry in manifest.get("collections", []):
        collection = collections.get(entry.get("name"))
        if collection is None:
            message = f"collection {entry.get('name')} of edition {version} is no longer declared"
            problems.append(warning(where, None, message + ": it has no record"))
            continue
        members = [e for e in entry.get("sheets", []) if e.get("slug") in known]
        pages = {e["slug"]: (int(e["pages"][0]), int(e["pages"][1])) for e in members}
        parts.append(Part(collection, tuple(by_slug[e["slug"]] for e in members), pages))
    date = dt.date.fromisoformat(manifest["date"])
    label = Edition(version, date, manifest.get("title", "")).label
    layout = Layout(archive.path(version), base, f"editions/{version}/")
    return Scope(tuple(chosen), tuple(parts), label), layout, problems
