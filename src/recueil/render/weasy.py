"""Render stage: a complete HTML page → PDF bytes and the facts later stages need.

Rendering happens in-process through WeasyPrint's API (starting the ``weasyprint`` command costs
about a second per file). WeasyPrint reports missing images and bad CSS through its logger rather
than by raising, so its records are captured per render and returned as diagnostics of that sheet.
"""

from __future__ import annotations

import atexit
import gc
import logging
import multiprocessing.util
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recueil.core.diagnostics import Diagnostic, Level
from recueil.core.remote_images import RemoteImages
from recueil.markup.fragment import VIRTUAL_ROOT

if TYPE_CHECKING:
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

_WEASYPRINT_LOGGER = logging.getLogger("weasyprint")
#: The variation selectors asking for an emoji (colour) or a text presentation of the character
#: before them. The fonts are monochrome, and Pango looks for an emoji-presentation sequence
#: ("⚠️", "☎️", "1️⃣") in the machine's fonts before the project's symbol font: printed as text,
#: it comes from the project's fonts on every machine.
EMOJI_PRESENTATION, TEXT_PRESENTATION = "\ufe0f", "\ufe0e"


@dataclass(frozen=True)
class RenderResult:
    """A rendered document: its bytes, page count, anchor pages and what WeasyPrint said."""

    pdf: bytes
    page_count: int
    #: anchor id → 0-based page index where it lands
    anchors: dict[str, int]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: absolute paths of every file the render read (stylesheets, fonts, images)
    dependencies: tuple[str, ...] = ()
    #: URLs of the remote images it used (see remote.py); such a render is not cached
    remote_images: tuple[str, ...] = ()
    #: absolute paths of files the render looked for and did not find (a missing pictogram,
    #: an image, a style the project does not override): adding one changes the render
    missing: tuple[str, ...] = ()


class ImageCache(dict):  # type: ignore[type-arg]
    """WeasyPrint's image cache, shared by the renders of a process, noting what each one used.

    WeasyPrint looks an image up by URL (``url in cache``) before fetching it; an image found
    there never reaches the fetcher, so without this the second sheet showing a picto would not
    record the picto among its dependencies, and editing the picto would leave its cached
    render stale. An image that failed to load is not served from here: each render fetches
    it again, so each reports it (whatever worker laid out a sheet before) and records it as
    missing.
    """

    def __init__(self) -> None:
        super().__init__()
        self.used: set[str] = set()

    def __contains__(self, key: object) -> bool:
        found = super().__contains__(key) and self[key] is not None
        if found and isinstance(key, str):
            self.used.add(key)
        return found

    def forget_drawings(self) -> None:
        """Drop the SVG images, keeping the decoded bitmaps, once a document is written.

        WeasyPrint's SVGImage keeps the layout context of the document it was first drawn in,
        and with it that whole document's boxes and styles: shared between documents, each SVG
        held one sheet in memory for the life of the worker (some 40 MB after the first twenty
        sheets at 1,000 sheets), and drew the next sheets with that first sheet's context. An
        SVG is parsed again by the next document that shows it (a pictogram: about a
        millisecond).
        """
        for url in [url for url, image in self.items() if type(image).__name__ == "SVGImage"]:
            del self[url]


class _Capture(logging.Handler):
    """Collects WeasyPrint's warnings and errors during one render."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if _NO_ALT.search(record.getMessage()):
            return  # the body's images are checked before rendering, at their line (html_policy)
        self.records.append(record)


#: What a tagged render says of an image with an empty alt: recueil has warned already, or the
#: image is decorative on purpose (``{.decoratif}``).
_NO_ALT = re.compile(r'^Image ".*" has no required alt description$')


def render_pdf(
    html: str,
    *,
    project_dir: Path,
    style_dirs: tuple[Path, ...],
    rel: str,
    base_path: str = "",
    options: dict[str, Any] | None = None,
    image_cache: dict[str, Any] | None = None,
    shared_styles: bool = False,
    remote: RemoteImages | None = None,
) -> RenderResult:
    """Lay out ``html`` and write it as PDF; ``rel`` names the source in diagnostics.

    ``base_path`` is the project-relative folder relative URLs resolve against; every fetch goes
    through ProjectFetcher, so nothing outside the project (or recueil's styles) is ever read.
    With ``shared_styles``, the document's stylesheet links are parsed once per process (with
    their @font-face fonts) and reused: parsing them cost about 90 ms per sheet. ``remote``
    holds the remote images the markup stage fetched for this document, served from memory.
    """
    # WeasyPrint is imported where it lays out, not with this module: processes that only
    # read renders (the web server) stay without it (some 30 MB)
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    from recueil.render.fetcher import ProjectFetcher
    from recueil.render.leaders import install as draw_leaders_as_one_run
    from recueil.render.link_areas import drop_nested_links
    from recueil.render.passage_lang import install as tag_passage_languages
    from recueil.render.tagging import finish_tags

    tag_passage_languages()
    draw_leaders_as_one_run()
    _clean_at_exit()
    html = html.replace(EMOJI_PRESENTATION, TEXT_PRESENTATION)
    fetcher = ProjectFetcher(project_dir, style_dirs, remote)
    capture = _Capture()
    _WEASYPRINT_LOGGER.addHandler(capture)
    previous_propagate = _WEASYPRINT_LOGGER.propagate
    _WEASYPRINT_LOGGER.propagate = False
    style_dependencies: tuple[str, ...] = ()
    style_missing: tuple[str, ...] = ()
    if isinstance(image_cache, ImageCache):
        image_cache.used.clear()
    try:
        stylesheets: list[Any] = []
        font_config = FontConfiguration()
        if shared_styles:
            links = tuple(_STYLESHEET.findall(html))
            html = _STYLESHEET.sub("", html)
            stylesheets, font_config, style_dependencies, style_missing = _parsed_styles(
                project_dir, style_dirs, links
            )
        document = HTML(string=html, base_url=VIRTUAL_ROOT + base_path, url_fetcher=fetcher).render(
            font_config=font_config,
            cache=image_cache,
            stylesheets=stylesheets,
            **(options or {}),
        )
        anchors: dict[str, int] = {}
        for index, page in enumerate(document.pages):
            for name in page.anchors:
                anchors.setdefault(name, index)
            page.links[:] = drop_nested_links(page.links)
        pdf = document.write_pdf(finisher=finish_tags, **(options or {}))
    finally:
        _WEASYPRINT_LOGGER.removeHandler(capture)
        _WEASYPRINT_LOGGER.propagate = previous_propagate
        if isinstance(image_cache, ImageCache):
            image_cache.forget_drawings()
    diagnostics = [
        Diagnostic(
            rel,
            None,
            None,
            Level.ERROR if record.levelno >= logging.ERROR else Level.WARNING,
            "WeasyPrint: " + record.getMessage().replace(VIRTUAL_ROOT, ""),
        )
        for record in capture.records
    ]
    served = set(fetcher.served)
    missing = set(fetcher.missing)
    if isinstance(image_cache, ImageCache):
        for path, absent in map(fetcher.lookup, image_cache.used):
            served |= {path} if path is not None else set()
            missing.update(absent)
    dependencies = tuple(sorted({str(path) for path in served} | set(style_dependencies)))
    remote_images = tuple(sorted(set(fetcher.served_remote)))
    looked_for = tuple(sorted({str(path) for path in missing} | set(style_missing)))
    return RenderResult(
        pdf, len(document.pages), anchors, diagnostics, dependencies, remote_images, looked_for
    )


_STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)">')


def parse_styles_once(html: str, project_dir: Path, style_dirs: tuple[Path, ...]) -> None:
    """Parse the stylesheets ``html`` links to (and load their fonts) in this process now.

    Called before forking workers: they inherit the parsed styles instead of each parsing
    them again (a worker is replaced every hundred sheets, and each pool of the assembly
    starts its own), about 0.2 s saved per worker.
    """
    _parsed_styles(project_dir, style_dirs, tuple(_STYLESHEET.findall(html)))


_Styles = tuple[list["CSS"], "FontConfiguration", tuple[str, ...], tuple[str, ...]]
_PARSED: dict[tuple[Any, ...], _Styles] = {}
#: the process that parsed each entry: WeasyPrint writes a FontConfiguration's fonts into a
#: folder of its own (/tmp/weasyprint-*) that only that process may remove
_OWNER: dict[tuple[Any, ...], int] = {}
# dropped before the interpreter tears modules down: a FontConfiguration deleted after
# WeasyPrint's module (imported lazily, so torn down first) cannot remove its folder
atexit.register(_PARSED.clear)


def _forget(key: tuple[Any, ...]) -> None:
    """Drop a parsed entry. Its fonts' folder goes with it only in the process that made it:
    a forked worker holds its parent's entries too, whose folder the parent still reads."""
    entry = _PARSED.pop(key, None)  # the main process's atexit may have cleared them first
    if _OWNER.pop(key, None) != os.getpid() and entry is not None:
        entry[1]._folder = None


_CLEANING: dict[str, int] = {}


def _clean_at_exit() -> None:
    """Have this process remove its font folders when it ends (registered once per process)."""
    if _CLEANING.get("pid") != os.getpid():
        _CLEANING["pid"] = os.getpid()
        multiprocessing.util.Finalize(None, _remove_own_folders, exitpriority=10)


def _remove_own_folders() -> None:
    """At a worker's end: multiprocessing leaves through os._exit, so neither atexit nor the
    FontConfigurations' own clean-up runs, and each worker left some 2 MB of font files in
    /tmp (hundreds of folders after a test run): those of the styles it parsed, and that of
    its last document with fonts of its own, still waiting in a reference cycle."""
    for key in [k for k, pid in _OWNER.items() if pid == os.getpid()]:
        _forget(key)
    gc.collect()  # a FontConfiguration held in a cycle is deleted, and its folder removed


def _parsed_styles(
    project_dir: Path, style_dirs: tuple[Path, ...], links: tuple[str, ...]
) -> _Styles:
    """Stylesheets parsed once per process, keyed by their files' sizes and modification times,
    with the files they read and those they looked for and did not find."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    from recueil.render.fetcher import ProjectFetcher

    fetcher = ProjectFetcher(project_dir, style_dirs)
    files = tuple(fetcher.resolve(link) for link in links)
    key = (
        str(project_dir),
        style_dirs,
        links,
        tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) if f else None for f in files),
    )
    if key not in _PARSED:
        for older in [k for k in _PARSED if k[:3] == key[:3]]:  # the styles were edited
            _forget(older)
        _clean_at_exit()
        _OWNER[key] = os.getpid()
        font_config = FontConfiguration()
        sheets = [CSS(url=link, url_fetcher=fetcher, font_config=font_config) for link in links]
        served = tuple(sorted({str(path) for path in fetcher.served}))
        missing = tuple(sorted({str(path) for path in fetcher.missing}))
        _PARSED[key] = (sheets, font_config, served, missing)
    return _PARSED[key]
