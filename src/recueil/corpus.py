"""Corpus: every source of a project loaded, validated and checked against the others.

Like MkDocs, everything is gathered and validated before anything is written; like Pelican, two
sources may not claim the same output (here: the same slug).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import Diagnostic, error
from .project import Project
from .sheet import Sheet, load_sheet
from .typography import TypographyOptions


@dataclass
class Corpus:
    """The valid sheets of a project, every sheet that loaded, and the loading diagnostics.

    ``sheets`` excludes sources with errors; ``loaded`` also holds those whose only problems are
    cross-references, so that other sheets can still link to them without cascading errors.
    """

    sheets: list[Sheet]
    diagnostics: list[Diagnostic]
    loaded: list[Sheet] = field(default_factory=list)

    def by_slug(self) -> dict[str, Sheet]:
        """Every loaded sheet indexed by slug."""
        return {sheet.slug: sheet for sheet in self.loaded or self.sheets}


def load_corpus(project: Project, paths: Iterable[Path] | None = None) -> Corpus:
    """Load and validate sources (all of them by default) and check them against each other."""
    sheets: list[Sheet] = []
    diagnostics: list[Diagnostic] = []
    for path in paths if paths is not None else project.sources():
        sheet, found = load_sheet(project, path)
        diagnostics += found
        if sheet is not None:
            sheets.append(sheet)
    first: dict[str, Sheet] = {}
    unique: list[Sheet] = []
    for sheet in sheets:
        if sheet.slug in first:
            other = first[sheet.slug]
            diagnostics.append(
                error(
                    sheet.rel,
                    _line_of_field(sheet, "slug"),
                    f"field 'slug': '{sheet.slug}' is already used by {other.rel}",
                )
            )
            continue
        first[sheet.slug] = sheet
        unique.append(sheet)
    valid: list[Sheet] = []
    for sheet in unique:
        missing = [ref for ref in sheet.meta.get("see_also", []) if ref not in first]
        for ref in missing:
            diagnostics.append(
                error(
                    sheet.rel,
                    _line_of_field(sheet, "see_also"),
                    f"field 'see_also': no sheet has the slug '{ref}'",
                )
            )
        if not missing:
            valid.append(sheet)
    return Corpus(valid, diagnostics, unique)


def _line_of_field(sheet: Sheet, name: str) -> int | None:
    for number, line in enumerate(sheet.path.read_text(encoding="utf-8-sig").split("\n"), 1):
        if line.startswith(f"{name}:"):
            return number
    return None


def typography_options(project: Project) -> TypographyOptions:
    """The typography options the settings ask for."""
    return TypographyOptions(narrow_everywhere=project.settings.narrow_nbsp_everywhere)
