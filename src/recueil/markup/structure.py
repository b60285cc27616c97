"""Measuring a body's structure against the limits, before and after Python-Markdown runs.

Python-Markdown recurses once per nesting level and spends seconds on large tables, nh3 and
WeasyPrint fail on deep nesting: the Markdown lines are measured first, then the HTML it made
(raw HTML can nest too), while listing what the sanitiser is about to drop so it is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from recueil.core.diagnostics import Diagnostic, error
from recueil.core.limits import InputLimits, url_scheme
from recueil.markup.html_policy import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    IMAGE_REFUSED,
    LINK_REFUSED,
    URL_SCHEMES,
    Locator,
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
_QUOTE_PREFIX = re.compile(r"^[ \t>]*")
_LIST_MARKER = re.compile(r"(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")


def too_deep(limits: InputLimits) -> str:
    return (
        f"nested more than {limits.max_nesting_depth} levels deep (blockquotes, lists or HTML "
        "elements): the sheet is refused (setting max_nesting_depth)"
    )


def table_too_large(limits: InputLimits, rows: int, columns: int) -> str:
    return (
        f"table of {rows} rows × {columns} columns is larger than the limit of "
        f"{limits.max_table_rows} rows × {limits.max_table_columns} columns: the sheet is "
        "refused (settings max_table_rows and max_table_columns)"
    )


def source_problem(body: str, body_line: int, rel: str, limits: InputLimits) -> Diagnostic | None:
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
            return error(rel, body_line + index, too_deep(limits))
        columns = _delimiter_columns(stripped) if index >= table_end else 0
        if columns and index > 0 and "|" in lines[index - 1]:
            rows = 1
            while index + rows < len(lines) and lines[index + rows].strip():
                rows += 1
            table_end = index + rows
            if rows > limits.max_table_rows or columns > limits.max_table_columns:
                return error(rel, body_line + index - 1, table_too_large(limits, rows, columns))
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


class Scanner(HTMLParser):
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

    def structure_problems(self, locator: Locator) -> list[Diagnostic]:
        """Errors for a body nested too deeply or holding a table too large."""
        problems: list[Diagnostic] = []
        while self.stack and not self.too_deep:  # tables left open at the end of the body
            self._pop()
        if self.too_deep:
            line = locator.line_of(self.deep_needle or "")
            problems.append(error(locator.rel, line, too_deep(self.limits)))
        table = self.big_table
        if table is not None:
            problems.append(
                error(
                    locator.rel,
                    locator.line_of(table.needle or "<table"),
                    table_too_large(self.limits, table.rows, table.columns),
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
                        self.found.append((value, LINK_REFUSED.format(value)))
                    else:
                        self.errors.append((value, IMAGE_REFUSED.format(value)))
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
