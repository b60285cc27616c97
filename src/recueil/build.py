"""Build phases for sheets: load every source, cross-check, then render and publish.

Like MkDocs, everything is gathered and validated before anything is written; like Pelican, two
sources may not claim the same output. A sheet with errors is skipped (its previous PDF stays),
the others are still built.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from .diagnostics import Diagnostic, Level, error
from .markup import Fragment, MarkupOptions, sheet_anchor, to_html
from .project import Project
from .publish import write_atomic
from .render import RenderResult, render_pdf
from .sheet import Sheet, load_sheet
from .standalone import finish_standalone, render_page_numbers
from .template import make_environment, render_page, template_error
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


class SheetRenderer:
    """Turns sheets into HTML pages and PDFs for one project (one Jinja environment, reused)."""

    def __init__(self, project: Project, corpus: Corpus):
        self.project = project
        self.corpus = corpus
        self.sheets = corpus.by_slug()
        self.env = make_environment(
            project.template_dirs, project.settings.language, typography_options(project)
        )
        self.image_cache: dict[str, Any] = {}
        self.renders: dict[str, tuple[str, RenderResult, list[Diagnostic]]] = {}
        self.overlays: dict[int, bytes] = {}
        #: how many sheets this renderer actually laid out (tests count them)
        self.layouts = 0

    def fragment(self, sheet: Sheet) -> Fragment:
        """The sheet's body as sanitised HTML."""
        options = MarkupOptions(
            slug=sheet.slug,
            source_dir=sheet.path.parent,
            project_dir=self.project.root,
            language=self.project.settings.language,
            typography=typography_options(self.project),
            known_slugs=frozenset(self.sheets),
        )
        return to_html(sheet.body, sheet.body_line, sheet.rel, options)

    def page(self, sheet: Sheet) -> tuple[str, list[Diagnostic]]:
        """The complete HTML page of a sheet, and the diagnostics of its body."""
        fragment = self.fragment(sheet)
        kind = self.project.kinds[sheet.kind]
        context = {
            "sheet": sheet.meta,
            "slug": sheet.slug,
            "kind": kind,
            "theme": self.project.theme(sheet.meta["theme"]),
            "themes": {t.code: t for t in self.project.themes},
            "settings": self.project.settings,
            "body": _markup(fragment.html),
            "anchor": sheet_anchor(sheet.slug),
            "sheets": {slug: other.meta for slug, other in self.sheets.items()},
            "sheet_dir": self.project.relative(sheet.path.parent),
        }
        try:
            return render_page(self.env, kind.template, context), fragment.diagnostics
        except jinja2.TemplateError as exc:
            return "", [*fragment.diagnostics, template_error(exc, sheet.rel)]

    def render(self, sheet: Sheet) -> tuple[RenderResult | None, list[Diagnostic]]:
        """Lay out one sheet, once: the same render serves the standalone PDF and collections.

        Renders are remembered by source hash for the life of this renderer, so building
        collections after the sheets lays nothing out again. None when the body has errors.
        """
        remembered = self.renders.get(sheet.slug)
        if remembered is not None and remembered[0] == sheet.source_hash:
            return remembered[1], remembered[2]
        html, diagnostics = self.page(sheet)
        if any(d.level is Level.ERROR for d in diagnostics):
            return None, diagnostics
        result = render_pdf(
            html,
            project_dir=self.project.root,
            style_dirs=self.project.style_dirs,
            rel=sheet.rel,
            base_path=self.project.relative(sheet.path.parent) + "/",
            image_cache=self.image_cache,
        )
        self.layouts += 1
        diagnostics = diagnostics + result.diagnostics
        self.renders[sheet.slug] = (sheet.source_hash, result, diagnostics)
        return result, diagnostics

    def standalone(self, result: RenderResult) -> bytes:
        """The standalone PDF of a render: 'page x / y' stamped, links to other sheets' PDFs."""
        overlay = self.overlays.get(result.page_count)
        if overlay is None:
            overlay = render_page_numbers(self.project, self.env, result.page_count)
            self.overlays[result.page_count] = overlay
        return finish_standalone(result.pdf, overlay)


def _markup(html: str) -> Any:
    from markupsafe import Markup

    return Markup(html)


@dataclass
class SheetOutcome:
    """What happened to one sheet during a build."""

    slug: str
    rel: str
    output: Path | None
    pages: int
    seconds: float
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the sheet's PDF was written."""
        return self.output is not None


ProgressCallback = Callable[[int, int, Sheet], None]


def build_sheets(
    renderer: SheetRenderer,
    selection: Sequence[Sheet],
    output_for: Callable[[Sheet], Path],
    on_start: ProgressCallback | None = None,
    strict: bool = False,
) -> list[SheetOutcome]:
    """Render and publish each selected sheet; a failing sheet never stops the others."""
    outcomes: list[SheetOutcome] = []
    for index, sheet in enumerate(selection):
        if on_start is not None:
            on_start(index, len(selection), sheet)
        started = time.perf_counter()
        try:
            result, diagnostics = renderer.render(sheet)
            pdf = renderer.standalone(result) if result is not None else b""
        except Exception as exc:
            result, diagnostics = None, [error(sheet.rel, None, f"rendering failed: {exc!r}")]
        failed = result is None or any(d.level is Level.ERROR or strict for d in diagnostics)
        output = None
        if result is not None and not failed:
            output = output_for(sheet)
            write_atomic(output, pdf)
        outcomes.append(
            SheetOutcome(
                sheet.slug,
                sheet.rel,
                output,
                result.page_count if result else 0,
                time.perf_counter() - started,
                diagnostics,
            )
        )
    return outcomes
