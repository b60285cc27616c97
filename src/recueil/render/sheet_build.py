"""Building sheets: reuse what is cached, render the rest in workers, publish atomically.

A sheet with errors is skipped (its previous PDF stays); a sheet that crashes or hangs its
worker becomes an error; the others are still built.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from recueil.core.atomic import write_atomic
from recueil.core.diagnostics import Diagnostic, Level, error
from recueil.render.print_styles import with_print_styles
from recueil.render.sheet_renderer import SheetRenderer
from recueil.render.template import typography_options
from recueil.render.weasy import RenderResult, parse_styles_once
from recueil.render.workers import Outcome, RenderPool
from recueil.sources.corpus import Corpus, load_corpus
from recueil.sources.sheet import Sheet

__all__ = [
    "Corpus",
    "SheetOutcome",
    "SheetRenderer",
    "build_sheets",
    "load_corpus",
    "typography_options",
]


@dataclass
class SheetOutcome:
    """What happened to one sheet during a build."""

    slug: str
    rel: str
    output: Path | None
    pages: int
    seconds: float
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: True when the render came from the cache (or was already done in this build)
    cached: bool = False

    @property
    def ok(self) -> bool:
        """True when the sheet's PDF was written (or already up to date)."""
        return self.output is not None


ProgressCallback = Callable[[int, int, Sheet], None]


@dataclass(frozen=True)
class Limits:
    """How builds run: parallelism and the limits of one render."""

    jobs: int = 1
    timeout: float = 120.0
    memory_mb: int = 2048


def build_sheets(
    renderer: SheetRenderer,
    selection: Sequence[Sheet],
    output_for: Callable[[Sheet], Path],
    on_progress: ProgressCallback | None = None,
    strict: bool = False,
    limits: Limits = Limits(),
) -> list[SheetOutcome]:
    """Publish each selected sheet: from cache when unchanged, rendered in workers otherwise."""
    outcomes: dict[str, SheetOutcome] = {}
    by_slug = {sheet.slug: sheet for sheet in selection}
    started = time.perf_counter()

    def publish(sheet: Sheet, outcome: Outcome, cached: bool) -> None:
        result, diagnostics, standalone = outcome
        failed = (
            result is None
            or standalone is None
            or any(d.level is Level.ERROR or strict for d in diagnostics)
        )
        output = None
        if not failed:
            assert standalone is not None
            output = output_for(sheet)
            if not _same_bytes(output, standalone):
                write_atomic(output, standalone)
        outcomes[sheet.slug] = SheetOutcome(
            sheet.slug,
            sheet.rel,
            output,
            result.page_count if isinstance(result, RenderResult) else 0,
            time.perf_counter() - started,
            diagnostics,
            cached,
        )
        if on_progress is not None:
            on_progress(len(outcomes) - 1, len(selection), sheet)

    misses: list[Sheet] = []
    for sheet in selection:
        known = renderer.renders.get(sheet.slug)
        hit = renderer.cache.get(renderer.key(sheet)) if renderer.cache and not known else None
        if known is not None and known[0] == sheet.source_hash and known[3] is not None:
            publish(sheet, (known[1], known[2], known[3]), True)
        elif hit is not None and hit[2] is not None:
            renderer.remember(sheet, hit[0], hit[1], None)
            publish(sheet, hit, True)
        else:
            misses.append(sheet)

    def task(slug: str) -> Outcome:
        result, diagnostics, standalone, _ = renderer.produce(renderer.sheets[slug])
        # runs in a worker: the parent remembers the render, this copy would only pile up
        renderer.renders.pop(slug, None)
        return result, diagnostics, standalone

    def done(slug: str, outcome: Outcome) -> None:
        sheet = by_slug[slug]
        result, diagnostics, _ = outcome
        if result is not None:  # the standalone PDF is written now: no need to keep it
            renderer.remember(sheet, result, diagnostics, None)
        publish(sheet, outcome, False)

    if misses:
        if not renderer.project.settings.remote_image_hosts:  # no fetching in this process
            html, _ = renderer.page(misses[0])
            parse_styles_once(html, renderer.project.root, renderer.project.style_dirs)
        pool = RenderPool(task, limits.jobs, limits.timeout, limits.memory_mb)
        pool.run([s.slug for s in misses], lambda slug: by_slug[slug].rel, done)
    return [outcomes[sheet.slug] for sheet in selection if sheet.slug in outcomes] + [
        SheetOutcome(s.slug, s.rel, None, 0, 0.0, [error(s.rel, None, "not rendered")])
        for s in selection
        if s.slug not in outcomes
    ]


def _same_bytes(path: Path, data: bytes) -> bool:
    """True when ``path`` already holds exactly ``data`` (so it is not rewritten)."""
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def render_variant_ahead(
    renderer: SheetRenderer, selection: Sequence[Sheet], variant: str, limits: Limits
) -> None:
    """Lay out in workers, several at once, the ``variant`` renders (the print shop's) that a
    collection is about to ask for one at a time (SheetRenderer.render).

    Asked for one at a time they were laid out in this process, on one core: 26 sheets of the
    sample's national collection, 260 when it is ten times larger. Renders remembered or
    cached are left alone. A sheet whose worker fails or finds errors is remembered so, and
    not laid out again here, outside the workers' time and memory limits.
    """
    by_slug = {s.slug: s for s in selection if not renderer.recall_variant(s, variant)}
    if not by_slug:
        return

    def task(slug: str) -> Outcome:
        result, diagnostics = renderer.produce_variant(by_slug[slug], variant)
        return result, diagnostics, None

    def done(slug: str, outcome: Outcome) -> None:
        result, diagnostics, _ = outcome
        laid_out = result if isinstance(result, RenderResult) else None
        source_hash = by_slug[slug].source_hash
        renderer.variant_renders[(slug, variant)] = (source_hash, laid_out, diagnostics)

    first = next(iter(by_slug.values()))
    if not renderer.project.settings.remote_image_hosts:  # no fetching in this process
        html, _ = renderer.page(first)
        parse_styles_once(
            with_print_styles(html), renderer.project.root, renderer.project.style_dirs
        )
    pool = RenderPool(task, limits.jobs, limits.timeout, limits.memory_mb)
    pool.run(list(by_slug), lambda slug: by_slug[slug].rel, done)
