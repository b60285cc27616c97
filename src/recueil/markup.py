"""Markdown body → sanitised HTML fragment, with figures, unique ids and French typography.

Python-Markdown does not sanitise, so the whole fragment goes through nh3 (ammonia) with an
allowlist at the end; every URL it keeps is checked by one policy function that also reports what
it refused. Images resolve inside the project only and become virtual URLs that the render
stage's fetcher serves; nothing here reads the network.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import markdown
import nh3
from markdown.treeprocessors import Treeprocessor

from .diagnostics import Diagnostic, error, warning
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


@dataclass(frozen=True)
class MarkupOptions:
    """What the conversion depends on besides the Markdown text."""

    slug: str
    source_dir: Path
    project_dir: Path
    language: str = "fr"
    typography: TypographyOptions = field(default_factory=TypographyOptions)
    known_slugs: frozenset[str] = frozenset()


@dataclass
class Fragment:
    """The HTML of a body and what converting it found."""

    html: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    images: list[str] = field(default_factory=list)


def anchor_prefix(slug: str) -> str:
    """Prefix of every id inside a sheet, so ids stay unique in a collection."""
    return f"{slug}--"


def sheet_anchor(slug: str) -> str:
    """Id of a sheet's first element; collection links to a sheet target it."""
    return f"sheet-{slug}"


def to_html(body: str, body_line: int, rel: str, options: MarkupOptions) -> Fragment:
    """Convert a sheet's Markdown body to a safe HTML fragment and its diagnostics."""
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
    raw_html = md.convert(body)
    fragment = Fragment(html="")
    locator = _Locator(body, body_line, rel)
    _report_unsafe(raw_html, locator, fragment)
    policy = _UrlPolicy(options, locator, fragment)
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
    return fragment


class _Locator:
    """Finds the line of a piece of text in the body, to point diagnostics at it."""

    def __init__(self, body: str, body_line: int, rel: str):
        self.body, self.body_line, self.rel = body, body_line, rel

    def line_of(self, needle: str) -> int:
        index = self.body.find(needle)
        if index < 0:
            index = self.body.lower().find(needle.lower())
        if index < 0:
            return self.body_line
        return self.body_line + self.body.count("\n", 0, index)


class _UrlPolicy:
    """nh3 attribute filter: every href, src and id passes through here."""

    def __init__(self, options: MarkupOptions, locator: _Locator, fragment: Fragment):
        self.options, self.locator, self.fragment = options, locator, fragment
        self.prefix = anchor_prefix(options.slug)

    def __call__(self, element: str, attribute: str, value: str) -> str | None:
        if attribute == "id":
            return self.prefix + value
        if attribute == "href":
            return self.href(value)
        if attribute == "src":
            return self.src(value)
        return value

    def report(self, needle: str, message: str, is_error: bool = False) -> None:
        make = error if is_error else warning
        self.fragment.diagnostics.append(
            make(self.locator.rel, self.locator.line_of(needle), message)
        )

    def href(self, value: str) -> str | None:
        if value.startswith("#"):
            return "#" + self.prefix + value[1:]
        scheme = urlsplit(value).scheme.lower()
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
        scheme = urlsplit(value).scheme.lower()
        if scheme:
            self.report(value, _IMAGE_REFUSED.format(value), is_error=True)
            return None
        path = unquote(value)
        if path.startswith("/"):
            self.report(
                value, f"image '{value}' refused: absolute paths are not allowed", is_error=True
            )
            return None
        root = self.options.project_dir.resolve()
        target = (self.options.source_dir / path).resolve()
        if not target.is_relative_to(root):
            self.report(value, f"image '{value}' refused: it is outside the project", is_error=True)
            return None
        if not target.is_file():
            self.report(value, f"image '{value}' does not exist", is_error=True)
            return None
        if target.suffix.lower() not in IMAGE_SUFFIXES:
            self.report(value, f"image '{value}' is not an image file", is_error=True)
            return None
        relative = target.relative_to(root).as_posix()
        self.fragment.images.append(relative)
        return VIRTUAL_ROOT + relative


class _UnsafeScanner(HTMLParser):
    """Lists the elements and attributes the sanitiser is about to drop, to report them.

    A refused image is an error (the sheet would print without it); other removals are warnings.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []
        self.errors: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.found.append((f"<{tag}", f"element <{tag}> removed (not allowed in sheets)"))
        allowed = ALLOWED_ATTRIBUTES["*"] | ALLOWED_ATTRIBUTES.get(tag, set())
        for name, value in attrs:
            if name not in allowed:
                self.found.append((name, f"attribute '{name}' removed from <{tag}>"))
            elif name in ("href", "src") and value:
                scheme = urlsplit(value.strip()).scheme.lower()
                if scheme and scheme not in URL_SCHEMES:
                    if name == "href":
                        self.found.append((value, _LINK_REFUSED.format(value)))
                    else:
                        self.errors.append((value, _IMAGE_REFUSED.format(value)))


def _report_unsafe(raw_html: str, locator: _Locator, fragment: Fragment) -> None:
    scanner = _UnsafeScanner()
    scanner.feed(raw_html)
    scanner.close()
    for needle, message in scanner.found:
        fragment.diagnostics.append(warning(locator.rel, locator.line_of(needle), message))
    for needle, message in scanner.errors:
        fragment.diagnostics.append(error(locator.rel, locator.line_of(needle), message))


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
