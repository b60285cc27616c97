"""What a sheet's HTML may keep: the allowlists, and the policy every kept URL goes through.

nh3 (ammonia) does the sanitising; :class:`UrlPolicy` is its attribute filter, which rewrites
ids and links into the sheet's namespace, resolves images inside the project (or fetches them
from a listed host) and reports, at its line, everything it refuses.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import unquote

from recueil.core.diagnostics import Level, error, warning
from recueil.core.limits import image_problem, url_scheme
from recueil.markup.fragment import (
    GOTO,
    IMAGE_SUFFIXES,
    VIRTUAL_ROOT,
    Fragment,
    MarkupOptions,
    anchor_prefix,
    sheet_anchor,
    slugify,
)
from recueil.markup.typography import typeset_text

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "u", "s",
    "sup", "sub", "small", "mark", "abbr", "cite", "q", "code", "pre", "kbd", "blockquote",
    "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "th", "td",
    "caption", "colgroup", "col", "a", "img", "figure", "figcaption", "span", "div", "section",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "lang", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "th": {"style", "colspan", "rowspan"},
    "td": {"style", "colspan", "rowspan"},
    "ol": {"start"},
}
DROPPED_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "template", "svg", "math"}
URL_SCHEMES = {"http", "https", "mailto", "tel", "sheet"}
LINK_REFUSED = "link '{}' removed: only http(s), mailto, tel and sheet: links are allowed"
IMAGE_REFUSED = (
    "image '{}' refused: images must be files of the project (no network, data: or file: URLs)"
)
#: More problems than this in one body are summed up in one last diagnostic.
MAX_REPORTED = 100
#: What a warning about an unavailable image adds: the sheet is built all the same.
PLACEHOLDER_NOTE = "a placeholder is printed in its place"
#: The src given to an unavailable image until `UrlPolicy.finish` puts a placeholder there.
UNAVAILABLE = VIRTUAL_ROOT + "unavailable/"
#: What the placeholder says (French: it is printed), before the image's alt text.
PLACEHOLDER_TEXT = "Image indisponible : "
NO_NETWORK = (
    "is not fetched: the build does not use the network (the setting remote_image_hosts "
    "lists no host)"
)
#: The class that says an image is purely decorative (its alt text is then empty on purpose):
#: ``![](frise.svg){.decoratif}``. Any other image needs alternative text.
DECORATIVE = "decoratif"
NO_ALT = (
    "image '{}' has no alternative text: describe it (![description](...)) or, if it is "
    "purely decorative, say so with ![]({}){{.decoratif}}"
)
_IMG = re.compile(r"<img\b[^>]*>")
_ATTRIBUTE = re.compile(r'\b([a-z-]+)="([^"]*)"')
_LINK = re.compile(r"<a\b([^>]*)>(.*?)</a>", re.DOTALL)


class Unavailable(str):
    """The words of an image refusal that is only a warning: the image is missing, outside the
    project or cannot be had from the network. A placeholder takes its place."""


class Reporter:
    """Adds located diagnostics to a fragment; past MAX_REPORTED, only counts them.

    Locating a problem searches the body, so a body with a hundred thousand bad attributes must
    not be searched a hundred thousand times.
    """

    def __init__(self, locator: Locator, fragment: Fragment):
        self.locator, self.fragment = locator, fragment
        self.hidden: dict[Level, int] = {Level.ERROR: 0, Level.WARNING: 0}

    def add(self, level: Level, needle: str, message: str, nth: int | None = None) -> None:
        if len(self.fragment.diagnostics) >= MAX_REPORTED:
            self.hidden[level] += 1
            return
        line = self.locator.line_of(needle) if nth is None else self.locator.nth_line(needle, nth)
        make = error if level is Level.ERROR else warning
        self.fragment.diagnostics.append(make(self.locator.rel, line, message))

    def finish(self) -> None:
        hidden = sum(self.hidden.values())
        if hidden:
            make = error if self.hidden[Level.ERROR] else warning
            self.fragment.diagnostics.append(
                make(self.locator.rel, None, f"{hidden} more problems in this body are not shown")
            )


class Locator:
    """Finds the line of a piece of text in the body, to point diagnostics at it."""

    def __init__(self, body: str, body_line: int, rel: str):
        self.body, self.body_line, self.rel = body, body_line, rel
        self._lower: str | None = None
        self._after: dict[str, int] = {}

    def line_of(self, needle: str) -> int:
        """Line of ``needle``: problems are reported in document order, so a needle already
        found is looked for after its previous place first."""
        if not needle:
            return self.body_line
        start = self._after.get(needle, 0)
        index = self.body.find(needle, start)
        if index < 0 and start:
            index = self.body.find(needle)
        if index < 0:
            if self._lower is None:
                self._lower = self.body.lower()
            index = self._lower.find(needle.lower())
        if index < 0:
            return self.body_line
        self._after[needle] = index + 1
        return self.body_line + self.body.count("\n", 0, index)

    def nth_line(self, needle: str, nth: int) -> int:
        """Line of the ``nth`` occurrence of ``needle`` (0-based), else of the first one."""
        index = -1
        for _ in range(nth + 1):
            found = self.body.find(needle, index + 1)
            if found < 0:
                break
            index = found
        if index < 0:
            return self.line_of(needle)
        return self.body_line + self.body.count("\n", 0, index)


class UrlPolicy:
    """nh3 attribute filter: every href, src and id passes through here."""

    def __init__(self, options: MarkupOptions, reporter: Reporter):
        self.options, self.reporter, self.fragment = options, reporter, reporter.fragment
        self.prefix = anchor_prefix(options.slug)
        self.image_count = 0
        #: how many times each src value was seen, to point at the right occurrence
        self.seen: dict[str, int] = {}
        #: the ids kept in the body (prefixed), and its links to fragments: (as written, how
        #: many times seen before, the id they point to)
        self.ids: set[str] = set()
        self.fragment_links: list[tuple[str, int, str]] = []
        self.seen_links: dict[str, int] = {}
        #: placeholder src → the image's src as written
        self.placeholders: dict[str, str] = {}
        #: src as kept → src as written (to point at an image without alternative text)
        self.written: dict[str, str] = {}

    def __call__(self, element: str, attribute: str, value: str) -> str | None:
        # nh3 asks about every attribute, even of elements it is about to remove: only the
        # attributes that will be kept are checked (and reported, and counted).
        if element not in ALLOWED_TAGS or attribute not in (
            ALLOWED_ATTRIBUTES["*"] | ALLOWED_ATTRIBUTES.get(element, set())
        ):
            return None
        if attribute == "id":
            anchor = self.prefix + slugify(value)
            self.ids.add(anchor)
            return anchor
        if attribute == "href":
            return self.href(value)
        if attribute == "src":
            return self.src(value)
        return value

    def report(
        self, needle: str, message: str, is_error: bool = False, nth: int | None = None
    ) -> None:
        self.reporter.add(Level.ERROR if is_error else Level.WARNING, needle, message, nth)

    def href(self, value: str) -> str | None:
        if value.startswith("#"):
            anchor = self.prefix + slugify(unquote(value[1:])) if value[1:] else ""
            nth = self.seen_links.get(value, 0)
            self.seen_links[value] = nth + 1
            self.fragment_links.append((value, nth, anchor))
            return "#" + anchor
        scheme = url_scheme(value)
        if scheme in ("http", "https", "mailto", "tel"):
            return value
        if scheme == "sheet":
            slug = value.split(":", 1)[1]
            if slug not in self.options.known_slugs:
                self.report(value, f"link to unknown sheet '{slug}'", is_error=True)
                return None
            return GOTO + sheet_anchor(slug)
        self.report(value, LINK_REFUSED.format(value))
        return None

    def src(self, value: str) -> str | None:
        kept = self._src(value)
        if kept is not None:
            self.written[kept] = value
        return kept

    def _src(self, value: str) -> str | None:
        nth = self.seen.get(value, 0)
        self.seen[value] = nth + 1
        root = self.options.project_dir.resolve()
        try:
            problem, target = self.src_problem(value, root)
        except (OSError, ValueError, RuntimeError) as exc:  # too long, NUL byte, symlink loop
            problem = Unavailable(f"refused: its path cannot be used ({exc.__class__.__name__})")
            target = None
        if isinstance(problem, Unavailable):
            self.report(value, f"image '{value}' {problem}; {PLACEHOLDER_NOTE}", nth=nth)
            marker = f"{UNAVAILABLE}{len(self.placeholders)}"
            self.placeholders[marker] = value
            return marker
        if problem is not None or target is None:
            if problem:
                self.report(value, f"image '{value}' {problem}", is_error=True, nth=nth)
            return None
        if isinstance(target, str):  # a remote image, fetched: its virtual URL
            return target
        relative = target.relative_to(root).as_posix()
        self.fragment.images.append(relative)
        return VIRTUAL_ROOT + relative

    def src_problem(self, value: str, root: Path) -> tuple[str | None, Path | str | None]:
        """Why an image is refused (the words after "image 'x' ", '' to drop it without a
        word), or None and the file it is (the virtual URL of a fetched remote image).

        A refusal that is `Unavailable` is a warning (a placeholder takes the image's place);
        the others are errors: a URL that is neither a file nor http(s), a suspicious URL, an
        image over a limit or whose content is not what it claims.
        """
        self.image_count += 1
        limit = self.options.limits.max_images
        if self.image_count > limit:
            if self.image_count > limit + 1:
                return "", None  # reported once
            return f"refused: more than {limit} images in the body (setting max_images)", None
        if url_scheme(value):
            remote = self.options.remote
            if url_scheme(value) not in ("http", "https"):
                return IMAGE_REFUSED.format(value).removeprefix(f"image '{value}' "), None
            if remote is None or not remote.enabled:
                return Unavailable(NO_NETWORK), None
            self.fragment.remote_images.append(value)  # asked for: this render is not cached
            fetched = remote.get(value)  # the setting lists hosts: fetch it, within its limits
            if isinstance(fetched, str):
                if remote.unavailable(value):
                    return Unavailable(f"is not available: {fetched}"), None
                return f"refused: {fetched}", None
            return None, fetched.virtual_url
        path, base, where = unquote(value), self.options.source_dir, ""
        if path.startswith("/"):  # a site-root path, as static-site generators write them
            if self.options.site_root is None:
                return Unavailable("refused: site-root paths are not resolved here"), None
            base, path = self.options.site_root, path.lstrip("/")
            shown = base.resolve()
            shown_text = shown.relative_to(root).as_posix() if shown.is_relative_to(root) else ""
            where = f" (site-root paths start from '{shown_text or shown}', setting site_root)"
        target = (base / path).resolve()
        if not target.is_relative_to(root):
            return Unavailable(f"refused: it is outside the project{where}"), None
        if not target.is_file():
            self.fragment.missing.append(target)
            return Unavailable(f"does not exist{where}"), None
        if target.suffix.lower() not in IMAGE_SUFFIXES:
            return Unavailable("is not an image file"), None
        problem = image_problem(target, root, self.options.limits)
        return (f"refused: {problem}" if problem is not None else None), target

    def finish(self, cleaned: str) -> str:
        """The sanitised body with a placeholder for each unavailable image, and without the
        links to anchors it does not have (their text stays), each reported at its line."""
        missing: set[str] = set()
        for value, nth, anchor in self.fragment_links:
            if anchor in self.ids:
                continue
            missing.add("#" + anchor)
            why = (
                f"no heading or anchor of this sheet is called '{anchor.removeprefix(self.prefix)}'"
                if anchor
                else "it names no anchor"
            )
            needle = value if anchor else "(#)"  # a lone '#' is found as Markdown wrote it
            self.report(needle, f"link '{value}' removed: {why} (its text stays)", nth=nth)
        if missing:
            cleaned = _LINK.sub(lambda match: _unlinked(match, missing), cleaned)
        self.check_alternatives(cleaned)
        if self.placeholders:
            cleaned = _IMG.sub(self._placeholder, cleaned)
        return cleaned

    def check_alternatives(self, cleaned: str) -> None:
        """Warn, at its line, about every image with no alternative text that does not say it
        is decorative (a warning fails --strict builds and editions)."""
        seen: dict[str, int] = {}
        for match in _IMG.finditer(cleaned):
            attributes = dict(_ATTRIBUTE.findall(match[0]))
            written = self.written.get(html.unescape(attributes.get("src", "")))
            if written is None:  # refused, and said so
                continue
            nth = seen.get(written, 0)
            seen[written] = nth + 1
            if html.unescape(attributes.get("alt", "")).strip():
                continue
            if DECORATIVE in attributes.get("class", "").split():
                continue
            self.report(written, NO_ALT.format(written, written), nth=nth)

    def _placeholder(self, match: re.Match[str]) -> str:
        """A framed text in place of an unavailable image: 'Image indisponible : <alt>'."""
        attributes = dict(_ATTRIBUTE.findall(match[0]))
        written = self.placeholders.get(attributes.get("src", ""))
        if written is None:
            return match[0]
        alt = html.unescape(attributes.get("alt", "")).strip()
        text = PLACEHOLDER_TEXT + (alt or written.rstrip("/").rsplit("/", 1)[-1])
        if self.options.language.lower().startswith("fr"):
            text = typeset_text(text, self.options.typography)
        anchor = f' id="{attributes["id"]}"' if "id" in attributes else ""
        return f'<span class="image-unavailable"{anchor}>{html.escape(text, quote=False)}</span>'


def _unlinked(match: re.Match[str], missing: set[str]) -> str:
    """A link of the sanitised body, as a span when it points to a missing anchor."""
    attributes = _ATTRIBUTE.findall(match[1])
    if dict(attributes).get("href") not in missing:
        return match[0]
    kept = "".join(f' {name}="{value}"' for name, value in attributes if name != "href")
    return f"<span{kept}>{match[2]}</span>"  # its id, class and title stay
