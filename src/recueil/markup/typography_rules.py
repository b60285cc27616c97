"""The rules of French typography, as regex edits over a block's text, and what they must not touch.

A rule proposes edits (start, end, replacement) on the text of a whole block; spans that are
protected (URLs, e-mail addresses, times, code, Markdown and HTML syntax) are never edited.
``typography.py`` applies the edits to text runs, trees and Jinja strings.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

NBSP = "\u00a0"  # no-break space: before ':', between a number and its unit, in dates
NNBSP = "\u202f"  # narrow no-break space: before ; ! ?, inside « », thousands separator
OBJ = "\ufffc"  # stands for an untouchable inline element (code, image) inside a block's text

_SP = "[ \\t\\u00a0\\u202f\\u2009\\u2007]"  # horizontal spaces only: newlines may be syntax
UPPER = "A-ZÀ-ÖØ-Þ"
_OPENING = "([{«“‘—–-/"
_FOLLOW = ")]}»”’\"'.,;:!?…*_<" + OBJ  # what may follow a punctuation sign typed without space
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
# line before consuming it; code spans and comments are only *opened* here, and protected finds
# where they close from an index (unclosed ones used to be searched for from every position).
_PROTECT = re.compile(
    rf"(?P<url>{_URL})|(?P<mail>(?<![\w.+-]){_MAIL})"
    r"|(?P<tick>`+)"  # a Markdown code span opens (closed in protected)
    r"|\x02[^\x02\x03]*\x03"  # Python-Markdown placeholders (stashed HTML, escapes)
    r"|(?P<comment><!--)"  # an HTML comment opens (closed in protected)
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
LINKLIKE = re.compile(rf"(?:mailto:)?(?:{_URL}|{_MAIL})")
_URL_TAIL = ".,;:!?»”’'\")]}…*_>"

Edit = tuple[int, int, str]
Rule = Callable[[str, "Spans", list[int]], Iterable[Edit]]


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


DEFAULT = TypographyOptions()


class Spans:
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


def protected(s: str) -> Spans:
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
            return Spans(spans)
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


def common(a: str, b: str) -> int:
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


Repl = str | Callable[[re.Match[str]], str | None]


def _sub(pattern: str, repl: Repl, whole: bool = False) -> Rule:
    """A rule from a regex and a replacement (a str template, or a function; None: no change).

    A `whole` rule (numbers, ordinals) skips matches that straddle two elements: '2006' followed
    by a footnote call <sup>1</sup> is a year and a note, not the number 20061.
    """
    compiled = re.compile(pattern)
    literal = repl if isinstance(repl, str) and "\\" not in repl else None

    def rule(s: str, spans: Spans, bounds: list[int]) -> Iterable[Edit]:
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


def _quotes(s: str, spans: Spans, bounds: list[int]) -> Iterable[Edit]:
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
def rules_for(options: TypographyOptions) -> tuple[Rule, ...]:
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
            _sub(
                rf"{number}(?!\d{{5}}{_SP}+[{UPPER}])[1-9]\d{{4,8}}(?![\w\-/]|\.\d)", _group, True
            ),
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
