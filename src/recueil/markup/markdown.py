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

import html
import re
import xml.etree.ElementTree as ET

import markdown
import nh3
from markdown.treeprocessors import Treeprocessor

from recueil.core.diagnostics import Level, error
from recueil.core.limits import TooSlow, deadline
from recueil.markup.fragment import Fragment, MarkupOptions, slugify
from recueil.markup.html_policy import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    DROPPED_WITH_CONTENT,
    URL_SCHEMES,
    Locator,
    Reporter,
    UrlPolicy,
)
from recueil.markup.structure import Scanner, source_problem, too_deep
from recueil.markup.typography import TypographyOptions, typeset_tree

__all__ = ["Fragment", "MarkupOptions", "to_html"]


def to_html(body: str, body_line: int, rel: str, options: MarkupOptions) -> Fragment:
    """Convert a sheet's Markdown body to a safe HTML fragment and its diagnostics.

    A body over one of ``options.limits`` gets an error naming the limit and an empty HTML.
    """
    limits = options.limits
    fragment = Fragment(html="")
    locator = Locator(body, body_line, rel)
    md = markdown.Markdown(
        extensions=["tables", "footnotes", "def_list", "fenced_code", "sane_lists", "attr_list"],
        extension_configs={"footnotes": {"BACKLINK_TITLE": "Retour au texte"}},
        output_format="html",
    )
    md.treeprocessors.register(_Entities(md), "recueil-entities", 8)
    md.treeprocessors.register(_Figures(md), "recueil-figures", 7)
    md.treeprocessors.register(_Testimonies(md), "recueil-testimonies", 6)
    md.treeprocessors.register(_HeadingIds(md), "recueil-ids", 5)
    if options.language.lower().startswith("fr"):
        md.treeprocessors.register(_Typography(md, options.typography), "recueil-typo", 4)
    scanner = Scanner(limits)
    reporter = Reporter(locator, fragment)
    try:
        with deadline(limits.max_markup_seconds):
            problem = source_problem(body, body_line, rel, limits)
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
        fragment.diagnostics.append(error(rel, body_line, too_deep(limits)))
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
    policy = UrlPolicy(options, reporter)
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
    fragment.html = policy.finish(fragment.html)
    reporter.finish()
    return fragment


#: Where Python-Markdown left a piece of raw HTML or a character reference in a text.
_STASHED = markdown.util.HTML_PLACEHOLDER_RE
_CHARACTER_REFERENCE = re.compile(
    r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
)


class _Entities(Treeprocessor):
    """Character references ('&#39;', '&quot;', '&eacute;') become the characters they stand for.

    Python-Markdown keeps each one aside as raw HTML and leaves a placeholder in the text, so
    the typography pass saw 'l', a placeholder and 'école', and printed a straight apostrophe;
    heading ids got the placeholder's letters. As characters in the tree they are typeset and
    escaped again on output like any text ('&lt;' stays text, never markup). Code keeps its
    references as written.
    """

    def run(self, root: ET.Element) -> None:
        stash = self.md.htmlStash.rawHtmlBlocks

        def decoded(match: re.Match[str]) -> str:
            index = int(match[1])
            raw = stash[index] if index < len(stash) else None
            if not isinstance(raw, str) or _character(raw) == raw:
                return match[0]  # raw HTML stays aside, restored by Python-Markdown
            return _character(raw)

        for element in root.iter():
            if element.text and "\x02" in element.text and element.tag not in ("code", "pre"):
                element.text = _STASHED.sub(decoded, element.text)
            if element.tail and "\x02" in element.tail:
                element.tail = _STASHED.sub(decoded, element.tail)
            for name in ("title", "alt"):  # there they are left as typed; a title may become
                value = element.get(name)  # a figure's caption, an alt a placeholder's text
                if value and "&" in value:
                    element.set(name, _CHARACTER_REFERENCE.sub(lambda m: _character(m[0]), value))


def _character(reference: str) -> str:
    """What a character reference stands for; anything else (and references to C0 controls,
    of which Python-Markdown's own placeholders are made) is kept as it is."""
    if not _CHARACTER_REFERENCE.fullmatch(reference):
        return reference
    character = html.unescape(reference)
    if character and all(c >= " " or c in "\t\n" for c in character):
        return character
    return reference


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
        used = {slugify(e.get("id") or "") for e in root.iter() if e.get("id")}
        for element in root.iter():
            if element.tag not in ("h1", "h2", "h3", "h4", "h5", "h6") or element.get("id"):
                continue
            base = slugify(_STASHED.sub("", "".join(element.itertext())))
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
