"""Sheet renderer: a sheet → its HTML page → one layout, remembered and cached.

A sheet is laid out once per change: the render is kept in memory for the build and in the
content-addressed cache (cache.py) across builds, and the same render serves the standalone PDF
and every collection.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import jinja2
from jinja2 import meta
from markupsafe import Markup

from recueil.core.diagnostics import Diagnostic, Level
from recueil.markup.fragment import Fragment, MarkupOptions, sheet_anchor
from recueil.markup.markdown import to_html
from recueil.render.cache import FileHashes, RenderCache, digest, versions
from recueil.render.pdfa import PDF_VARIANT
from recueil.render.print_styles import VARIANT, with_print_styles
from recueil.render.tagging import TAGGING_REVISION
from recueil.render.template import (
    make_environment,
    render_page,
    template_error,
    typography_options,
)
from recueil.render.weasy import ImageCache, RenderResult, render_pdf
from recueil.sources.corpus import Corpus
from recueil.sources.edition_label import Edition
from recueil.sources.project import Project
from recueil.sources.sheet import Sheet
from recueil.sources.themes import Theme

#: the band of a sheet whose kind has no theme: no label, no pictogram, the default colour
NO_THEME = Theme("", 0, "", "", "#3D5A80")
#: sheets are tagged PDFs (a structure tree: headings, lists, tables, figures with their
#: alternative text); part of the cache key, so renders made before tagging are not reused
PDF_TAGS = True
#: the variant of a sheet's screen render: tagged, and identified as PDF/UA-1 in its XMP
#: metadata (editions are PDF/A, tagged too). The page number stamped afterwards is an artifact
#: added by an incremental update, which leaves the metadata as it is.
UA_VARIANT = "pdf/ua-1"
#: a rehearsal (SheetRenderer.rehearse) lays out the page-number stamps of sheets of one to
#: this many pages: nearly every sheet (experience sheets have two, syntheses three or four)
REHEARSED_PAGES = 4


class SheetRenderer:
    """Turns sheets into HTML pages and PDFs for one project (one Jinja environment, reused)."""

    def __init__(
        self,
        project: Project,
        corpus: Corpus,
        cache: RenderCache | None = None,
        edition: Edition | None = None,
        same_files_as: SheetRenderer | None = None,
    ):
        """``same_files_as``: a renderer of the same project whose files other than the
        sources (templates, styles, settings) are unchanged since; its compiled templates and
        page-number stamps are taken over (a server's worker loads a new state on every save,
        and compiling the templates again cost its next render 0.1-0.2 s).
        """
        self.project = project
        self.cache = cache
        #: set when rendering for an edition: label in the footer, PDF/A output
        self.edition = edition
        self._template_hashes: dict[str, str] = {}
        #: the texts of the keys' parts that no sheet changes (kinds, settings, themes): the
        #: same for every sheet, and their dataclasses' reprs were four fifths of a key
        self._key_texts: dict[object, str] = {}
        #: SHA-256 of files renders read, computed once per renderer
        self.file_hash = FileHashes()
        self.corpus = corpus
        self.sheets = corpus.by_slug()
        self.env = make_environment(
            project.template_dirs, project.settings.language, typography_options(project)
        )
        #: codes of the themes that have a pictogram: the band prints one only for these
        self.pictograms = project.pictograms()
        self.image_cache = ImageCache()
        #: remote images fetched during this build (none unless the settings list hosts)
        self.remote = project.settings.remote_images()
        self.renders: dict[str, tuple[str, RenderResult, list[Diagnostic], bytes | None]] = {}
        #: sheets whose body asked the network for an image: their renders are not cached
        self.uncached: set[str] = set()
        self.overlays: dict[int, bytes] = {}
        #: how many sheets this renderer actually laid out (tests count them), in all and by
        #: variant ("" is the screen render)
        self.layouts = 0
        self.variant_layouts: dict[str, int] = {}
        #: (slug, variant) → source hash, render (None: it failed in a worker), diagnostics
        self.variant_renders: dict[
            tuple[str, str], tuple[str, RenderResult | None, list[Diagnostic]]
        ] = {}
        if same_files_as is not None and same_files_as.edition == edition:
            # templates are among the files that must be unchanged; images and hashed files
            # are read again (one may lie outside the folders a server watches)
            self.env = same_files_as.env
            self.overlays = same_files_as.overlays
            self._template_hashes = same_files_as._template_hashes

    def fragment(self, sheet: Sheet) -> Fragment:
        """The sheet's body as sanitised HTML."""
        options = MarkupOptions(
            slug=sheet.slug,
            source_dir=sheet.path.parent,
            project_dir=self.project.root,
            language=self.project.settings.language,
            typography=typography_options(self.project),
            known_slugs=frozenset(self.sheets),
            limits=self.project.settings.input_limits(),
            remote=self.remote,
            site_root=self.project.site_root,
        )
        fragment = to_html(sheet.body, sheet.body_line, sheet.rel, options)
        if fragment.remote_images:  # fetched or not, it may differ at the next build
            self.uncached.add(sheet.slug)
        return fragment

    def page(self, sheet: Sheet) -> tuple[str, list[Diagnostic]]:
        """The complete HTML page of a sheet, and the diagnostics of its body."""
        html, diagnostics, _ = self.page_parts(sheet)
        return html, diagnostics

    def page_parts(self, sheet: Sheet) -> tuple[str, list[Diagnostic], tuple[str, ...]]:
        """The page, its diagnostics, and the files its body names that do not exist (a
        missing image: its render is cached only while it stays missing)."""
        fragment = self.fragment(sheet)
        missing = tuple(str(path) for path in fragment.missing)
        kind = self.project.kinds[sheet.kind]
        code = sheet.meta.get("theme")
        context = {
            "sheet": sheet.meta,
            "slug": sheet.slug,
            "kind": kind,
            "theme": self.project.theme(code) if code else NO_THEME,
            "themes": {t.code: t for t in self.project.themes},
            "pictos": self.pictograms,
            "settings": self.project.settings,
            "body": _markup(fragment.html),
            "anchor": sheet_anchor(sheet.slug),
            "sheets": {slug: other.meta for slug, other in self.sheets.items()},
            "sheet_dir": self.project.relative(sheet.path.parent),
            "edition": self.edition,
        }
        try:
            return render_page(self.env, kind.template, context), fragment.diagnostics, missing
        except jinja2.TemplateError as exc:
            failure = template_error(exc, sheet.rel, self.project.root)
            return "", [*fragment.diagnostics, failure], missing

    def key(self, sheet: Sheet, variant: str = "", edition: bool = True) -> str:
        """Cache key: everything known before rendering that shapes this sheet's PDF.

        The screen render's key has no variant part, so adding variants left every existing
        cache entry (and every screen PDF) as it was; another variant is another entry.
        Without ``edition``, the key leaves out the edition label, PDF/A and tagging: what is
        left is what the sheet looks like, which editions compare to find changed pages.
        Nothing in it depends on where the project lies on disk.
        """
        kind = self.project.kinds[sheet.kind]
        codes = [sheet.meta.get("theme"), *sheet.meta.get("secondary_themes", [])]
        texts = self._key_texts
        if not texts:
            texts["versions"] = repr(sorted(versions().items()))
            texts["settings"] = self.project.settings.output_key()
        if (kind_text := texts.get(("kind", sheet.kind))) is None:
            kind_text = texts[("kind", sheet.kind)] = repr(kind)
        if (themes_text := texts.get(("themes", repr(codes)))) is None:
            themes = [self.project.theme(code) for code in codes if code]
            themes_text = texts[("themes", repr(codes))] = repr(themes)
        # a render made without its pictogram must not be reused once the pictogram is added
        unpictured = [code for code in codes if code and code not in self.pictograms]
        references = [
            (ref, self.sheets[ref].title)
            for ref in sheet.meta.get("see_also", [])
            if ref in self.sheets
        ]
        linked = sorted(self.sheets) if "sheet:" in sheet.body else []
        return digest(
            texts["versions"],
            sheet.source_hash,
            sheet.rel,
            kind_text,
            self.template_hash(kind.template),
            self.template_hash("overlay.html"),
            texts["settings"],
            themes_text,
            repr(references),
            repr(linked),
            *((f"no pictogram:{unpictured}",) if unpictured else ()),
            *((f"variant:{variant}",) if variant else ()),
            *((repr(self.edition), PDF_VARIANT) if self.edition and edition else ()),
            *(("pdf_tags", TAGGING_REVISION) if PDF_TAGS and edition else ()),  # not in the look
        )

    def look(self, sheet: Sheet, result: RenderResult) -> str:
        """Fingerprint of what the sheet looks like: its inputs and the files its render read.

        Two renders with the same look print the same pages, whatever the edition label.
        """
        files = sorted(self.file_hash(path) for path in result.dependencies)
        return digest(self.key(sheet, edition=False), *files)

    def pdf_options(self) -> dict[str, Any]:
        """WeasyPrint options: PDF/UA-1 (tagged, see PDF_TAGS), and PDF/A for editions."""
        if not PDF_TAGS:
            return {"pdf_variant": PDF_VARIANT} if self.edition else {}
        if self.edition:
            return {"pdf_variant": PDF_VARIANT, "pdf_tags": True}
        return {"pdf_variant": UA_VARIANT}

    def template_hash(self, name: str) -> str:
        """Hash of a template and of every template it extends, includes or imports."""
        if name not in self._template_hashes:
            loader = self.env.loader
            assert loader is not None
            source, _, _ = loader.get_source(self.env, name)
            parts = [name, source]
            for child in sorted(
                n for n in meta.find_referenced_templates(self.env.parse(source)) if n
            ):
                if child and child != name:
                    parts.append(self.template_hash(child))
            self._template_hashes[name] = digest(*parts)
        return self._template_hashes[name]

    def produce(
        self, sheet: Sheet
    ) -> tuple[RenderResult | None, list[Diagnostic], bytes | None, bool]:
        """The sheet's render, diagnostics and standalone PDF, and whether they came from cache.

        A sheet is laid out once per change: renders are remembered for the life of this
        renderer and kept in the cache across builds; the same render serves the standalone PDF
        and every collection. The render is None when the sheet has errors.
        """
        remembered = self.renders.get(sheet.slug)
        if remembered is not None and remembered[0] == sheet.source_hash:
            if remembered[3] is not None:
                return remembered[1], remembered[2], remembered[3], True
            # the standalone PDF was not kept (it is written already): stamp it again
            return remembered[1], remembered[2], self.standalone(remembered[1]), True
        key = self.key(sheet) if self.cache is not None else ""
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None and hit[2] is not None:
                result, diagnostics, standalone = hit
                self.remember(sheet, result, diagnostics, standalone)
                return result, diagnostics, standalone, True
        html, diagnostics, missing = self.page_parts(sheet)
        if any(d.level is Level.ERROR for d in diagnostics):
            return None, diagnostics, None, False
        result = self._layout(sheet, html, diagnostics, "", missing)
        standalone = self.standalone(result)
        # A render with a remote image is not cached: the image may change on its server while
        # every key and file here stays the same. It is fetched and laid out at each build
        # (its PDF is rewritten only if its bytes changed; collections see the new render).
        if self.cache is not None and not result.remote_images and sheet.slug not in self.uncached:
            result = self.cache.put(key, result, standalone, html)  # its PDF left on disk
        self.remember(sheet, result, result.diagnostics, standalone)
        return result, result.diagnostics, standalone, False

    def rehearse(self, sheet: Sheet) -> None:
        """Lay ``sheet`` out and stamp it, keeping no render: a process's first layout also
        parses the styles, loads the fonts and starts Pango (about 0.7 s); a server's worker
        rehearses when it starts, so that the first sheet a visitor or an author asks for
        costs only its own layout. What every render of this state shares is kept: the
        templates' hashes, and the page-number stamps of sheets of one to REHEARSED_PAGES
        pages (the first two-page sheet edited in a server laid its stamps out first, 0.1 s
        of its 0.4, when the rehearsed sheet had another page count)."""
        self.key(sheet)
        for count in range(1, REHEARSED_PAGES + 1):
            self.page_numbers(count)
        html, diagnostics, _ = self.page_parts(sheet)
        if any(d.level is Level.ERROR for d in diagnostics):
            return
        self.standalone(
            render_pdf(
                html,
                project_dir=self.project.root,
                style_dirs=self.project.style_dirs,
                rel=sheet.rel,
                base_path=self.project.relative(sheet.path.parent) + "/",
                image_cache=self.image_cache,
                shared_styles=True,
                options=self.pdf_options(),
                remote=self.remote,
            )
        )

    def _layout(
        self,
        sheet: Sheet,
        html: str,
        diagnostics: list[Diagnostic],
        variant: str,
        missing: tuple[str, ...] = (),
    ) -> RenderResult:
        """Lay the page out (the expensive step, counted per variant for tests)."""
        result = render_pdf(
            html,
            project_dir=self.project.root,
            style_dirs=self.project.style_dirs,
            rel=sheet.rel,
            base_path=self.project.relative(sheet.path.parent) + "/",
            image_cache=self.image_cache,
            shared_styles=True,
            options=self.pdf_options(),
            remote=self.remote,
        )
        self.layouts += 1
        self.variant_layouts[variant] = self.variant_layouts.get(variant, 0) + 1
        return replace(
            result,
            diagnostics=diagnostics + result.diagnostics,
            missing=tuple(sorted({*result.missing, *missing})),
        )

    def produce_variant(
        self, sheet: Sheet, variant: str
    ) -> tuple[RenderResult | None, list[Diagnostic]]:
        """The sheet laid out for another medium ("print-shop"), remembered and cached apart.

        The page is the screen page with the variant's stylesheet added; it has no standalone
        PDF (standalone sheets are for screens). Its own cache key keeps it from ever replacing
        or invalidating the screen render.
        """
        if variant != VARIANT:
            raise ValueError(f"unknown render variant '{variant}'")
        if self.recall_variant(sheet, variant):
            _, known, found = self.variant_renders[(sheet.slug, variant)]
            return known, found
        key = self.key(sheet, variant) if self.cache is not None else ""
        html, diagnostics, missing = self.page_parts(sheet)
        if any(d.level is Level.ERROR for d in diagnostics):
            return None, diagnostics
        result = self._layout(sheet, with_print_styles(html), diagnostics, variant, missing)
        if self.cache is not None and not result.remote_images and sheet.slug not in self.uncached:
            result = self.cache.put(key, result)
        self.variant_renders[(sheet.slug, variant)] = (
            sheet.source_hash,
            result,
            result.diagnostics,
        )
        return result, result.diagnostics

    def recall_variant(self, sheet: Sheet, variant: str) -> bool:
        """True when the sheet's ``variant`` render is remembered (a failure included), or
        cached, and then remembered: no layout is needed."""
        remembered = self.variant_renders.get((sheet.slug, variant))
        if remembered is not None and remembered[0] == sheet.source_hash:
            return True
        hit = self.cache.get(self.key(sheet, variant)) if self.cache is not None else None
        if hit is not None:
            self.variant_renders[(sheet.slug, variant)] = (sheet.source_hash, hit[0], hit[1])
        return hit is not None

    def remember(
        self,
        sheet: Sheet,
        result: RenderResult,
        diagnostics: list[Diagnostic],
        standalone: bytes | None,
    ) -> None:
        """Keep a render for the rest of the build (also used for renders done by workers)."""
        self.renders[sheet.slug] = (sheet.source_hash, result, diagnostics, standalone)

    def render(
        self, sheet: Sheet, variant: str = ""
    ) -> tuple[RenderResult | None, list[Diagnostic]]:
        """The sheet's render (laid out only if neither remembered nor cached)."""
        if variant:
            return self.produce_variant(sheet, variant)
        remembered = self.renders.get(sheet.slug)
        if remembered is not None and remembered[0] == sheet.source_hash:
            return remembered[1], remembered[2]  # no need to stamp its standalone PDF again
        result, diagnostics, _, _ = self.produce(sheet)
        return result, diagnostics

    def standalone(self, result: RenderResult) -> bytes:
        """The standalone PDF of a render: 'page x / y' stamped, links to other sheets' PDFs."""
        from recueil.render.standalone import finish_standalone  # pypdf

        return finish_standalone(result.pdf, self.page_numbers(result.page_count))

    def page_numbers(self, total: int) -> bytes:
        """The 'page x / total' stamps of a sheet of ``total`` pages (laid out once)."""
        from recueil.render.standalone import render_page_numbers

        overlay = self.overlays.get(total)
        if overlay is None:
            overlay = self.overlays[total] = render_page_numbers(self.project, self.env, total)
        return overlay


def _markup(html: str) -> Markup:
    return Markup(html)
