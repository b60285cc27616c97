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
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup, escape

NBSP = "\u00a0"  # no-break space: before ':', between a number and its unit, in dates
NNBSP = "\u202f"  # narrow no-break space: before ; ! ?, inside « », thousands separator
_OBJ = "\ufffc"  # stands for an untouchable inline element (code, image) inside a block's text

_SP = "[ \\t\\u00a0\\u202f\\u2009\\u2007]"  # horizontal spaces only: newlines may be syntax
_UP = "A-ZÀ-ÖØ-Þ"
_OPENING = "([{«“‘—–-/"
_FOLLOW = ")]}»”’\"'.,;:!?…*_<" + _OBJ  # what may follow a punctuation sign typed without space
_MONTHS = (
    "(?:[jJ]anvier|[fF]évrier|[mM]ars|[aA]vril|[mM]ai|[jJ]uin|[jJ]uillet|[aA]oût"
    "|[sS]eptembre|[oO]ctobre|[nN]ovembre|[dD]écembre)"
)
_SYMBOL_UNIT = "(?:[%‰€$£]|k€|M€|Md€)"
_WORD_UNIT = (
    "(?:(?:euros?|EUR|°C|km²|km|m²|m³|cm|mm|kg|ha|min|h|m|g|Mo|Go|ko|pp?\\.)"
    "|(?:élève|enfant|famille|jeune|parent|participante?|bénéficiaire|personne|habitante?"
    "|adulte|enseignante?|bénévole|classe|école|collège|établissement|structure|partenaire"
    "|séance|atelier|session|place|semaine|jour|mois|an|année|heure|minute)s?"
    "(?:·[^\\W\\d_]+)*)(?![\\w])"
)

_URL = (
    r"(?:\b(?:https?|ftp)://|\bwww\.|\bmailto:)[^\s<>\"«»“”]+"
    r"|(?<![\w@./-])(?:[A-Za-z0-9-]+\.)+(?:fr|com|org|net|eu|info|gouv|io|edu)(?![\w-])"
    r"(?:/[^\s<>\"«»“”]*)?"
)
_MAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
# Every alternative must cost time proportional to what it matches, or fail within a bounded
# distance: finditer tries each position, so an alternative that scans to the end of the text
# before failing makes the pass quadratic (60 KB of '1', 'a-' or 'a <!--' took 10 to 20 s, in C,
# where no deadline can interrupt it). Hence: an e-mail address starts only where a run of its
# characters starts; a time starts only at the first digit of a number; the table row checks its
# line before consuming it; code spans and comments are only *opened* here, and _protected finds
# where they close from an index (unclosed ones used to be searched for from every position).
_PROTECT = re.compile(
    rf"(?P<url>{_URL})|(?P<mail>(?<![\w.+-]){_MAIL})"
    r"|(?P<tick>`+)"  # a Markdown code span opens (closed in _protected)
    r"|\x02[^\x02\x03]*\x03"  # Python-Markdown placeholders (stashed HTML, escapes)
    r"|(?P<comment><!--)"  # an HTML comment opens (closed in _protected)
    r"|</?[A-Za-z][^<>]*>"  # HTML tags and <autolinks>
    r"|&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);"
    r"|\\[!-/:-@\[-`{-~]"  # backslash escapes
    r"|!\[|\]\((?:[^()\n]|\([^()\n]*\))*\)"  # image opener, link target with its title
    r"|^[ ]{0,3}\[[^\]\n]+\]:"  # reference and footnote definitions
    r"|\{:[^{}\n]*\}|\{[ ]*[#.][^{}\n]*\}"  # attr_list
    r"|^(?=[^\n]*-)(?=[^\n]*[|:])[|: \t-]++$"  # table alignment row
    r"|(?<!\d)\d++:\d+(?::\d+)?|\b\d{1,2}h\d{2}\b",  # times and ratios
    re.M,
)
_URL_AT = re.compile(_URL)
_MAIL_AT = re.compile(_MAIL)
_MAIL_CHAR = re.compile(r"[\w.+-]")
_TICKS = re.compile("`+")
_LINKLIKE = re.compile(rf"(?:mailto:)?(?:{_URL}|{_MAIL})")
_URL_TAIL = ".,;:!?»”’'\")]}…*_>"

_ENRICH = re.compile(
    rf"(?<![\w.,/])(?<![\d{_UP}]-)(?P<ord>1(?:ers?|res?)|2(?:nde?s?|des?)|\d+es?|Ier|[IVXL]*[IVX]es?)"
    r"(?![\w])(?!-\d+(?![\w]))"
    r"|(?<![\w·])(?P<incl>[^\W\d_]+(?:·[^\W\d_]+)+)(?![\w·])"
    # two capitals or more: '[UP][UP0-9]*[UP][UP0-9]*' tried every split of a long run of capitals
    rf"|(?<![\w])(?P<acro>[{_UP}][0-9]*+[{_UP}][{_UP}0-9]*+\+{{0,2}})(?![\w+])"
)

_BLOCK = {
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p", "section",
    "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
_OPAQUE = {"code", "pre", "kbd", "samp", "var", "script", "style", "math", "svg", "textarea",
           "img", "input"}  # fmt: skip

Edit = tuple[int, int, str]
Rule = Callable[[str, "_Spans", list[int]], Iterable[Edit]]


@dataclass(frozen=True)
class TypographyOptions:
    """House choices. The defaults follow DOMAIN.md (U+00A0 before ':', U+202F before ; ! ? and
    inside « »); options exist because houses differ, and so that a project can switch off one
    rule that misfires on its texts without losing the others.
    """

    narrow_everywhere: bool = False  # U+202F before ':' too (« » already use it)
    group_thousands: bool = True  # 12500 → 12 500; off for texts full of numeric identifiers
    superscript_ordinals: bool = True  # trees only: 1er → 1<sup>er</sup>, XXIe → XXI<sup>e</sup>
    nohyphen_spans: bool = True  # trees only: acronyms, inclusive words in span.nohyphen


_DEFAULT = TypographyOptions()


class _Spans:
    """Sorted, disjoint spans of a text that no rule may change, queried by bisection.

    A rule asks once per edit (and the quote rule once per quote): a linear scan of the spans
    made a text full of both (`x` ; `x` ; …) quadratic. Disjoint spans sorted by start are also
    sorted by end, so the only candidate for a query is the last span starting before it.
    """

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self.starts = [a for a, _ in spans]
        self.ends = [b for _, b in spans]

    def hits(self, start: int, end: int) -> bool:
        """Does [start, end) touch a span? An insertion (start == end) only counts inside one."""
        i = bisect_left(self.starts, end if start < end else start) - 1
        return i >= 0 and self.ends[i] > start

    def covers(self, index: int) -> bool:
        """Is the character at `index` protected?"""
        i = bisect_right(self.starts, index) - 1
        return i >= 0 and self.ends[i] > index


def _protected(s: str) -> _Spans:
    """Spans of `s` that no rule may change; a URL loses the sentence punctuation after it.

    The spans are those of `_PROTECT.finditer` with code spans `(`+).*?(?<!`)\1(?!`)` and
    comments `<!--.*?-->` (re.S), whose closing is found here in time proportional to the text:
    a code span closes at the next run of exactly as many backticks (looked up in an index of
    the runs by length), a comment at the next '-->' (none if it is past the last one). A failed
    opening is retried one character further, as finditer would. An e-mail address right after
    another span (`\\_a@b.fr`, where the anchored pattern cannot start) is tried there too.
    """
    spans: list[tuple[int, int]] = []
    ticks: dict[int, list[int]] | None = None  # run length → starts of runs of that length
    last_close = s.rfind("-->")
    pos = 0
    while True:
        m: re.Match[str] | None = None
        if 0 < pos < len(s) and _MAIL_CHAR.match(s, pos - 1) and not _URL_AT.match(s, pos):
            m = _MAIL_AT.match(s, pos)
        m = m or _PROTECT.search(s, pos)
        if m is None:
            return _Spans(spans)
        start, end = m.span()
        if m.re is _MAIL_AT:
            pass
        elif m.group("tick") is not None:
            if ticks is None:
                ticks = {}
                for run in _TICKS.finditer(s):
                    ticks.setdefault(run.end() - run.start(), []).append(run.start())
            starts = ticks.get(end - start, [])
            i = bisect_right(starts, start)
            if i == len(starts):
                pos = start + 1
                continue
            end = starts[i] + end - start
        elif m.group("comment") is not None:
            if last_close < end:
                pos = start + 1
                continue
            end = s.find("-->", end) + 3
        pos = end
        if m.re is _MAIL_AT or m.group("url") or m.group("mail"):
            while s[end - 1] in _URL_TAIL:
                if s[end - 1] == ")" and s.count("(", start, end) >= s.count(")", start, end):
                    break
                end -= 1
        spans.append((start, end))


def _common(a: str, b: str) -> int:
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


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

    def apply(self, edits: list[Edit], spans: _Spans) -> bool:
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
            p = _common(old, new)  # keep what did not change, and who owns it
            q = _common(old[p:][::-1], new[p:][::-1])
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


Repl = str | Callable[[re.Match[str]], str | None]


def _sub(pattern: str, repl: Repl, whole: bool = False) -> Rule:
    """A rule from a regex and a replacement (a str template, or a function; None: no change).

    A `whole` rule (numbers, ordinals) skips matches that straddle two elements: '2006' followed
    by a footnote call <sup>1</sup> is a year and a note, not the number 20061.
    """
    compiled = re.compile(pattern)
    literal = repl if isinstance(repl, str) and "\\" not in repl else None

    def rule(s: str, spans: _Spans, bounds: list[int]) -> Iterable[Edit]:
        for m in compiled.finditer(s):
            if whole and _straddles(m, bounds):
                continue
            if literal is not None:  # Match.expand parses its template at every call
                new: str | None = literal
            else:
                new = m.expand(repl) if isinstance(repl, str) else repl(m)
            if new is not None:
                yield m.start(), m.end(), new

    return rule


def _straddles(m: re.Match[str], bounds: list[int]) -> bool:
    """Is there an element boundary strictly inside the match? (`bounds` is sorted.)"""
    i = bisect_right(bounds, m.start())
    return i < len(bounds) and bounds[i] < m.end()


def _quotes(s: str, spans: _Spans, bounds: list[int]) -> Iterable[Edit]:
    """Straight double quotes → « » (“ ” when nested), tracking quotes already typeset.

    A quote opens after a space or an opening sign and before a non-space; otherwise it closes
    the innermost open quote. A closing quote with nothing open is left as typed (inches...).
    """
    stack: list[str] = []
    guillemets = 0  # how many « the stack holds ('«' in stack was a scan per quote)
    for i, ch in enumerate(s):
        if ch not in '"«»“”' or spans.covers(i):
            continue
        if ch in "«“":
            stack.append(ch)
            guillemets += ch == "«"
        elif ch == "»" and guillemets:
            while stack.pop() != "«":  # closes the innermost « and what was opened inside it
                pass
            guillemets -= 1
        elif ch == "”" and stack[-1:] == ["“"]:
            stack.pop()
        elif ch == '"':
            prev, nxt = s[i - 1 : i], s[i + 1 : i + 2]
            next_closes = not nxt or nxt.isspace() or nxt in _FOLLOW
            opening = False
            if prev in ("*", "_"):  # Markdown emphasis: decide from what follows
                opening = not next_closes
            elif not prev or prev.isspace() or prev in _OPENING:
                if next_closes and not stack:
                    continue  # a lone quote between spaces: nothing sensible to do
                opening = not next_closes
            if opening:
                stack.append("“" if stack else "«")
                guillemets += stack[-1] == "«"
                yield i, i + 1, stack[-1]
            elif stack:
                closed = stack.pop()
                guillemets -= closed == "«"
                yield i, i + 1, "»" if closed == "«" else "”"


def _apostrophe(m: re.Match[str]) -> str | None:
    """' → ’ after a letter or sign (elision, closing); ‘ before a word; never guillemets."""
    prev, nxt = m.string[m.start() - 1 : m.start()], m.string[m.end() : m.end() + 1]
    if prev and not prev.isspace() and prev not in _OPENING:
        return "’"
    return "‘" if nxt.isalnum() else None


def _fix_ordinal(m: re.Match[str]) -> str | None:
    """1ère → 1re, 2ème/2ième → 2e, XXIème → XXIe (the Imprimerie nationale forms)."""
    number, suffix, plural = m.groups()
    if suffix in ("ère", "ere"):
        return f"{number}re{plural}" if number == "1" else None
    return None if number in ("1", "I") else f"{number}e{plural}"


_YEAR_BEFORE = re.compile(
    rf"\b(?:en|depuis|dès|années?|rentrée|printemps|été|automne|hiver|fin|début|avant|après"
    rf"|{_MONTHS}){_SP}+\Z",
    re.I,
)


def _group(m: re.Match[str]) -> str | None:
    """12500 → 12 500 (U+202F); a 4-digit number that reads as a year ('en 2022') is kept."""
    digits = m.group()
    if len(digits) == 4 and _YEAR_BEFORE.search(m.string[max(0, m.start() - 20) : m.start()]):
        return None
    head = len(digits) % 3 or 3
    return digits[:head] + "".join(NNBSP + digits[i : i + 3] for i in range(head, len(digits), 3))


def _space_before(space: str) -> Callable[[re.Match[str]], str | None]:
    """Replace the spaces before a high sign; insert one only if the sign ends a word."""

    def make(m: re.Match[str]) -> str | None:
        if m.end() - m.start() == 1:  # typed without space: is it punctuation at all?
            nxt = m.string[m.end() : m.end() + 1]
            if nxt == ":" or (nxt and not nxt.isspace() and nxt not in _FOLLOW):
                return None  # inside a word, an address or code: 'http:', 'a;b', 'a::b'
        return space + m.group()[-1]

    return make


@lru_cache(maxsize=8)
def _rules(options: TypographyOptions) -> tuple[Rule, ...]:
    """The rules, in an order that keeps them idempotent: a rule runs after those that insert
    spaces into the context it looks at (n° before numbers, high signs before grouping)."""
    after = r"(?<=[^\s(\[{«“‘!?;:])"  # a high sign needs a word (or closing sign) before it
    number = rf"(?<![\w.,\-/+#°º])(?<![°º]{_SP})"  # not inside an identifier, not after n°
    rules = [
        _sub(r"(?<!\.)\.\.\.(?!\.)", "…"),
        _sub(rf"(?<!\w)([nN][°º]|pp?\.|art\.|chap\.|vol\.|fig\.|§){_SP}*(?=\d)", r"\1" + NBSP),
        _sub(
            r"(?<![\w.,\-/])(\d+|[IVXL]*[IVX])(ère|ere|ième|ieme|ème|eme)(s?)(?!\w)",
            _fix_ordinal,
            whole=True,
        ),
        _sub("'", _apostrophe),
        _quotes,
        _sub(rf"«{_SP}*(?=\S)", "«" + NNBSP),
        _sub(rf"(?<=\S){_SP}*»", NNBSP + "»"),
        _sub(rf"{after}{_SP}*[;!?]", _space_before(NNBSP)),
        _sub(rf"{after}{_SP}*:", _space_before(NNBSP if options.narrow_everywhere else NBSP)),
    ]
    if options.group_thousands:
        rules += [  # the postal-code guard: 5 digits then a capitalised town name
            _sub(rf"{number}(?!\d{{5}}{_SP}+[{_UP}])[1-9]\d{{4,8}}(?![\w\-/]|\.\d)", _group, True),
            _sub(rf"{number}[1-9]\d{{3}}(?={_SP}*{_SYMBOL_UNIT}|{_SP}+{_WORD_UNIT})", _group, True),
            _sub(
                rf"{number}(\d{{1,3}})(?:{_SP}\d{{3}})+(?!\w|\.\d)",
                lambda m: re.sub(_SP, NNBSP, m.group()),
                whole=True,
            ),
        ]
    return (
        *rules,
        _sub(rf"(?<=\d){_SP}+h{_SP}+(?=\d\d(?!\d))", f"{NBSP}h{NBSP}"),
        _sub(rf"(?<=\d){_SP}*(?={_SYMBOL_UNIT})|(?<=\d){_SP}+(?={_WORD_UNIT})", NBSP),
        _sub(rf"(?<![\w.,])(\d{{1,2}}|1er){_SP}+(?={_MONTHS}(?!\w))", r"\1" + NBSP),
        _sub(rf"(?<!\w)({_MONTHS}){_SP}+(?=\d{{4}}(?!\w))", r"\1" + NBSP),
    )


def _typeset_buffer(buf: _Buffer, options: TypographyOptions) -> None:
    s, spans, bounds = buf.text(), _protected(buf.text()), buf.bounds()
    for rule in _rules(options):
        if buf.apply(list(rule(s, spans, bounds)), spans):  # they move only when the text does
            s, spans, bounds = buf.text(), _protected(buf.text()), buf.bounds()


def typeset_text(text: str, options: TypographyOptions = _DEFAULT, prev: str = "") -> str:
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
        if text and (text in (href, href.removeprefix("mailto:")) or _LINKLIKE.fullmatch(text)):
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
            buf.add("\n" if kind == "break" else _OBJ, -1)
        buf.slot(child, "tail", el, nowrap)
    return buf


def _enrich(buf: _Buffer, options: TypographyOptions) -> None:
    """Add <sup> to ordinals and nohyphen spans, within single slots, outside protected text."""
    s, owners, found = buf.text(), buf.owners, dict[int, list[re.Match[str]]]()
    spans = _protected(s)
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


def typeset_tree(root: ET.Element, options: TypographyOptions = _DEFAULT) -> None:
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


def typeset_markup(text: str, options: TypographyOptions = _DEFAULT) -> Markup:
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
