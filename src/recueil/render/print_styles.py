"""The print-shop render of a sheet: the same page with edge backgrounds grown into the bleed.

The collection stage sets the boxes and draws crop marks on the assembled pages
(``collection/printshop.py``); what a render needs is only the extra stylesheet and the name of
the variant, which is part of the render's cache key.
"""

from __future__ import annotations

from recueil.render.template import asset_url

#: name of the sheet render variant (part of its cache key)
VARIANT = "print-shop"
#: stylesheet added to sheets and generated parts in the print-shop variant
STYLESHEET = "styles/print-shop.css"


def with_print_styles(html: str) -> str:
    """The same HTML page with the print-shop stylesheet added last (it wins over the others)."""
    link = f'<link rel="stylesheet" href="{asset_url(STYLESHEET)}">'
    head_end = html.find("</head>")
    if head_end < 0:
        raise ValueError("the page has no </head>: cannot add the print-shop stylesheet")
    return html[:head_end] + link + "\n" + html[head_end:]
