"""One-pass rendering of a collection: every sheet in one HTML document, TOC by target-counter().

This is what tools like mkdocs-with-pdf do. recueil does not publish it; it serves as the
baseline of the benchmark and as an independent oracle for page numbers in tests, since
WeasyPrint computes the TOC's numbers itself there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markupsafe import escape

from recueil.markup.fragment import sheet_anchor
from recueil.render.sheet_renderer import SheetRenderer
from recueil.sources.sheet import Sheet

_ARTICLE = re.compile(r"<article\b.*</article>", re.DOTALL)
_BODY = re.compile(r"<body([^>]*)>")

ONEPASS_CSS = """
.onepass-toc { break-after: page; }
.onepass-toc a { display: block; border: none; }
.onepass-toc a::after { content: leader('.') target-counter(attr(href), page); }
article.sheet { break-before: page; }
"""


def onepass_html(renderer: SheetRenderer, sheets: Sequence[Sheet], title: str) -> str:
    """One HTML document: a contents page, then every sheet's article, each on a new page."""
    articles: list[str] = []
    head = ""
    body_attributes = ""
    for sheet in sheets:
        page, _ = renderer.page(sheet)
        if not head:
            head = page[: page.index("<body")]
            match = _BODY.search(page)
            body_attributes = match.group(1) if match else ""
        article = _ARTICLE.search(page)
        if article is None:
            raise ValueError(f"template of {sheet.slug} has no <article> element")
        # each sheet keeps its theme colour, which the template sets on <body>
        colour = re.search(r"--theme: (#[0-9A-Fa-f]{6})", page)
        style = f' style="--theme: {colour.group(1)}"' if colour else ""
        articles.append(article.group(0).replace("<article ", f"<article{style} ", 1))
    entries = "\n".join(f'<a href="#{sheet_anchor(s.slug)}">{escape(s.title)}</a>' for s in sheets)
    head = re.sub(r"<title>.*?</title>", f"<title>{escape(title)}</title>", head, flags=re.S)
    head = head.replace("</head>", f"<style>{ONEPASS_CSS}</style></head>")
    return (
        f'{head}<body{body_attributes}>\n<nav class="onepass-toc"><h1>Sommaire</h1>\n'
        f"{entries}</nav>\n" + "\n".join(articles) + "\n</body></html>"
    )
