"""The page counts of a collection's generated parts at its last assembly: the frame's first guess.

The frame's page numbers depend on its own parts' lengths (a contents of five pages pushes
every sheet by five), so the frame is laid out until those lengths are stable (assemble.py).
Without a better guess the first pass assumes one page per part and is laid out only to learn
the real lengths: a second pass, with the overlay, follows nearly always. After an edit that
changes a sheet's page count (an author's preview, a build), the parts' lengths are almost
always those of the last assembly: with them as the first guess, the first pass is usually the
last, and the overlay is laid out beside it. The saving is one layout of the contents and the
indexes (at the national collection of the sample, 1.2 s of the 2.8 s its frame took).
A visitor's selections (serve/tasks.py) share one record, the command line's: their parts
have the same lengths from one to the next but for a long contents.

A guess never decides the result: the loop still stops only when the frame it lays out has
the lengths the plan assumed. It is a cache file, read and written by any process; a missing,
damaged or foreign file is no guess. Editions do not use it (assemble.py): their PDF must come
from the sources alone, whatever the build folder remembers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from recueil.core.atomic import write_atomic
from recueil.render.cache import digest

__all__ = ["remember", "remembered"]

#: the cache's folder for these records (in the build folder's cache)
FOLDER = "part-counts"


def _record(cache_dir: Path, collection: str, printed: bool) -> Path:
    variant = "print" if printed else "screen"
    return cache_dir / FOLDER / f"{digest('part-counts', collection, variant)[:32]}.json"


def remembered(cache_dir: Path, collection: str, printed: bool, parts: set[str]) -> dict[str, int]:
    """The parts' page counts at the last assembly of ``collection`` (its source file), the
    print-shop variant's when ``printed``, among ``parts`` (those the collection may have);
    {} when none fits (the collection lost a divider or an index since: one page each is as
    good). A part the record lacks was not made last time (no editorial written, a group
    without a divider): it is guessed absent, as it most likely still is."""
    try:
        found = json.loads(_record(cache_dir, collection, printed).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(found, dict) or not found or not set(found) <= parts:
        return {}
    if not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in found.values()):
        return {}
    return {str(part): int(n) for part, n in found.items()}


def remember(cache_dir: Path, collection: str, printed: bool, counts: Mapping[str, int]) -> None:
    """Keep ``counts`` for the next assembly (written only when they changed: most assemblies
    find the lengths they started from); a build folder that cannot be written keeps nothing
    (the next assembly starts from one page a part, as without this record)."""
    path = _record(cache_dir, collection, printed)
    data = json.dumps(dict(sorted(counts.items()))).encode("utf-8")
    try:
        if not path.is_file() or path.read_bytes() != data:
            write_atomic(path, data)
    except OSError:
        return
