"""Front matter parsed once per content: a small cache of read_yaml results across builds.

Parsing YAML in pure Python (needed to know the line of every value and to refuse aliases) is
about 90 % of loading a corpus: 2 s for 400 sheets, paid by every build, even one where nothing
changed. Results are kept by the SHA-256 of the front matter text in one JSON file under
``build/.cache``; only texts that parse are kept (errors are always parsed again, so they are
reported). Validation against the kind still runs every time: it depends on the project.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

from recueil import __version__
from recueil.core.atomic import write_atomic
from recueil.core.yamlsafe import Locations, read_yaml

CACHE_FORMAT = 1


class ParsedFrontMatter:
    """read_yaml with memory: entries are loaded from and saved to one file."""

    def __init__(self, path: Path | None):
        self.path = path
        self.entries: dict[str, str] = {}
        self.used: set[str] = set()
        self.added = False
        if path is not None:
            try:
                stored = json.loads(path.read_text(encoding="utf-8"))
                if stored.get("format") == [CACHE_FORMAT, __version__]:
                    self.entries = {str(k): str(v) for k, v in stored["entries"].items()}
            except (OSError, ValueError, AttributeError, KeyError, TypeError):
                self.entries = {}

    def read(self, text: str) -> tuple[Any, Locations]:
        """Like read_yaml (same values, same YamlProblem), from the cache when known."""
        key = hashlib.sha256(text.encode()).hexdigest()
        self.used.add(key)
        known = self.entries.get(key)
        if known is not None:
            try:
                data, raw_locations = json.loads(known)
                return data, {k: (int(v[0]), int(v[1])) for k, v in raw_locations.items()}
            except (ValueError, TypeError, AttributeError, IndexError):
                pass  # a damaged entry is parsed again
        data, locations = read_yaml(text)
        self.entries[key] = json.dumps([data, locations], ensure_ascii=False)
        self.added = True
        return data, locations

    def save(self, prune: bool) -> None:
        """Write the entries back (with ``prune``, only those used by this load)."""
        if self.path is None or not (self.added or (prune and set(self.entries) - self.used)):
            return
        entries = {k: v for k, v in self.entries.items() if not prune or k in self.used}
        data = {"format": [CACHE_FORMAT, __version__], "entries": entries}
        # a read-only build folder only costs the parsing next time
        with contextlib.suppress(OSError):
            write_atomic(self.path, json.dumps(data, ensure_ascii=False).encode())
