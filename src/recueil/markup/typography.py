"""French typography for text runs, xml.etree trees and Jinja strings.

Authors type straight quotes, plain spaces before ':' or '?', '...', '1ère', '12500 €'; a printed
French book needs « guillemets », no-break spaces that keep signs, units and dates with what they
belong to, grouped digits, superscript ordinals. The rules here are conservative: URLs, e-mail
addresses, times, code and Markdown/HTML syntax stay byte for byte, letters are never rewritten
(except the documented 1ère → 1re, 2ème → 2e), and everything is idempotent. Deliberately not
done: '--' stays (it is Markdown/YAML syntax too often) and spaces next to a newline are never
touched (a newline may be syntax, e.g. a definition list ':').
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from markupsafe import Markup, escape

from recueil.markup.typography_rules import (
    DEFAULT,
    LINKLIKE,
    NBSP,
    NNBSP,
    OBJ,
    UPPER,
    Edit,
    Spans,
    TypographyOptions,
    common,
    protected,
    rules_for,
)

__all__ = ["NBSP", "NNBSP", "TypographyOptions", "typeset_markup", "typeset_text", "typeset_tree"]

_ENRICH = re.compile(
    rf"(?<![\w.,/])(?<![\d{UPPER}]-)(?P<ord>1(?:ers?|res?)|2(?:nde?s?|des?)|\d+es?|Ier|[IVXL]*[IVX]es?)"
    r"(?![\w])(?!-\d+(?![\w]))"
    r"|(?<![\w·])(?P<incl>[^\W\d_]+(?:·[^\W\d_]+)+)(?![\w·])"
    # two capitals or more: '[UP][UP0-9]*[UP][UP0-9]*' tried every split of a long run of capitals
    rf"|(?<![\w])(?P<acro>[{UPPER}][0-9]*+[{UPPER}][{UPPER}0-9]*+\+{{0,2}})(?![\w+])"
)

_BLOCK = {
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p", "section",
    "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
_OPAQUE = {"code", "pre", "kbd", "samp", "var", "script", "style", "math", "svg", "textarea",
           "img", "input"}  # fmt: skip


class _Buffer:
    """The text of one block as characters, each owned by a text slot (or -1: read-only).

    Rules run on the whole block, so quotes and spaces see across <em> and the like; the owner
    of each character tells where the result goes back in the tree.
    """

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.owners: list[int] = []
        self.slots: list[_Slot] = []  # in trees: where each owner's text lives

    def slot(self, el: ET.Element, attr: str, parent: ET.Element | None, nowrap: bool) -> None:
        self.add(getattr(el, attr) or "", len(self.slots))
        self.slots.append((el, attr, parent, nowrap))

    def add(self, text: str, owner: int) -> None:
        self.chars.extend(text)
        self.owners.extend([owner] * len(text))

    def text(self) -> str:
        return "".join(self.chars)

    def bounds(self) -> list[int]:
        """Positions where one element's text ends and another's begins, in order."""
        return [i for i in range(1, len(self.owners)) if self.owners[i] != self.owners[i - 1]]

    def apply(self, edits: list[Edit], spans: Spans) -> bool:
        """Apply non-overlapping edits of the current text, keeping ownership minimal.

        Edits are decided from the last to the first, each as if those on its right were
        already applied (an insertion may join the character now on its right), but the lists
        are rebuilt once at the end: splicing them per edit was quadratic in the text.
        """
        old_text, chars, owners = self.text(), self.chars, self.owners
        cut = len(chars)  # chars[cut:] are decided: they are `pieces`, right to left
        head: int | None = None  # owner of the first decided character, if any
        pieces: list[tuple[list[str], list[int]]] = []
        for start, end, new in reversed(edits):
            old = old_text[start:end]
            if old == new or spans.hits(start, end):
                continue
            p = common(old, new)  # keep what did not change, and who owns it
            q = common(old[p:][::-1], new[p:][::-1])
            a, b = start + p, end - q
            if a < b:
                if min(owners[a:b]) < 0:
                    continue
                owner = owners[a]
            else:  # pure insertion: join the kept neighbour that the edit is about
                near = [a - 1, a] if p and not q else [a, a - 1]
                current = [owners[i] if i < cut else head for i in near if 0 <= i <= cut]
                writable = [o for o in current if o is not None and o >= 0]
                if not writable:
                    continue
                owner = writable[0]
            middle = list(new[p : len(new) - q])
            pieces.append((chars[b:cut], owners[b:cut]))
            pieces.append((middle, [owner] * len(middle)))
            head = owner if middle else owners[b] if b < cut else head
            cut = a
        if not pieces:
            return False
        self.chars, self.owners = chars[:cut], owners[:cut]
        for piece_chars, piece_owners in reversed(pieces):
            self.chars += piece_chars
            self.owners += piece_owners
        return True


def _typeset_buffer(buf: _Buffer, options: TypographyOptions) -> None:
    s, spans, bounds = buf.text(), protected(buf.text()), buf.bounds()
    for rule in rules_for(options):
        if buf.apply(list(rule(s, spans, bounds)), spans):  # they move only when the text does
            s, spans, bounds = buf.text(), protected(buf.text()), buf.bounds()


def typeset_text(text: str, options: TypographyOptions = DEFAULT, prev: str = "") -> str:
    """Apply French typography to one plain-text run. `prev` is the text just before this run in
    the same block (may be ''), used to decide e.g. opening vs closing quotes and spaces before
    punctuation that starts this run. `prev` itself is never changed: a normal space at its end
    before a sign starting `text` is therefore left alone rather than doubled.
    """
    buf = _Buffer()
    buf.add(prev, -1)
    buf.add(text, 0)
    _typeset_buffer(buf, options)
    return "".join(c for c, o in zip(buf.chars, buf.owners, strict=True) if o == 0)


def _tag(el: ET.Element) -> str:
    return el.tag.rsplit("}", 1)[-1].lower() if isinstance(el.tag, str) else ""


def _classes(el: ET.Element) -> list[str]:
    return (el.get("class") or "").split()


def _kind(el: ET.Element) -> str:
    """How the walker treats an element: block, inline, opaque (skipped) or break."""
    tag = _tag(el)
    lang = (el.get("lang") or "fr").lower()
    if not tag or tag in _OPAQUE or "notypo" in _classes(el) or not lang.startswith("fr"):
        return "opaque"
    if tag == "a":
        text = "".join(el.itertext()).strip()
        href = el.get("href") or ""
        if text and (text in (href, href.removeprefix("mailto:")) or LINKLIKE.fullmatch(text)):
            return "opaque"
    if tag == "br":
        return "break"
    return "block" if tag in _BLOCK else "inline"


_Slot = tuple[ET.Element, str, ET.Element | None, bool]  # element, "text"/"tail", parent, nowrap


def _walk(el: ET.Element, nowrap: bool, buf: _Buffer, bufs: list[_Buffer]) -> _Buffer:
    """Collect text slots into one buffer per block; code and the like become read-only marks.

    `nowrap` marks slots inside <sup>, <sub> or a nohyphen span, where no markup is added.
    """
    nowrap = nowrap or _tag(el) in ("sup", "sub") or "nohyphen" in _classes(el)
    buf.slot(el, "text", None, nowrap)
    for child in el:
        kind = _kind(child)
        if kind == "block":
            bufs += [buf, _walk(child, nowrap, _Buffer(), bufs)]
            buf = _Buffer()
        elif kind == "inline":
            buf = _walk(child, nowrap, buf, bufs)
        else:
            buf.add("\n" if kind == "break" else OBJ, -1)
        buf.slot(child, "tail", el, nowrap)
    return buf


def _enrich(buf: _Buffer, options: TypographyOptions) -> None:
    """Add <sup> to ordinals and nohyphen spans, within single slots, outside protected text."""
    s, owners, found = buf.text(), buf.owners, dict[int, list[re.Match[str]]]()
    spans = protected(s)
    for m in _ENRICH.finditer(s):
        owner = owners[m.start()]
        if (
            (options.superscript_ordinals if m["ord"] else options.nohyphen_spans)
            and owner >= 0
            and not buf.slots[owner][3]
            and set(owners[m.start() : m.end()]) == {owner}
            and not spans.hits(*m.span())
        ):
            found.setdefault(owner, []).append(m)
    # Where each slot starts, and the elements to add, gathered per container and inserted once
    # at the end: looking them up per slot was quadratic in a block's number of elements.
    bases: dict[int, int] = {}
    for i, owner in enumerate(owners):
        bases.setdefault(owner, i)
    # id(container) → (container, elements to put first, id(child) → elements to put after it)
    changes: dict[int, tuple[ET.Element, list[ET.Element], dict[int, list[ET.Element]]]] = {}
    for owner, matches in found.items():
        el, attr, parent, _ = buf.slots[owner]
        base, text, new, pos = bases[owner], getattr(el, attr), list[ET.Element](), 0
        for m in matches:
            start, end = m.start() - base, m.end() - base
            cut = start + len(m["ord"].rstrip("erdns")) if m["ord"] else start
            child = ET.Element("sup") if m["ord"] else ET.Element("span", {"class": "nohyphen"})
            child.text = text[cut:end]
            if new:
                new[-1].tail = text[pos:cut] or None
            else:
                setattr(el, attr, text[:cut] or None)
            new.append(child)
            pos = end
        new[-1].tail = text[pos:] or None
        if parent is None:  # el's own text: the new elements come before its children
            changes.setdefault(id(el), (el, [], {}))[1].extend(new)
        else:  # el's tail: they come right after el in its parent
            changes.setdefault(id(parent), (parent, [], {}))[2][id(el)] = new
    for container, first, after in changes.values():
        children = list(first)
        for child in container:
            children.append(child)
            children.extend(after.get(id(child), ()))
        container[:] = children


def typeset_tree(root: ET.Element, options: TypographyOptions = DEFAULT) -> None:
    """Apply French typography in place to every text node (element.text and element.tail) of an
    xml.etree tree such as Python-Markdown's, walking in document order and carrying the
    previous text across inline elements of one block, never touching: the contents of code,
    pre, kbd, samp, var, script, style, math (and elements with class "notypo" or a non-French
    lang); attribute values; text of <a> elements that is itself a URL or an e-mail address;
    URLs, e-mail addresses, times, Markdown/HTML syntax left in text.

    Also makes ordinals superscript (1er → 1<sup>er</sup>, after normalising 1ère → 1re) and
    wraps inclusive words (chef·fe·s) and acronyms (QPV, REP+) in <span class="nohyphen">, so
    the stylesheet can forbid hyphenation inside them. Running it twice changes nothing.
    """
    if _kind(root) in ("opaque", "break"):
        return
    bufs: list[_Buffer] = []
    bufs.append(_walk(root, False, _Buffer(), bufs))
    for buf in bufs:
        _typeset_buffer(buf, options)
        texts: list[list[str]] = [[] for _ in buf.slots]
        for c, o in zip(buf.chars, buf.owners, strict=True):
            if o >= 0:
                texts[o].append(c)
        for (el, attr, _, _), chars in zip(buf.slots, texts, strict=True):
            if "".join(chars) != (getattr(el, attr) or ""):
                setattr(el, attr, "".join(chars))
        _enrich(buf, options)


def typeset_markup(text: str, options: TypographyOptions = DEFAULT) -> Markup:
    """For Jinja templates: escape `text` as HTML, apply the typesetting rules and return Markup
    (with <sup> for ordinals and nohyphen spans), so front-matter strings (titles, chapô, names)
    get the same treatment as the body. A Markup argument is taken as already-safe XHTML and
    typeset as a tree; if it does not parse as XML it is returned unchanged.
    """
    if isinstance(text, Markup):
        try:
            root = ET.fromstring(f"<span>{text}</span>")
        except ET.ParseError:
            return text
    else:
        root = ET.Element("span")
        root.text = str(text)
    typeset_tree(root, options)
    inner = str(escape(root.text or "")) + "".join(ET.tostring(c, "unicode") for c in root)
    return Markup(inner)
