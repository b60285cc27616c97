"""French typography for what templates write themselves: their own words and the values they print.

Sheet bodies and the values passed through ``| typo`` were typeset, but the words of the
templates ("Carte d'identité de l'action") and values printed bare (a kind's label, a setting)
kept straight apostrophes and plain spaces before colons. Every text that reaches a page gets the
same typography, so this is done for every template, including a project's own, without asking
authors of templates to remember a filter:

- the literal text between HTML tags is typeset once, when the template is compiled (Jinja
  caches compiled templates, so it costs nothing per page);
- every ``{{ … }}`` printed as text (not inside a tag, so never an attribute, a URL, an id or a
  style) goes through :data:`FILTER`, which typesets plain strings and leaves Markup (the body,
  ``| typo``, macros) as it is.

Text inside ``<style>``, ``<script>``, ``<pre>``, ``<code>`` and HTML comments is never touched.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass

from jinja2 import Environment
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream

from recueil.markup.typography import TypographyOptions, typeset_text
from recueil.markup.typography_rules import OBJ

#: name of the filter wrapped around every value printed as text
FILTER = "typeset_value"
#: elements whose content is not prose
_OPAQUE = ("style", "script", "pre", "code")
#: elements that end the text before them (quotes and spaces are decided within a block)
_BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "body", "br", "dd", "div", "dl", "dt",
    "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
    "main", "nav", "ol", "p", "section", "table", "tbody", "td", "tfoot", "th", "thead",
    "title", "tr", "ul",
})  # fmt: skip
#: characters of preceding text kept as context
_CONTEXT = 40


@dataclass
class _Position:
    """Where the lexer is in the HTML, carried from one literal piece to the next."""

    in_tag: bool = False
    quote: str = ""
    in_comment: bool = False
    opaque: str = ""  # the opaque element we are inside, if any
    tag: str = ""  # name of the tag being read
    #: the text just before, in the same block: "n° {{ x }} : " needs to know a word precedes
    prev: str = ""

    @property
    def in_text(self) -> bool:
        return not (self.in_tag or self.in_comment or self.opaque)


class FrenchTemplateText(Extension):
    """Jinja extension: typeset literal text at compile time, mark values printed as text."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        options: TypographyOptions | None = getattr(self.environment, "typography_options", None)
        if options is None:
            yield from stream
            return
        position = _Position()
        for token in stream:
            if token.type == "data":
                yield Token(token.lineno, "data", _typeset_data(token.value, position, options))
            elif token.type == "variable_begin" and position.in_text:
                position.prev = (position.prev + OBJ)[-_CONTEXT:]  # stands for the value
                yield token
                yield Token(token.lineno, "lparen", "(")
                for inner in stream:
                    if inner.type == "variable_end":
                        yield Token(inner.lineno, "rparen", ")")
                        yield Token(inner.lineno, "pipe", "|")
                        yield Token(inner.lineno, "name", FILTER)
                        yield inner
                        break
                    yield inner
            else:
                yield token


def enable(env: Environment, options: TypographyOptions) -> None:
    """Typeset every template of ``env`` in French with ``options``."""
    env.typography_options = options  # type: ignore[attr-defined]
    env.add_extension(FrenchTemplateText)


def _typeset_data(data: str, position: _Position, options: TypographyOptions) -> str:
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            text = "".join(run)
            if text.strip():
                plain = html.unescape(text)
                typeset = typeset_text(plain, options, position.prev)
                position.prev = (position.prev + typeset)[-_CONTEXT:]
                text = html.escape(typeset, quote=False)
            out.append(text)
            run.clear()

    index = 0
    while index < len(data):
        char = data[index]
        if position.in_comment:
            out.append(char)
            if data.endswith("-->", 0, index + 1):
                position.in_comment = False
        elif position.in_tag:
            out.append(char)
            if position.quote:
                if char == position.quote:
                    position.quote = ""
            elif char in "\"'":
                position.quote = char
            elif char == ">":
                _close_tag(position)
            elif char.isalnum() or char in "/!-":
                position.tag += char.lower()
                if position.tag == "!--":
                    position.in_tag, position.in_comment = False, True
            elif position.tag:
                position.tag += " "  # the name is over: what follows are attributes
        elif char == "<" and _opens_tag(data, index):
            if position.opaque and not data.startswith(f"</{position.opaque}", index):
                out.append(char)  # a '<' inside a script or a style
            else:
                flush()
                out.append(char)
                position.in_tag, position.tag, position.quote = True, "", ""
        elif position.opaque:
            out.append(char)
        else:
            run.append(char)
        index += 1
    flush()
    return "".join(out)


def _opens_tag(data: str, index: int) -> bool:
    following = data[index + 1 : index + 2]
    return following.isalpha() or following in ("/", "!")


def _close_tag(position: _Position) -> None:
    name = position.tag.split(" ", 1)[0]
    position.in_tag, position.tag = False, ""
    if name.strip("/") in _BLOCKS:
        position.prev = ""  # a new block: nothing before it belongs to its text
    if name.startswith("/"):
        if name[1:] == position.opaque:
            position.opaque = ""
    elif name in _OPAQUE and not position.opaque:
        position.opaque = name
