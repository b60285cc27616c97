"""Jinja stage: a validated sheet and its HTML body → a complete HTML page for WeasyPrint.

Templates come only from the project's and recueil's template folders; autoescape is on and
undefined names fail loudly. Content is always data passed to a template, never a template.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from recueil.core.diagnostics import Diagnostic, error
from recueil.markup.fragment import GOTO, VIRTUAL_ROOT
from recueil.markup.typography import TypographyOptions, typeset_markup, typeset_text
from recueil.render import template_text
from recueil.sources.project import Project

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
NBSP, NNBSP = "\u00a0", "\u202f"


#: distinct strings typeset once per environment; beyond, the memo starts again (bounded memory)
MEMO_SIZE = 50_000


def make_environment(
    template_dirs: tuple[Path, ...], language: str, typography: TypographyOptions
) -> jinja2.Environment:
    """A sandboxed-enough Jinja environment with recueil's filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # an environment lives as long as one state of the project (a change of template
        # makes a new one): no looking at the files' dates on every page served
        auto_reload=False,
    )
    french = language.lower().startswith("fr")

    known: dict[str, Markup] = {}

    def typo(value: Any) -> Markup:
        # a collection prints each title several times (contents, divider, indexes) and the
        # frame is rendered at least twice: typeset each distinct string once
        text = str(value)
        if text not in known:
            if len(known) >= MEMO_SIZE:  # a long-lived server sees every visitor's query
                known.clear()
            known[text] = typeset_markup(text, typography) if french else escape(text)
        return known[text]

    plain: dict[str, Markup] = {}

    def typeset_value(value: Any) -> Any:
        # what template_text wraps around every value printed as text: Markup is HTML already
        # typeset (or deliberately not); anything else is text, given the characters of French
        # typography but no added elements (a slug in a footer must stay one run of text)
        if isinstance(value, Markup) or value is None:
            return value
        text = str(value)
        if text not in plain:
            if len(plain) >= MEMO_SIZE:
                plain.clear()
            plain[text] = escape(typeset_text(text, typography))
        return plain[text]

    if french:
        template_text.enable(env, typography)
    env.filters.update(
        typeset_value=typeset_value,
        typo=typo,
        date_fr=date_fr,
        money=money,
        ages=ages,
        number=number,
        asset=asset_url,
    )
    env.globals.update(asset=asset_url, goto=lambda name: GOTO + name)
    return env


def asset_url(path: str) -> str:
    """Virtual URL of a project file or a style, served by the render stage's fetcher."""
    return VIRTUAL_ROOT + path.lstrip("/")


def date_fr(value: dt.date | None, day: bool = True) -> str:
    """'10 octobre 2022' with no-break spaces, as French typography wants; '1er' for the first."""
    if value is None:
        return ""
    month = MONTHS[value.month - 1]
    if not day:
        return f"{month}{NBSP}{value.year}"
    first = "1er" if value.day == 1 else str(value.day)
    return f"{first}{NBSP}{month}{NBSP}{value.year}"


def number(value: int) -> str:
    """12500 → '12 500' with narrow no-break spaces between groups of three digits."""
    return f"{value:,}".replace(",", NNBSP)


def money(value: int) -> str:
    """12500 → '12 500 €'."""
    return f"{number(value)}{NBSP}€"


def ages(value: tuple[int, int]) -> str:
    """(6, 11) → '6-11 ans'; a single age is written alone."""
    low, high = value
    return f"{low}{NBSP}ans" if low == high else f"{low}-{high}{NBSP}ans"


def render_page(env: jinja2.Environment, template: str, context: Mapping[str, Any]) -> str:
    """Render one page template with the given context."""
    return env.get_template(template).render(**context)


def template_error(exc: jinja2.TemplateError, rel: str, root: Path | None = None) -> Diagnostic:
    """A template failure as a diagnostic naming the template file and its line when known.

    A syntax error carries its place; an error while rendering (an undefined field, a
    missing include) is placed at the innermost template line of its traceback, and an
    undefined name is told with the expression the line holds (``'sheet.date' is
    undefined``), not as Jinja says it (``'mappingproxy object' has no attribute 'date'``).
    ``root``: the project, against which template paths are shown.
    """
    where = _template_frame(exc)
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
        where = (exc.filename, exc.lineno)
    message = exc.message or exc.__class__.__name__
    if isinstance(exc, jinja2.TemplateNotFound):
        message = f"template '{exc.name}' not found in the template folders"
    if where is None:
        return error(rel, None, f"template error: {message}")
    filename, line = where
    if isinstance(exc, jinja2.UndefinedError):
        message = _undefined(message, _source_line(filename, line))
    shown = Path(filename)
    if root is not None and shown.resolve().is_relative_to(root):
        shown = shown.resolve().relative_to(root)
    return error(shown.as_posix(), line, f"template error while rendering {rel}: {message}")


def _template_frame(exc: BaseException) -> tuple[str, int] | None:
    """File and line of the innermost template frame of a rendering error, if any.

    Jinja rewrites tracebacks so that template code shows as frames of the template file.
    """
    found = None
    trace = exc.__traceback__
    while trace is not None:
        filename = trace.tb_frame.f_code.co_filename
        if not filename.endswith(".py") and Path(filename).is_file():
            found = (filename, trace.tb_lineno)
        trace = trace.tb_next
    return found


def _source_line(filename: str, line: int) -> str:
    try:
        return Path(filename).read_text(encoding="utf-8").splitlines()[line - 1]
    except (OSError, UnicodeDecodeError, IndexError):
        return ""


_NO_ATTRIBUTE = re.compile(r"^'?(.+?)'? has no (?:attribute|element) '?([^']*)'?$")


def _undefined(message: str, source: str) -> str:
    """Jinja's "'dict object' has no attribute 'x'" said with the expression of the line."""
    found = _NO_ATTRIBUTE.match(message)
    if found is None:
        return f"{message} (a name the page is not given)" if "is undefined" in message else message
    owner, name = found[1].rsplit(".", 1)[-1], found[2]
    use = re.search(rf"([A-Za-z_][\w.]*)\.{re.escape(name)}\b", source)
    key = re.search(rf"""([A-Za-z_][\w.]*)\[\s*(['"]){re.escape(name)}\2\s*\]""", source)
    expression = f"{use[1]}.{name}" if use else f"{key[1]}['{name}']" if key else name
    if expression.startswith("sheet."):
        return (
            f"'{expression}' is undefined: this sheet has no field '{name}' (make the field "
            f"required in its kind, or test '{expression} is defined' in the template)"
        )
    if owner in ("mappingproxy object", "dict object"):
        return f"'{expression}' is undefined: no field '{name}' there"
    return f"'{expression}' is undefined: {owner} has no attribute '{name}'"


def typography_options(project: Project) -> TypographyOptions:
    """The typography options the settings ask for."""
    return TypographyOptions(narrow_everywhere=project.settings.narrow_nbsp_everywhere)
