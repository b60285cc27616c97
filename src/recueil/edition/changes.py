"""What changed between two editions: sheets added, removed, changed, and the pages to reprint.

Both sides are manifests, so two editions can be compared years later without their sources.
A sheet has *changed* when its content changed: its source file or a file it shows (images).
A page must be *reprinted* when what is printed on it changed; manifests record one fingerprint
per page of each collection: for a sheet's page, what the sheet looks like (its inputs and every
file its render read, not the edition label of its footer), its place in the sheet and the page
number printed on it; for a generated page (contents, dividers, indexes, colophon), its text
and images. Pages are compared position by position: a sheet inserted in the middle moves every
later page, and a bound collection must then reprint all of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from recueil.render.template import date_fr

Range = tuple[int, int]


@dataclass(frozen=True)
class SheetChange:
    """A sheet added, removed or changed."""

    slug: str
    title: str


@dataclass(frozen=True)
class Reprint:
    """The pages of one collection to print again (1-based page numbers of the PDF)."""

    collection: str
    title: str
    pages: tuple[Range, ...]
    labels: tuple[tuple[str, str], ...]
    total: int
    previous_total: int | None  # None: the collection is new in this edition


@dataclass
class Changes:
    """The difference between an edition and the one before it."""

    previous: str
    current: str
    added: list[SheetChange] = field(default_factory=list)
    removed: list[SheetChange] = field(default_factory=list)
    changed: list[SheetChange] = field(default_factory=list)
    reprints: list[Reprint] = field(default_factory=list)
    collections_removed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when nothing at all differs."""
        return not (
            self.added
            or self.removed
            or self.changed
            or self.collections_removed
            or any(r.pages for r in self.reprints)
        )


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> Changes:
    """Compare two manifests (the older first)."""
    changes = Changes(str(before["version"]), str(after["version"]))
    old = {s["slug"]: s for s in before["sheets"]}
    new = {s["slug"]: s for s in after["sheets"]}
    changes.added = [SheetChange(s, new[s]["title"]) for s in new if s not in old]
    changes.removed = [SheetChange(s, old[s]["title"]) for s in old if s not in new]
    changes.changed = [
        SheetChange(s, new[s]["title"])
        for s in new
        if s in old and new[s]["content_sha256"] != old[s]["content_sha256"]
    ]
    old_collections = {c["name"]: c for c in before["collections"]}
    for collection in after["collections"]:
        previous = old_collections.get(collection["name"])
        prints: list[str] = collection["page_fingerprints"]
        labels: list[str] = collection["page_labels"]
        if previous is None:
            pages = tuple(_ranges(range(len(prints))))
        else:
            was: list[str] = previous["page_fingerprints"]
            pages = tuple(_ranges(i for i, p in enumerate(prints) if i >= len(was) or was[i] != p))
        changes.reprints.append(
            Reprint(
                collection["name"],
                collection["title"],
                tuple((a + 1, b + 1) for a, b in pages),
                tuple((labels[a], labels[b]) for a, b in pages),
                len(prints),
                None if previous is None else len(previous["page_fingerprints"]),
            )
        )
    names = {c["name"] for c in after["collections"]}
    changes.collections_removed = [n for n in old_collections if n not in names]
    return changes


def _ranges(indexes: Any) -> list[Range]:
    """Consecutive indexes grouped into (first, last) runs."""
    runs: list[Range] = []
    for index in indexes:
        if runs and runs[-1][1] == index - 1:
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    return runs


def format_ranges(ranges: Sequence[tuple[Any, Any]], dash: str = "–") -> str:
    """``[(3, 5), (9, 9)]`` → ``3–5, 9`` (page numbers or printed labels such as ``iii``)."""
    return ", ".join(str(a) if a == b else f"{a}{dash}{b}" for a, b in ranges)


def _count(ranges: Sequence[Range]) -> int:
    return sum(b - a + 1 for a, b in ranges)


def as_text(changes: Changes) -> str:
    """The comparison for the terminal (English, like the rest of the command line)."""
    lines = [f"changes from edition {changes.previous} to {changes.current}"]
    for label, items in (
        ("added", changes.added),
        ("removed", changes.removed),
        ("changed", changes.changed),
    ):
        lines.append(f"{label}: {len(items)} sheet(s)")
        lines += [f"  {item.slug}  {item.title}" for item in items]
    for reprint in changes.reprints:
        if reprint.previous_total is None:
            lines.append(f"collection {reprint.collection}: new ({reprint.total} pages)")
            continue
        size = (
            ""
            if reprint.total == reprint.previous_total
            else f"; {reprint.previous_total} → {reprint.total} pages"
        )
        if reprint.pages:
            printed = format_ranges(reprint.labels, "-")
            lines.append(
                f"collection {reprint.collection}: reprint {_count(reprint.pages)} page(s): "
                f"PDF pages {format_ranges(reprint.pages, '-')} (printed {printed}){size}"
            )
        else:
            lines.append(f"collection {reprint.collection}: no page changed{size}")
    lines += [f"collection {name}: removed" for name in changes.collections_removed]
    return "\n".join(lines) + "\n"


def as_markdown(changes: Changes | None, manifest: Mapping[str, Any]) -> str:
    """``CHANGES.md``: the same facts, in French, for the people who publish and print."""
    title = manifest.get("title") or ""
    heading = f"# Édition {manifest['version']}" + (f" — {title}" if title else "")
    published = date_fr(dt.date.fromisoformat(manifest["date"]))
    lines = [heading, "", f"Publiée le {published}.", ""]
    if changes is None:
        lines += [
            f"Première édition : {len(manifest['sheets'])} fiche(s), "
            f"{len(manifest['collections'])} recueil(s).",
            "",
        ]
        return "\n".join(lines)
    lines += [f"Changements depuis l'édition {changes.previous}.", ""]
    for label, items in (
        ("Fiches ajoutées", changes.added),
        ("Fiches retirées", changes.removed),
        ("Fiches modifiées", changes.changed),
    ):
        lines.append(f"## {label} ({len(items)})")
        lines.append("")
        lines += [f"- {item.slug} : {item.title}" for item in items] or ["Aucune."]
        lines.append("")
    lines += ["## Pages à réimprimer", ""]
    for reprint in changes.reprints:
        if reprint.previous_total is None:
            lines.append(f"- {reprint.title} : nouveau recueil, {reprint.total} pages.")
        elif reprint.pages:
            printed = format_ranges(reprint.labels)
            lines.append(
                f"- {reprint.title} : {_count(reprint.pages)} page(s), pages du PDF "
                f"{format_ranges(reprint.pages)} (folios {printed})"
                + (
                    f" ; le recueil passe de {reprint.previous_total} à {reprint.total} pages."
                    if reprint.total != reprint.previous_total
                    else "."
                )
            )
        else:
            lines.append(f"- {reprint.title} : aucune page.")
    lines += [f"- Recueil retiré : {name}." for name in changes.collections_removed]
    lines.append("")
    return "\n".join(lines)
