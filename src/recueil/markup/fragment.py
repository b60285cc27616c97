"""What a converted body is: its HTML, its findings, and the names it lives under.

Shared by the conversion (``markdown.py``), the policy that checks every URL it keeps
(``html_policy.py``) and the render stage, which serves the virtual URLs and points links at the
anchors defined here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from recueil.core.diagnostics import Diagnostic
from recueil.core.limits import InputLimits
from recueil.core.remote_images import RemoteImages
from recueil.markup.typography import TypographyOptions

#: Virtual origin under which project files are served to WeasyPrint (never resolved on a network).
VIRTUAL_ROOT = "https://project.recueil.invalid/"
#: Links to other sheets point here; the assembler turns them into internal links in a
#: collection, and standalone sheets into links to the other sheet's PDF (see links.py).
GOTO = VIRTUAL_ROOT + "goto/"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")


@dataclass(frozen=True)
class MarkupOptions:
    """What the conversion depends on besides the Markdown text."""

    slug: str
    source_dir: Path
    project_dir: Path
    language: str = "fr"
    typography: TypographyOptions = field(default_factory=TypographyOptions)
    known_slugs: frozenset[str] = frozenset()
    #: caps on what the body may contain (the project's settings; defaults equal theirs)
    limits: InputLimits = field(default_factory=InputLimits)
    #: hosts images may be fetched from, and the images fetched (None: never the network)
    remote: RemoteImages | None = None
    #: folder that site-root image paths ('/img/x.jpg') start from (None: they are unavailable)
    site_root: Path | None = None


@dataclass
class Fragment:
    """The HTML of a body and what converting it found."""

    html: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    #: URLs of the remote images the body asked the network for, fetched or not (a render
    #: using one is not cached: a failed fetch may succeed at the next build)
    remote_images: list[str] = field(default_factory=list)
    #: files of the project the body names as images and that do not exist (the render cache
    #: records them: adding one of them makes the sheet render again)
    missing: list[Path] = field(default_factory=list)


def anchor_prefix(slug: str) -> str:
    """Prefix of every id inside a sheet, so ids stay unique in a collection."""
    return f"{slug}--"


def sheet_anchor(slug: str) -> str:
    """Id of a sheet's first element; collection links to a sheet target it."""
    return f"sheet-{slug}"


def slugify(text: str) -> str:
    """ASCII id from a heading: 'Évaluation et suites' → 'evaluation-et-suites'.

    Every id of a body and every fragment of its links ('#Évaluation-et-suites', '#fn:1') go
    through it, so a link written with accents, capitals or a percent-encoding finds its id.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "section"
