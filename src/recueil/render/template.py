"""Jinja stage: a validated sheet and its HTML body → a complete HTML page for WeasyPrint.

Templates come only from the project's and recueil's template folders; autoescape is on and
undefined names fail loudly. Content is always data passed to a template, never a template.
"""

from __future__ import annotations

import datetime as dt
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
    )
    french = language.lower().startswith("fr")

    known: dict[str, Markup] = {}

    def typo(value: Any) -> Markup:
        # a collection prints each title several times (contents, divider, indexes) and the
        # frame is rendered at least twice: typeset each distinct string once
        text = str(value)
        if text not in known:
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


def template_error(exc: jinja2.TemplateError, rel: str) -> Diagnostic:
    """A template failure as a diagnostic naming the template and its line when known."""
    name = getattr(exc, "filename", None) or getattr(exc, "name", None)
    line = getattr(exc, "lineno", None)
    if name:
        return error(str(name), line, f"template error while rendering {rel}: {exc.message}")
    return error(rel, None, f"template error: {exc.message}")


def typography_options(project: Project) -> TypographyOptions:
    """The typography options the settings ask for."""
    return TypographyOptions(narrow_everywhere=project.settings.narrow_nbsp_everywhere)
