"""The page-number overlay: what is stamped on each page of a collection, as laid-out pages.

Each page of a collection gets one overlay page carrying its number, its footer line and its
running header (templates/overlay.html), laid out by WeasyPrint so that the stamp sits exactly
where the sheet's own footer leaves room. A stamp page depends only on its own stamp (every
page carries all its running elements, even empty), so the overlay can be laid out in any
grouping of stamps without changing a page:
- a build lays it out in documents of OVERLAY_CHUNK consecutive pages (one document for every
  page costs more per page as it grows, and parts go to several cores);
- an author's preview keeps, in its worker process, which laid-out page shows each stamp, and
  after an edit lays out only the stamps it has never laid out. When a sheet gains a page,
  every later page gets a new number, but most of them get the stamp the same position had
  before (same number, same side, and the same theme's colour and header unless a theme or a
  sheet starts there now): at the sample's national collection 43 to 56 of about 100 stamps
  were new after each of three edits, the others were layouts it already had.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jinja2

from recueil.collection.definition import Collection, Group
from recueil.collection.plan import Plan, label_for
from recueil.render.cache import digest
from recueil.render.template import render_page
from recueil.render.weasy import RenderResult
from recueil.sources.project import Project

#: pages per overlay document in a build
OVERLAY_CHUNK = 100
#: stamps per overlay document in a preview: small parts, so that few new stamps are few pages
PREVIEW_CHUNK = 20
#: stamps a preview's worker remembers (a collection has one per page; several previews fit)
KEPT_STAMPS = 4000

#: one page of the overlay: a laid-out document and a page in it
OverlayPage = tuple[RenderResult, int]

#: a stamp's key (its own overlay HTML) → the generated document's cache key and page showing it
_LAID_OUT: OrderedDict[str, tuple[str, int]] = OrderedDict()


def stamps_of(
    project: Project, collection: Collection, groups: Sequence[Group], plan: Plan
) -> list[dict[str, Any]]:
    """What to print on top of each page: page number, footer line, running header.

    In recto-verso the number sits in the outer margin, level with the footer line: a sheet's
    own footer fills the text width with its resource centre on the left, so a verso number
    inside the footer would print over it, and sheets are never laid out again to move it.
    """
    stamps: list[dict[str, Any]] = []
    theme_short = {t.code: t.short for t in project.themes}
    colours = {s.slug: g.colour for g in groups for s in g.sheets}
    labels = {g.key: theme_short[g.key] if g.theme else g.label for g in groups}
    short = {s.slug: labels[g.key] for g in groups for s in g.sheets}
    index = 0
    unnumbered = {"part-cover", "part-title", "part-back"}
    recto_verso = bool(collection.option("recto_verso", False))
    for slot in plan.slots:
        for offset in range(slot.count):
            number = label_for(index, plan.front_pages)
            stamp: dict[str, Any] = {
                "number": "",
                "left": "",
                "header": "",
                "full": False,
                "colour": "#3D5A80",
                # printed double-sided, the number goes on the outer edge: the first page is a
                # recto, so even indexes are rectos (right) and odd ones versos (left)
                "side": ("recto" if index % 2 == 0 else "verso") if recto_verso else "",
            }
            if slot.source == "sheet":
                stamp.update(
                    number=number,
                    colour=colours[slot.ref],
                    header=short[slot.ref] if offset > 0 else "",
                )
            elif slot.source == "frame" and slot.ref not in unnumbered:
                stamp.update(number=number, left=collection.title, full=True)
            stamps.append(stamp)
            index += 1
    return stamps


class OverlayLayout:
    """The overlay documents an assembly lays out, and the page showing each stamp.

    ``document_key`` is the cache key of a generated document (its name and HTML) and
    ``find`` a document laid out before under such a key, or None: a page is reused only
    through the render cache, which checks that the stylesheets and fonts it used are
    unchanged.
    """

    def __init__(
        self,
        env: jinja2.Environment,
        settings: Any,
        preview: bool,
        document_key: Callable[[str, str], str],
        find: Callable[[str], RenderResult | None],
    ):
        self.env, self.settings, self.preview = env, settings, preview
        self.document_key, self.find = document_key, find
        #: documents asked for and the stamp keys of their pages, until they are laid out
        self.pending: dict[str, tuple[str, list[str]]] = {}
        #: each stamp's key, made once per assembly (a template rendered per stamp)
        self._keys: dict[tuple[tuple[str, Any], ...], str] = {}

    def html(self, stamps: Sequence[dict[str, Any]]) -> str:
        return render_page(self.env, "overlay.html", {"stamps": stamps, "settings": self.settings})

    def documents(self, stamps: Sequence[dict[str, Any]], only_new: bool) -> dict[str, str]:
        """The overlay for ``stamps`` as documents named in page order: every stamp, in parts
        of consecutive pages, or (``only_new``, a preview) the stamps this worker has no page
        for, once each."""
        size = PREVIEW_CHUNK if self.preview else OVERLAY_CHUNK
        keys = [self._key(stamp) for stamp in stamps] if self.preview else []
        if only_new:
            new = {k: s for k, s in zip(keys, stamps, strict=True) if self._page(k) is None}
            keys, stamps = list(new), list(new.values())
        documents = {}
        for start in range(0, len(stamps), size):
            name = f"overlay-{start:05d}"
            documents[name] = self.html(stamps[start : start + size])
            if self.preview:
                self.pending[name] = (documents[name], keys[start : start + size])
        return documents

    def learn(self, rendered: Mapping[str, RenderResult]) -> None:
        """Remember the page of each stamp of the pending documents now laid out (previews)."""
        for name, (html, keys) in list(self.pending.items()):
            if name in rendered and rendered[name].page_count == len(keys):
                document = self.document_key(name, html)
                for number, key in enumerate(keys):
                    _LAID_OUT[key] = (document, number)
                    _LAID_OUT.move_to_end(key)
                del self.pending[name]
        while len(_LAID_OUT) > KEPT_STAMPS:
            _LAID_OUT.popitem(last=False)

    def pages(self, stamps: Sequence[dict[str, Any]]) -> list[OverlayPage] | None:
        """The page showing each stamp, or None when one has none (a preview's only)."""
        pages = [self._page(self._key(stamp)) for stamp in stamps]
        return None if any(p is None for p in pages) else pages  # type: ignore[return-value]

    def _key(self, stamp: dict[str, Any]) -> str:
        facts = tuple(sorted(stamp.items()))
        key = self._keys.get(facts)
        if key is None:
            key = self._keys[facts] = digest("stamp", self.html([stamp]))
        return key

    def _page(self, key: str) -> OverlayPage | None:
        place = _LAID_OUT.get(key)
        document = self.find(place[0]) if place is not None else None
        return (document, place[1]) if document is not None and place is not None else None


def in_order(documents: Mapping[str, RenderResult]) -> list[OverlayPage]:
    """Every page of overlay documents named in page order (OverlayLayout.documents)."""
    return [(documents[name], k) for name in sorted(documents)
            for k in range(documents[name].page_count)]  # fmt: skip
