"""The generated parts of a collection as several documents: split, laid out apart, measured.

Laid out as one document, the contents, dividers and indexes of 1,000 sheets took 45 s and
550 MB of memory in one process, and a build lays them out twice (once to measure the parts,
once with the final numbers). Every part starts on a new page and carries its own anchors, so
the parts are independent documents: they are laid out on several cores at once, each worker
returns its memory when it ends, and a part whose HTML did not change between two passes (the
cover, the editorial, the colophon...) is reused instead of laid out again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from recueil.core.diagnostics import Diagnostic
from recueil.render.weasy import RenderResult

#: a part starts a line of the frame template (templates/collection.html)
_PART = re.compile(r'^<section class="part[ "]', re.MULTILINE)
_BODY = re.compile(r"<body[^>]*>")
#: the document's title in its head
_TITLE = re.compile(r"<title>.*?</title>", re.DOTALL)


def split_parts(html: str, pieces: int) -> list[str]:
    """The frame as about ``pieces`` documents of whole consecutive parts, of similar sizes.

    Each document repeats the head (styles, language) and the body's attributes; only the
    first keeps the title: the merge takes the collection's metadata from the first alone, and
    a part that is the same in every collection (the reading guide) is then the same document
    in each, laid out once and found in the render cache by the next (a visitor's selection
    differs from the last by its title). A template whose body holds anything but parts (or
    fewer than two) is left as one document.
    """
    body = _BODY.search(html)
    end = html.rfind("</body>")
    if body is None or end < body.end():
        return [html]
    head, inner, tail = html[: body.end()], html[body.end() : end], html[end:]
    starts = [match.start() for match in _PART.finditer(inner)]
    if len(starts) < 2 or inner[: starts[0]].strip():
        return [html]
    sections = [inner[a:b] for a, b in zip(starts, [*starts[1:], len(inner)], strict=True)]
    target = len(inner) / max(1, pieces)
    groups: list[list[str]] = [[]]
    size = 0
    for section in sections:
        if groups[-1] and size + len(section) / 2 > target:
            groups.append([])
            size = 0
        groups[-1].append(section)
        size += len(section)
    untitled = _TITLE.sub("", head, count=1)
    return [(untitled if n else head) + "".join(group) + tail for n, group in enumerate(groups)]


@dataclass(frozen=True)
class Frame:
    """The laid-out documents of the generated parts, in order."""

    documents: tuple[RenderResult, ...]

    def parts(self, part_ids: set[str]) -> dict[str, tuple[int, int, int]]:
        """Each part → (document, first page in it, page count), from where anchors landed."""
        found: dict[str, tuple[int, int, int]] = {}
        for number, document in enumerate(self.documents):
            starts = sorted(
                (page, name) for name, page in document.anchors.items() if name in part_ids
            )
            ends = [page for page, _ in starts[1:]] + [document.page_count]
            for (page, name), end in zip(starts, ends, strict=True):
                found[name] = (number, page, end - page)
        return found

    def counts(self, part_ids: set[str]) -> dict[str, int]:
        """Pages of each part."""
        return {name: count for name, (_, _, count) in self.parts(part_ids).items()}

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """What WeasyPrint said about any of the documents."""
        return [d for document in self.documents for d in document.diagnostics]


def frame_of(rendered: Mapping[str, RenderResult], names: Sequence[str]) -> Frame:
    """The frame made of the documents ``names`` (in order) among ``rendered``."""
    return Frame(tuple(rendered[name] for name in names))
