"""Assemble a collection from the sheets' own renders, without laying any sheet out again.

The generated parts (cover, title page, editorial, reading guide, contents, dividers, indexes,
colophon, back cover) form the "frame", whose page numbers are final: they are computed from the
sheets' page counts, laying the frame out again until its own part lengths are stable. The frame
is laid out as a few documents of whole parts (frame.py) and the page-number overlay in parts
(overlay.py), all in worker processes. Pages are then interleaved with pypdf, page numbers
and running headers are stamped from the overlay, and what merging loses is rebuilt: named
destinations, links between parts, outline, page labels, metadata and language.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jinja2
from pypdf import PdfReader

from recueil.collection.changed_pages import changed_pages
from recueil.collection.definition import Collection, Group
from recueil.collection.document_pool import document_pool
from recueil.collection.frame import Frame, frame_of, split_parts
from recueil.collection.frame_context import frame_context, markdown_part
from recueil.collection.merge import Merger
from recueil.collection.metadata import describe
from recueil.collection.outline import add_outline
from recueil.collection.overlay import OverlayLayout, OverlayPage, in_order, stamps_of
from recueil.collection.part_counts import remember, remembered
from recueil.collection.plan import FRONT_PARTS, Plan, make_plan, page_labels
from recueil.collection.print_options import PrintShop
from recueil.collection.printshop import finish_for_print
from recueil.collection.structure_tree import runs_of, tag_assembled
from recueil.core.diagnostics import Diagnostic, Level, error
from recueil.render import page_prints
from recueil.render.cache import RenderCache, digest, versions
from recueil.render.pdfa import PDF_VARIANT
from recueil.render.print_styles import with_print_styles
from recueil.render.tagging import TAGGING_REVISION
from recueil.render.template import (
    make_environment,
    render_page,
    template_error,
    typography_options,
)
from recueil.render.weasy import RenderResult
from recueil.render.workers import Outcome
from recueil.sources.edition_label import Edition
from recueil.sources.project import CACHE_DIR, Project

MAX_FRAME_PASSES = 5
#: documents the generated parts are split into (frame.py): a constant, not the number of
#: workers, so that the output does not depend on --jobs
FRAME_DOCUMENTS = 6


class AssemblyError(Exception):
    """A generated document could not be laid out (its worker crashed, hung or ran out of
    memory): the collection is not written, the rest of the build goes on."""


@dataclass
class CollectionResult:
    """The assembled PDF and the facts tests and editions need."""

    pdf: bytes
    plan: Plan
    sheet_first_page: dict[str, int]  # slug → 0-based page index in the PDF
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: a preview's page fingerprints (render/page_prints.py), from its sources' and stamps
    page_prints: list[str] = field(default_factory=list)
    #: the collection's pages ``pdf`` holds, when it holds only those (changed_pages.py)
    included: tuple[int, ...] | None = None


class Assembler:
    """Builds one collection PDF from sheet renders (which it never re-lays out)."""

    def __init__(
        self,
        project: Project,
        collection: Collection,
        groups: Sequence[Group],
        renders: Mapping[str, RenderResult],
        kind_labels: Mapping[str, str],
        cache: RenderCache | None = None,
        print_shop: PrintShop | None = None,
        edition: Edition | None = None,
        jobs: int = 1,
        missing: Sequence[str] = (),
        kinds_in_use: Sequence[str] | None = None,
        preview: bool = False,
        known_pages: frozenset[str] = frozenset(),
    ):
        self.project = project
        #: an author's preview (serve/preview.py): the pages only, without the structure
        #: tree and shared fonts (a third of an assembly's time; the file is larger)
        self.preview = preview
        #: page fingerprints a preview already shows: only the other pages are written
        self.known_pages = known_pages
        #: a preview after an edit: only the stamps its worker never laid out are (overlay.py)
        self.new_stamps_only = preview and bool(known_pages)
        #: sheets a draft goes without: said on its cover and title page
        self.missing = list(missing)
        #: kinds the project has sources of: their statuses are explained (None: every kind)
        self.kinds_in_use = kinds_in_use
        #: worker processes laying out the generated documents
        self.jobs = jobs
        #: generated documents rendered during this assembly, by key
        self._rendered: dict[str, RenderResult] = {}
        #: set for the printer's variant: generated parts bleed, pages get boxes and marks
        self.print_shop = print_shop
        self.cache = cache
        #: set for an edition: label and date on the colophon, PDF/A output
        self.edition = edition
        #: where the frame's first guess is kept (part_counts.py); never for an edition, whose
        #: PDF comes from its sources alone, whatever the build folder holds
        record = (project.build_dir / CACHE_DIR, collection.source, print_shop is not None)
        self.counts_record = record if cache is not None and edition is None else None
        self.collection = collection
        self.groups = list(groups)
        self.renders = renders
        self.sheets = [sheet for group in groups for sheet in group.sheets]
        self.indexes = list(collection.option("indexes", ["territories", "keywords"]))
        self.env = make_environment(
            project.template_dirs, project.settings.language, _typography(project)
        )
        self.kind_labels = kind_labels
        self.diagnostics: list[Diagnostic] = []
        #: the reading guide as HTML (read with the editorial, editorial_html)
        self.reading_guide = ""
        self.overlay = OverlayLayout(self.env, project.settings, preview,
                                     self.document_key, self._laid_out)  # fmt: skip

    def editorial_html(self) -> str:
        """The editorial Markdown as sanitised HTML; the reading guide's is kept beside it."""
        html = {}
        for key, text in (
            ("reading_guide", self.collection.reading_guide_markdown),
            ("editorial", self.collection.editorial_markdown),
        ):
            if text:
                fragment = markdown_part(self.project, text, self.collection.meta[key])
                self.diagnostics += fragment.diagnostics
                html[key] = fragment.html
        self.reading_guide = html.get("reading_guide", "")
        return html.get("editorial", "")

    def frame_html(self, plan: Plan, editorial: str) -> str:
        """The generated parts, with the numbers of ``plan``."""
        context = frame_context(
            self.project,
            self.collection,
            self.groups,
            plan,
            {"editorial": editorial, "reading_guide": self.reading_guide},
            self.edition,
            self.missing,
            self.kinds_in_use,
        )
        try:
            return render_page(self.env, self.collection.template, context)
        except jinja2.TemplateError as exc:  # a project's own template can be wrong
            self.diagnostics.append(template_error(exc, self.collection.source, self.project.root))
            raise AssemblyError("the generated parts could not be written (see above)") from None

    def _part_ids(self) -> set[str]:
        ids = {f"part-{p}" for p in FRONT_PARTS}
        ids |= {f"part-divider-{g.key}" for g in self.groups}
        ids |= {f"part-index-{i}" for i in self.indexes}
        ids |= {"part-colophon", "part-back"}
        return ids

    def assemble(self) -> CollectionResult:
        """Plan, render the frame with final numbers, interleave, stamp and restore."""
        editorial = self.editorial_html()
        sheet_counts = {slug: render.page_count for slug, render in self.renders.items()}
        # First guess: the parts' lengths at the last assembly (part_counts.py), else one page
        # per part: arabic numbers start at the first divider, so they are off only by the
        # dividers' extra pages and have the right number of digits (lines break as they will).
        known = self.counts_record and remembered(*self.counts_record, self._part_ids())
        counts = known or dict.fromkeys(self._part_ids(), 1)
        plan = make_plan(self.collection, self.groups, sheet_counts, counts, self.indexes)
        if self.preview and self.known_pages:
            return self._new_pages(plan, editorial, counts)
        # the sheets are copied into the output while workers lay out the generated parts
        sheets = [slot.ref for slot in plan.slots if slot.source == "sheet"]
        build = self.project.build_dir
        spool = build if build.is_dir() else None
        with Merger(
            self.renders, sheets, self.edition is not None, spool, share_fonts=not self.preview
        ) as merger:
            idle = merger.copy_next_sheet
            plan, frame = self.settle_frame(plan, editorial, counts, idle)
            overlay = self.render_overlay(plan, idle)
            pdf = self.merge(merger, plan, frame, overlay)
        first = {slug: plan.start_of("sheet", slug) for slug in plan.sheet_pages}
        prints = self._page_prints(plan, frame)[1] if self.preview else []
        return CollectionResult(pdf, plan, first, self.diagnostics, prints)

    def _page_prints(self, plan: Plan, frame: Frame) -> tuple[list[Any], list[str]]:
        """Where each page comes from (structure_tree.runs_of) and its fingerprint."""
        runs = runs_of(plan.slots, frame.parts(self._part_ids()))
        return runs, page_prints.assembled(self.stamps(plan), runs, self.renders, frame.documents)

    def _new_pages(self, plan: Plan, editorial: str, counts: dict[str, int]) -> CollectionResult:
        """A preview's pages that are not among ``known_pages``, stamped, without merging the
        rest (changed_pages.py); the fingerprints of every page."""
        plan, frame = self.settle_frame(plan, editorial, counts, lambda: False)
        overlay = self.render_overlay(plan)
        runs, prints = self._page_prints(plan, frame)
        pdf, included = changed_pages(
            runs, prints, self.known_pages, self.renders, frame.documents, overlay
        )
        first = {slug: plan.start_of("sheet", slug) for slug in plan.sheet_pages}
        return CollectionResult(pdf, plan, first, self.diagnostics, prints, included)

    def settle_frame(
        self, plan: Plan, editorial: str, counts: dict[str, int], idle: Callable[[], bool]
    ) -> tuple[Plan, Frame]:
        """Lay the generated parts out until their page counts agree with the plan's.

        The overlay of a pass's plan is laid out beside it whenever that pass may be the last
        (all but a first one that guessed one page per part)."""
        parts = self._part_ids()
        sheet_counts = {slug: render.page_count for slug, render in self.renders.items()}
        informed = counts != dict.fromkeys(parts, 1)  # the last assembly's (part_counts.py)
        for number in range(MAX_FRAME_PASSES):
            documents = self.frame_documents(plan, editorial)
            overlay = (
                self.overlay_documents(plan, self.new_stamps_only) if number or informed else {}
            )
            rendered = self.render_documents({**documents, **overlay}, idle)
            self.overlay.learn(rendered)
            frame = frame_of(rendered, sorted(documents))
            new_counts = frame.counts(parts)
            if new_counts == counts:
                break
            counts = new_counts
            plan = make_plan(self.collection, self.groups, sheet_counts, counts, self.indexes)
        else:
            unsettled = "page numbers did not settle after several passes"
            self.diagnostics.append(error(self.collection.source, None, unsettled))
        if self.counts_record:
            remember(*self.counts_record, counts)
        self.diagnostics += [d for d in frame.diagnostics if d.level is Level.ERROR]
        return plan, frame

    def frame_documents(self, plan: Plan, editorial: str) -> dict[str, str]:
        """The generated parts as documents (frame.py), bleeding in the print variant."""
        html = self.frame_html(plan, editorial)
        if self.print_shop:
            html = with_print_styles(html)
        pieces = split_parts(html, FRAME_DOCUMENTS)
        return {f"frame-{number:03d}": piece for number, piece in enumerate(pieces)}

    def _options(self, name: str) -> dict[str, Any]:
        """WeasyPrint's options for generated document ``name``: PDF/A for an edition; the
        frame is tagged (structure_tree.py), the overlay, stamped as artifacts, is not."""
        variant = {"pdf_variant": PDF_VARIANT} if self.edition else {}
        return variant if name.startswith("overlay-") else {**variant, "pdf_tags": True}

    def document_key(self, name: str, html: str) -> str:
        """The render cache's key for generated document ``name`` laid out from ``html``."""
        versions_ = repr(sorted(versions().items()))
        options = repr(self._options(name))
        return digest("document", versions_, self.collection.source, html, options,
                      TAGGING_REVISION)  # fmt: skip

    def _laid_out(self, key: str) -> RenderResult | None:
        """The generated document of cache key ``key`` laid out before: during this assembly,
        or in the render cache (which checks the files it used are unchanged)."""
        known = self._rendered.get(key)
        if known is None and self.cache is not None:
            hit = self.cache.get(key)
            known = hit[0] if hit is not None else None
        if known is not None:
            self._rendered[key] = known
        return known

    def render_documents(
        self, documents: Mapping[str, str], idle: Callable[[], bool] | None = None
    ) -> dict[str, RenderResult]:
        """Render generated documents (frame, overlay parts), reusing any already rendered.

        Renders come from this assembly's memo or the cache when the same HTML was rendered
        before (after an edit that keeps page counts, the frame and overlay are unchanged).
        The others are laid out in worker processes, several at once (document_pool.py): the
        frame and the overlay use every core, and the memory WeasyPrint takes to lay out a long
        document is returned when the worker ends instead of staying in this process through
        the merge. Meanwhile this process does ``idle`` steps.
        """
        options = {name: self._options(name) for name in documents}
        keys = {name: self.document_key(name, html) for name, html in documents.items()}
        results: dict[str, RenderResult] = {}
        for name, key in keys.items():
            known = self._laid_out(key)
            if known is not None:
                results[name] = known
        # longest first: the contents should not be the last document a worker starts
        missing = sorted(
            (n for n in documents if n not in results), key=lambda n: -len(documents[n])
        )
        if not missing:
            return results

        failures: list[str] = []

        def done(name: str, outcome: Outcome) -> None:
            result, diagnostics, _ = outcome
            if not isinstance(result, RenderResult):
                failures.extend([d.message for d in diagnostics] or ["rendering failed"])
                return
            results[name] = self._rendered[keys[name]] = result
            if self.cache is not None:
                self.cache.put(keys[name], result)

        todo = {name: (documents[name], options[name]) for name in missing}
        pool = document_pool(todo, self.project, self.collection.source, self.jobs, self.renders)
        pool.run(missing, lambda _: self.collection.source, done, idle)
        if failures:
            raise AssemblyError(f"laying out the generated pages failed: {failures[0]}")
        return results

    def overlay_documents(self, plan: Plan, only_new: bool = False) -> dict[str, str]:
        """The overlay of ``plan`` as documents (overlay.py): every page's, or only the stamps
        this preview's worker has never laid out (``only_new``, after an edit)."""
        return self.overlay.documents(self.stamps(plan), only_new)

    def stamps(self, plan: Plan) -> list[dict[str, Any]]:
        """What each page of ``plan`` gets stamped on it (overlay.stamps_of)."""
        return stamps_of(self.project, self.collection, self.groups, plan)

    def render_overlay(
        self, plan: Plan, idle: Callable[[], bool] | None = None
    ) -> list[OverlayPage]:
        """The overlay page of each page of ``plan`` (those the last frame pass laid out are
        reused); a preview after an edit lays out only the stamps it has no page for."""
        new = self.new_stamps_only
        rendered = self.render_documents(self.overlay_documents(plan, new), idle)
        self.overlay.learn(rendered)
        pages = self.overlay.pages(self.stamps(plan)) if new else in_order(rendered)
        if pages is None:  # a page found before is gone from the cache: lay them all out
            pages = in_order(self.render_documents(self.overlay_documents(plan), idle))
        if len(pages) != plan.total:
            raise AssemblyError(f"the page-number overlay has {len(pages)} pages for {plan.total}")
        return pages

    def merge(
        self, merger: Merger, plan: Plan, frame: Frame, overlay: Sequence[OverlayPage]
    ) -> bytes:
        """Interleave pages, stamp the overlay, rebuild destinations, links, outline, labels."""
        writer = merger.finish(plan.slots, frame, frame.parts(self._part_ids()), overlay)
        add_outline(writer, plan, self.groups, merger.outlines)
        page_labels(writer, plan)
        describe(writer, PdfReader(io.BytesIO(frame.documents[0].pdf)), self.project,
                 self.collection, self.groups, self.edition)  # fmt: skip
        if self.print_shop is not None:
            finish_for_print(writer, self.print_shop)
        output = io.BytesIO()
        writer.write(output)
        del writer
        merger.release()  # the tree is made from the written bytes
        if self.preview:
            return output.getvalue()
        parts, grouped = frame.parts(self._part_ids()), any(g.label for g in self.groups)
        trees = self.project.build_dir / CACHE_DIR / "trees" if self.counts_record else None
        return tag_assembled(  # one structure tree from the sheets' and frame's (issue 16)
            output.getvalue(), plan.slots, parts, self.renders, frame.documents,
            grouped=grouped, title=self.collection.meta["title"], trees=trees,
        )  # fmt: skip


def _typography(project: Project) -> Any:
    return typography_options(project)
