"""The collections a project declares (``collections/*.yaml``) and where their PDFs are written.

Listing collections and naming their files is all the web server and the records need of them;
it is kept apart from building them (collection_build.py), which lays out and assembles PDFs,
so that a process that only lists collections loads none of WeasyPrint or pypdf.
"""

from __future__ import annotations

from pathlib import Path

from recueil.collection.definition import COLLECTIONS_DIR, Collection, load_collection
from recueil.collection.print_options import print_shop_options
from recueil.core.diagnostics import Diagnostic, error
from recueil.render.print_styles import VARIANT
from recueil.sources.project import Project

#: the print-shop PDF is NAME-imprimeur.pdf, beside NAME.pdf
PRINT_SUFFIX = "-imprimeur"


def discover_collections(project: Project) -> tuple[list[Collection], list[Diagnostic]]:
    """Every ``collections/*.yaml`` of the project, validated."""
    folder = project.root / COLLECTIONS_DIR
    found: list[Collection] = []
    diagnostics: list[Diagnostic] = []
    codes = tuple(t.code for t in project.themes)
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        collection, problems = load_collection(
            project.root, path, codes, project.settings.max_file_bytes
        )
        diagnostics += problems
        if collection is not None:
            found.append(collection)
    printed = {f"{c.name}{PRINT_SUFFIX}": c for c in found if print_shop_options(c.meta)}
    for collection in found:
        if collection.name in printed:
            diagnostics.append(
                error(
                    collection.source,
                    None,
                    f"this collection would be written over the print-shop variant of "
                    f"'{printed[collection.name].name}' ({collection.name}.pdf): rename one",
                )
            )
    found = [c for c in found if c.name not in printed]
    return found, diagnostics


def collection_output(project: Project, collection: Collection) -> Path:
    """Where a declared collection is written."""
    return project.build_dir / "collections" / f"{collection.name}.pdf"


def variants(collection: Collection) -> tuple[str, ...]:
    """The PDFs a collection asks for: always the screen one, the printer's when it says so."""
    return ("", VARIANT) if print_shop_options(collection.meta) else ("",)


def variant_output(output: Path, variant: str) -> Path:
    """The file of a variant, beside the screen PDF: NAME.pdf and NAME-imprimeur.pdf."""
    if not variant:
        return output
    return output.with_name(f"{output.stem}{PRINT_SUFFIX}{output.suffix or '.pdf'}")
