"""Markdown body → sanitised HTML fragment, with figures, unique ids and French typography.

Python-Markdown does not sanitise, so the whole fragment goes through nh3 (ammonia) with an
allowlist at the end; every URL it keeps is checked by one policy function that also reports what
it refused. Images resolve inside the project only and become virtual URLs that the render
stage's fetcher serves; nothing here reads the network.

Bodies come from many contributors, so conversion is bounded (see limits.py and SECURITY.md):
nesting depth is checked on the source lines before Python-Markdown runs and on its HTML before
nh3 does (both get slow, and WeasyPrint fails, on deep nesting), tables, images and image sizes
are capped, and the pure-Python part runs under a deadline. A body over a limit gets an error
naming the limit and its setting, and no HTML.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import markdown
import nh3
from markdown.treeprocessors import Treeprocessor

from .diagnostics import Diagnostic, Level, error, warning
from .limits import InputLimits, TooSlow, deadline, image_problem, url_scheme
from .remote import RemoteImages
from .typography import TypographyOptions, typeset_tree

#: Virtual origin under which project files are served to WeasyPrint (never resolved on a network).
VIRTUAL_ROOT = "https://project.recueil.invalid/"
#: Links to other sheets point here; the assembler turns them into internal links in a
#: collection, and standalone sheets into links to the other sheet's PDF (see links.py).
GOTO = VIRTUAL_ROOT + "goto/"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")

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
_LINK_REFUSED = "link '{}' removed: only http(s), mailto, tel and sheet: links are allowed"
_IMAGE_REFUSED = (
    "image '{}' refused: images must be files of the project (no network, data: or file: URLs)"
)
#: Elements without content or end tag: they never nest.
VOID_ELEMENTS = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr",
}  # fmt: skip
#: Parts of a structure that do not count as a nesting level of their own: a list level is one
#: level (ul + li), a table one level (table, its row groups, rows and cells), a paragraph none.
_PART_ELEMENTS = {"li", "dt", "dd", "p", "thead", "tbody", "tfoot", "tr", "td", "th"}
#: Elements that close an open <p> (HTML's implied end tag), for measuring raw HTML.
_CLOSES_P = {
    "address", "article", "aside", "blockquote", "div", "dl", "fieldset", "figcaption", "figure",
    "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "main", "nav", "ol",
    "p", "pre", "section", "table", "ul",
}  # fmt: skip
#: More problems than this in one body are summed up in one last diagnostic.
MAX_REPORTED = 100
_QUOTE_PREFIX = re.compile(r"^[ \t>]*")
_LIST_MARKER = re.compile(r"(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")


@dataclass(frozen=True)
class MarkupOptions:
    """What the conversion depends on besides the Markdown text."""

    slug: str
    source_dir: Path
    project_dir: Path
    language: str = "fr"
    typography: TypographyOptions = field(default_factory=TypographyOptions)
    known_slugs: frozenset[str] = frozenset()
    #: caps on what the body may contain (the project's settings; defaults equal theirs)
    limits: InputLimits = field(default_factory=InputLimits)
    #: hosts images may be fetched from, and the images fetched (None: never the network)
    remote: RemoteImages | None = None


@dataclass
class Fragment:
    """The HTML of a body and what converting it found."""

    html: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    #: URLs of the remote images the body uses (fetched and accepted)
    remote_images: list[str] = field(default_factory=list)


def anchor_prefix(slug: str) -> str:
    """Prefix of every id inside a sheet, so ids stay unique in a collection."""
    return f"{slug}--"


def sheet_anchor(slug: str) -> str:
    """Id of a sheet's first element; collection links to a sheet target it."""
    return f"sheet-{slug}"


def to_html(body: str, body_line: int, rel: str, options: MarkupOptions) -> Fragment:
    """Convert a sheet's Markdown body to a safe HTML fragment and its diagnostics.

    A body over one of ``options.limits`` gets an error naming the limit and an empty HTML.
    """
    limits = options.limits
    fragment = Fragment(html="")
    locator = _Locator(body, body_line, rel)
    md = markdown.Markdown(
        extensions=["tables", "footnotes", "def_list", "fenced_code", "sane_lists", "attr_list"],
        extension_configs={"footnotes": {"BACKLINK_TITLE": "Retour au texte"}},
        output_format="html",
    )
    md.treeprocessors.register(_Figures(md), "recueil-figures", 7)
    md.treeprocessors.register(_Testimonies(md), "recueil-testimonies", 6)
    md.treeprocessors.register(_HeadingIds(md), "recueil-ids", 5)
    if options.language.lower().startswith("fr"):
        md.treeprocessors.register(_Typography(md, options.typography), "recueil-typo", 4)
    scanner = _Scanner(limits)
    reporter = _Reporter(locator, fragment)
    try:
        with deadline(limits.max_markup_seconds):
            problem = _source_problem(body, body_line, rel, limits)
            if problem is not None:
                fragment.diagnostics.append(problem)
                return fragment
            raw_html = md.convert(body)
            scanner.feed(raw_html)
            scanner.close()
            problems = scanner.structure_problems(locator)
            if not problems:
                for needle, message in scanner.found:
                    reporter.add(Level.WARNING, needle, message)
                for needle, message in scanner.errors:
                    reporter.add(Level.ERROR, needle, message)
    except TooSlow:
        seconds = f"{limits.max_markup_seconds:g}"
        fragment.diagnostics.append(
            error(
                rel,
                body_line,
                f"converting the body to HTML took more than {seconds} s: the sheet is refused "
                "(setting max_markup_seconds)",
            )
        )
        return fragment
    except RecursionError:
        fragment.diagnostics.append(error(rel, body_line, _too_deep(limits)))
        return fragment
    except (MemoryError, TimeoutError):
        raise  # the caller's own limits (a worker's memory, a test's alarm): theirs to report
    except Exception as exc:  # a bug of Python-Markdown or html.parser on odd input: say so
        fragment.diagnostics.append(
            error(rel, body_line, f"the body cannot be converted to HTML ({exc!r})")
        )
        return fragment
    if problems:
        fragment.diagnostics += problems
        return fragment
    policy = _UrlPolicy(options, reporter)
    fragment.html = nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=policy,
        url_schemes=URL_SCHEMES,
        filter_style_properties={"text-align"},
        link_rel=None,
        strip_comments=True,
    )
    reporter.finish()
    return fragment


def _too_deep(limits: InputLimits) -> str:
    return (
        f"nested more than {limits.max_nesting_depth} levels deep (blockquotes, lists or HTML "
        "elements): the sheet is refused (setting max_nesting_depth)"
    )


def _table_too_large(limits: InputLimits, rows: int, columns: int) -> str:
    return (
        f"table of {rows} rows × {columns} columns is larger than the limit of "
        f"{limits.max_table_rows} rows × {limits.max_table_columns} columns: the sheet is "
        "refused (settings max_table_rows and max_table_columns)"
    )


def _source_problem(body: str, body_line: int, rel: str, limits: InputLimits) -> Diagnostic | None:
    """The first limit the Markdown source itself exceeds, found before Python-Markdown runs.

    Python-Markdown recurses once per level of blockquote or list, and spends seconds on a
    large table, so those are measured on the lines: blockquote markers and list indentation
    (4 columns a level), and the rows and columns of pipe tables. The HTML it makes is measured
    again afterwards (raw HTML can nest too).
    """
    lines = body.split("\n")
    in_fence = False
    table_end = 0  # rows of a table already counted are not table starts (that was quadratic)
    for index, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        prefix = _QUOTE_PREFIX.match(line)
        assert prefix is not None
        markers = prefix[0]
        quotes = markers.count(">")
        indent = len(markers.rsplit(">", 1)[-1].expandtabs(4))
        if quotes:
            indent = max(0, indent - 1)  # the space after '>' belongs to the marker
        item = 1 if _LIST_MARKER.match(line, len(markers)) else 0
        if quotes + indent // 4 + item > limits.max_nesting_depth:
            return error(rel, body_line + index, _too_deep(limits))
        columns = _delimiter_columns(stripped) if index >= table_end else 0
        if columns and index > 0 and "|" in lines[index - 1]:
            rows = 1
            while index + rows < len(lines) and lines[index + rows].strip():
                rows += 1
            table_end = index + rows
            if rows > limits.max_table_rows or columns > limits.max_table_columns:
                return error(rel, body_line + index - 1, _table_too_large(limits, rows, columns))
    return None


def _delimiter_columns(line: str) -> int:
    """Columns of a table's delimiter row ('| --- | :-: |'), 0 when ``line`` is not one."""
    if "|" not in line or "-" not in line:
        return 0
    cells = line.strip().strip("|").split("|")
    for cell in cells:
        cell = cell.strip()
        if not cell or cell.strip(":-") or "-" not in cell or ":" in cell.strip(":"):
            return 0
    return len(cells)


class _Reporter:
    """Adds located diagnostics to a fragment; past MAX_REPORTED, only counts them.

    Locating a problem searches the body, so a body with a hundred thousand bad attributes must
    not be searched a hundred thousand times.
    """

    def __init__(self, locator: _Locator, fragment: Fragment):
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


class _Locator:
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


class _UrlPolicy:
    """nh3 attribute filter: every href, src and id passes through here."""

    def __init__(self, options: MarkupOptions, reporter: _Reporter):
        self.options, self.reporter, self.fragment = options, reporter, reporter.fragment
        self.prefix = anchor_prefix(options.slug)
        self.image_count = 0
        #: how many times each src value was seen, to point at the right occurrence
        self.seen: dict[str, int] = {}

    def __call__(self, element: str, attribute: str, value: str) -> str | None:
        # nh3 asks about every attribute, even of elements it is about to remove: only the
        # attributes that will be kept are checked (and reported, and counted).
        if element not in ALLOWED_TAGS or attribute not in (
            ALLOWED_ATTRIBUTES["*"] | ALLOWED_ATTRIBUTES.get(element, set())
        ):
            return None
        if attribute == "id":
            return self.prefix + value
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
            return "#" + self.prefix + value[1:]
        scheme = url_scheme(value)
        if scheme in ("http", "https", "mailto", "tel"):
            return value
        if scheme == "sheet":
            slug = value.split(":", 1)[1]
            if slug not in self.options.known_slugs:
                self.report(value, f"link to unknown sheet '{slug}'", is_error=True)
                return None
            return GOTO + sheet_anchor(slug)
        self.report(value, _LINK_REFUSED.format(value))
        return None

    def src(self, value: str) -> str | None:
        nth = self.seen.get(value, 0)
        self.seen[value] = nth + 1
        root = self.options.project_dir.resolve()
        try:
            problem, target = self.src_problem(value, root)
        except (OSError, ValueError, RuntimeError) as exc:  # too long, NUL byte, symlink loop
            problem, target = f"refused: its path cannot be used ({exc.__class__.__name__})", None
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
        word), or None and the file it is (the virtual URL of a fetched remote image)."""
        self.image_count += 1
        limit = self.options.limits.max_images
        if self.image_count > limit:
            if self.image_count > limit + 1:
                return "", None  # reported once
            return f"refused: more than {limit} images in the body (setting max_images)", None
        if url_scheme(value):
            remote = self.options.remote
            if remote is None or not remote.enabled or url_scheme(value) not in ("http", "https"):
                return _IMAGE_REFUSED.format(value).removeprefix(f"image '{value}' "), None
            fetched = remote.get(value)  # the setting lists hosts: fetch it, within its limits
            if isinstance(fetched, str):
                return f"refused: {fetched}", None
            self.fragment.remote_images.append(value)
            return None, fetched.virtual_url
        path = unquote(value)
        if path.startswith("/"):
            return "refused: absolute paths are not allowed", None
        target = (self.options.source_dir / path).resolve()
        if not target.is_relative_to(root):
            return "refused: it is outside the project", None
        if not target.is_file():
            return "does not exist", None
        if target.suffix.lower() not in IMAGE_SUFFIXES:
            return "is not an image file", None
        problem = image_problem(target, root, self.options.limits)
        return (f"refused: {problem}" if problem is not None else None), target


class _Scanner(HTMLParser):
    """One pass over the HTML Python-Markdown made, before the sanitiser sees it.

    Lists the elements and attributes the sanitiser is about to drop, to report them (a refused
    image is an error, since the sheet would print without it; other removals are warnings), and
    measures what the limits cap: nesting depth (with HTML's implied end tags, so that raw HTML
    is measured roughly as a browser would build it) and the size of every table.
    """

    def __init__(self, limits: InputLimits) -> None:
        super().__init__(convert_charrefs=True)
        self.limits = limits
        self.found: list[tuple[str, str]] = []
        self.errors: list[tuple[str, str]] = []
        self.stack: list[str] = []
        self.level = 0
        self.too_deep = False
        #: text right after the place a limit was crossed, to find its line in the source
        self.deep_needle: str | None = None
        self.tables: list[_Table] = []
        self.big_table: _Table | None = None

    # -- HTMLParser callbacks

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.too_deep:
            return  # the body is refused: the rest need not be measured
        self._check_safety(tag, attrs)
        if tag in VOID_ELEMENTS:
            return
        self._implied_end(tag)
        self.stack.append(tag)
        if tag not in _PART_ELEMENTS:
            self.level += 1
        # Parts (li, td…) do not count as levels, but a pile of them is not a document either.
        limit = self.limits.max_nesting_depth
        if self.level > limit or len(self.stack) > 4 * limit + 20:
            self.too_deep, self.deep_needle = True, ""
            return
        self._count_cell(tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # '<div/>' opens a div in HTML: only void elements close themselves.
        self.handle_starttag(tag, attrs)

    def parse_html_declaration(self, i: int) -> int:
        # html.parser raises AssertionError on '<![bogus' (found by fuzzing); HTML makes it a
        # comment, which the sanitiser drops: skip to its '>'.
        try:
            return int(super().parse_html_declaration(i))
        except AssertionError:
            end = self.rawdata.find(">", i)
            return -1 if end < 0 else end + 1

    def handle_endtag(self, tag: str) -> None:
        if self.too_deep:
            return
        if tag in self.stack:
            while self.stack:
                if self._pop() == tag:
                    break

    def handle_data(self, data: str) -> None:
        text = data.strip()
        if not text:
            return
        if self.deep_needle == "":
            self.deep_needle = _needle(text)
        if self.too_deep:
            return
        for table in self.tables:
            if table.needle is None:
                table.needle = _needle(text)

    # -- what is reported

    def structure_problems(self, locator: _Locator) -> list[Diagnostic]:
        """Errors for a body nested too deeply or holding a table too large."""
        problems: list[Diagnostic] = []
        while self.stack and not self.too_deep:  # tables left open at the end of the body
            self._pop()
        if self.too_deep:
            line = locator.line_of(self.deep_needle or "")
            problems.append(error(locator.rel, line, _too_deep(self.limits)))
        table = self.big_table
        if table is not None:
            problems.append(
                error(
                    locator.rel,
                    locator.line_of(table.needle or "<table"),
                    _table_too_large(self.limits, table.rows, table.columns),
                )
            )
        return problems

    # -- helpers

    def _check_safety(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            # The element goes, and its attributes with it: one warning is enough.
            self.found.append((f"<{tag}", f"element <{tag}> removed (not allowed in sheets)"))
            return
        allowed = ALLOWED_ATTRIBUTES["*"] | ALLOWED_ATTRIBUTES.get(tag, set())
        for name, value in attrs:
            if name not in allowed:
                self.found.append((name, f"attribute '{name}' removed from <{tag}>"))
            elif name in ("href", "src") and value:
                scheme = url_scheme(value)
                if scheme and scheme not in URL_SCHEMES:
                    if name == "href":
                        self.found.append((value, _LINK_REFUSED.format(value)))
                    else:
                        self.errors.append((value, _IMAGE_REFUSED.format(value)))
            elif name == "style" and value:
                names = (d.split(":", 1)[0].strip().lower() for d in value.split(";"))
                removed = [f"'{n}'" for n in names if n and n != "text-align"]
                if removed:
                    what = "property" if len(removed) == 1 else "properties"
                    self.found.append(
                        (
                            name,
                            f"CSS {what} {', '.join(removed)} removed from <{tag}> "
                            "(only text-align is allowed)",
                        )
                    )

    def _implied_end(self, tag: str) -> None:
        top = self.stack[-1] if self.stack else None
        closes_p = top == "p" and tag in _CLOSES_P
        if closes_p or top in _SIBLINGS.get(tag, ()):
            self._pop()

    def _pop(self) -> str:
        tag = self.stack.pop()
        if tag not in _PART_ELEMENTS:
            self.level -= 1
        if tag == "table" and self.tables:
            table = self.tables.pop()
            if self.big_table is None and (
                table.rows > self.limits.max_table_rows
                or table.columns > self.limits.max_table_columns
            ):
                self.big_table = table
        return tag

    def _count_cell(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append(_Table())
        elif self.tables and tag == "tr":
            self.tables[-1].rows += 1
            self.tables[-1].row_columns = 0
        elif self.tables and tag in ("td", "th"):
            table = self.tables[-1]
            span = next((v for k, v in attrs if k == "colspan"), None) or "1"
            table.row_columns += min(max(int(span), 1), 1000) if span.isdigit() else 1
            table.columns = max(table.columns, table.row_columns)


_SIBLINGS = {
    "li": ("li",),
    "dt": ("dt", "dd"),
    "dd": ("dt", "dd"),
    "tr": ("tr", "td", "th"),
    "td": ("td", "th"),
    "th": ("td", "th"),
}


@dataclass
class _Table:
    """What the scanner counts of one table."""

    rows: int = 0
    columns: int = 0
    row_columns: int = 0
    needle: str | None = None


def _needle(text: str) -> str:
    """A piece of text likely to be found verbatim in the source (typography changes spaces)."""
    words = re.findall(r"\w+", text[:200])
    return max(words, key=len) if words else text[:20]


def slugify(text: str) -> str:
    """ASCII id from a heading: 'Évaluation et suites' → 'evaluation-et-suites'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "section"


class _Figures(Treeprocessor):
    """An image alone in its paragraph with a title becomes a figure with that caption."""

    def run(self, root: ET.Element) -> None:
        for parent in root.iter():
            for index, child in enumerate(list(parent)):
                if child.tag != "p" or len(child) != 1 or (child.text or "").strip():
                    continue
                image = child[0]
                if image.tag != "img" or (image.tail or "").strip() or not image.get("title"):
                    continue
                caption_text = image.attrib.pop("title")
                figure = ET.Element("figure")
                figure.append(image)
                image.tail = None
                caption = ET.SubElement(figure, "figcaption")
                caption.text = caption_text
                parent[index] = figure


class _Testimonies(Treeprocessor):
    """A blockquote ending with a paragraph that starts with a dash is a signed testimony."""

    def run(self, root: ET.Element) -> None:
        for quote in root.iter("blockquote"):
            paragraphs = [c for c in quote if c.tag == "p"]
            if len(paragraphs) >= 2 and (paragraphs[-1].text or "").lstrip().startswith(("—", "–")):
                quote.set("class", "testimony")
                paragraphs[-1].set("class", "attribution")


class _HeadingIds(Treeprocessor):
    """Give every heading an id derived from its text, unique within the sheet."""

    def run(self, root: ET.Element) -> None:
        used = {element.get("id") for element in root.iter() if element.get("id")}
        for element in root.iter():
            if element.tag not in ("h1", "h2", "h3", "h4", "h5", "h6") or element.get("id"):
                continue
            base = slugify("".join(element.itertext()))
            candidate, number = base, 1
            while candidate in used:
                number += 1
                candidate = f"{base}-{number}"
            used.add(candidate)
            element.set("id", candidate)


class _Typography(Treeprocessor):
    """French typography on text nodes, after inline Markdown has been parsed."""

    def __init__(self, md: markdown.Markdown, options: TypographyOptions):
        super().__init__(md)
        self.options = options

    def run(self, root: ET.Element) -> None:
        typeset_tree(root, self.options)
