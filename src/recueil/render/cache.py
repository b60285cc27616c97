"""Content-addressed cache of sheet renders, so a sheet is laid out once per change.

An entry is keyed by a hash of everything known before rendering that shapes the sheet (its
source, the templates its kind uses, the settings, its themes, the titles it links to, the
versions of recueil, WeasyPrint, Pango and pypdf). It also records the files the render read
(stylesheets, fonts, images) with their hashes, and the files it looked for and did not find
(a missing pictogram or image, a default style the project does not override): the entry is
valid only while the files read are unchanged and those not found are still absent. Entries
are written file by file atomically, the facts file last, and every read checks the PDF's hash,
so a truncated or altered entry is detected, dropped and rebuilt.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import hashlib
import json
import shutil
import sys
from dataclasses import asdict, fields
from importlib import metadata
from pathlib import Path
from typing import Any

from recueil import __version__
from recueil.core.atomic import write_atomic
from recueil.core.cache_prune import mark_used, note_written
from recueil.core.diagnostics import Diagnostic, Level
from recueil.render.weasy import RenderResult

CACHE_FORMAT = 1
#: the hash recorded for a file that cannot be read
MISSING = "missing"


@functools.cache
def versions() -> dict[str, str]:
    """Versions of everything that can change a PDF's bytes (read without importing
    WeasyPrint or pypdf: the web server computes keys but lays nothing out, and the two
    weigh some 40 MB in its memory)."""
    raw = _pango_version()
    return {
        "recueil": __version__,
        "weasyprint": metadata.version("weasyprint"),
        "pango": f"{raw // 10000}.{raw // 100 % 100}.{raw % 100}",
        "pypdf": metadata.version("pypdf"),
        "python": sys.version.split()[0],
        "cache": str(CACHE_FORMAT),
    }


def _pango_version() -> int:
    """The version of the Pango library WeasyPrint lays out with (the same shared library)."""
    found = ctypes.util.find_library("pango-1.0")
    if found is None:  # not on the usual search path: ask WeasyPrint how it found it
        from weasyprint.text.ffi import pango

        return int(pango.pango_version())
    return int(ctypes.CDLL(found).pango_version())


def digest(*parts: bytes | str) -> str:
    """SHA-256 of the parts, each length-prefixed so that boundaries matter."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()


class StoredRender(RenderResult):
    """A cached render whose PDF stays in its cache entry and is read each time it is asked for.

    A build keeps every sheet's render until its collections are assembled. Held in memory,
    their PDFs (some 90 KB a sheet) made the main process 90 MB larger at 1,000 sheets, and
    every worker forked from it after that started as large: memory counted three times over.
    The entry is content-addressed and written atomically; its hash is checked at every read.
    """

    path: Path
    sha256: str

    def __init__(self, result: RenderResult, path: Path, sha256: str) -> None:
        for item in fields(RenderResult):
            if item.name != "pdf":
                object.__setattr__(self, item.name, getattr(result, item.name))
        object.__setattr__(self, "path", path)  # the class is frozen, as RenderResult
        object.__setattr__(self, "sha256", sha256)

    @property
    def pdf(self) -> bytes:
        """The render's PDF, read from the cache (a few milliseconds, from the page cache)."""
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise CacheError(f"the cached render {self.path} is gone: {exc}") from exc
        if hashlib.sha256(data).hexdigest() != self.sha256:
            raise CacheError(f"the cached render {self.path} changed during the build")
        return data


def pdf_digest(result: RenderResult) -> str:
    """SHA-256 of a render's PDF: recorded for a stored render, which is not read for it."""
    if isinstance(result, StoredRender):
        return result.sha256
    return hashlib.sha256(result.pdf).hexdigest()


class CacheError(RuntimeError):
    """A cached render read during a build is no longer what it was (removed or altered)."""


class FileHashes:
    """SHA-256 of files, computed once per build (fonts are shared by every sheet)."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def __call__(self, path: str) -> str:
        if path not in self._known:
            try:
                self._known[path] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            except OSError:
                self._known[path] = MISSING
        return self._known[path]


class RenderCache:
    """Sheet renders stored under ``folder/<key[:2]>/<key>/``."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.hashes = FileHashes()
        self.hits = 0
        self.misses = 0

    def _entry(self, key: str) -> Path:
        return self.folder / key[:2] / key

    def get(self, key: str) -> tuple[RenderResult, list[Diagnostic], bytes | None] | None:
        """The cached render, its diagnostics and standalone PDF; None when absent or invalid."""
        entry = self._entry(key)
        try:
            facts = json.loads((entry / "facts.json").read_text(encoding="utf-8"))
            pdf = (entry / "render.pdf").read_bytes()
            if hashlib.sha256(pdf).hexdigest() != facts["pdf_sha256"]:
                raise ValueError("render.pdf does not match its recorded hash")
            for path, expected in facts["dependencies"].items():
                if self.hashes(path) != expected:
                    self.misses += 1
                    return None
            # an entry written before absent files were recorded may hold errors about a file
            # added since: it is rendered again (once), like an entry whose files changed
            absent = facts.get("missing")
            if absent is None or any(self.hashes(path) != MISSING for path in absent):
                self.misses += 1
                return None
            standalone = None
            if facts.get("standalone_sha256"):
                candidate = (entry / "standalone.pdf").read_bytes()
                if hashlib.sha256(candidate).hexdigest() == facts["standalone_sha256"]:
                    standalone = candidate
            result = StoredRender(
                RenderResult(
                    pdf=b"",
                    page_count=int(facts["page_count"]),
                    anchors={str(k): int(v) for k, v in facts["anchors"].items()},
                    diagnostics=[_diagnostic(d) for d in facts["diagnostics"]],
                    dependencies=tuple(facts["dependencies"]),
                    missing=tuple(absent),
                ),
                entry / "render.pdf",
                facts["pdf_sha256"],
            )
        except FileNotFoundError:
            self.misses += 1
            return None
        except (OSError, ValueError, KeyError, TypeError):
            # corrupt or truncated: never use it, remove it so it is rebuilt
            shutil.rmtree(entry, ignore_errors=True)
            self.misses += 1
            return None
        self.hits += 1
        mark_used(entry / "facts.json")  # what `recueil build` prunes by (cache_prune.py)
        return result, list(result.diagnostics), standalone

    def put(
        self,
        key: str,
        result: RenderResult,
        standalone: bytes | None = None,
        page: str | None = None,
    ) -> StoredRender:
        """Store a render (its standalone PDF, its HTML page); the facts file is written last.
        What is returned is the same render, its PDF left in the cache (StoredRender).

        The page is what the web catalogue shows of the sheet: kept beside its render, it is
        made once per change, by the build, not by the first visitor."""
        entry = self._entry(key)
        write_atomic(entry / "render.pdf", result.pdf)
        if page is not None:
            write_atomic(entry / "page.html", page.encode())
        facts: dict[str, Any] = {
            "page_count": result.page_count,
            "anchors": result.anchors,
            "diagnostics": [_plain(d) for d in result.diagnostics],
            "dependencies": {path: self.hashes(path) for path in result.dependencies},
            "missing": sorted(result.missing),
            "pdf_sha256": hashlib.sha256(result.pdf).hexdigest(),
        }
        if standalone is not None:
            write_atomic(entry / "standalone.pdf", standalone)
            facts["standalone_sha256"] = hashlib.sha256(standalone).hexdigest()
        write_atomic(entry / "facts.json", json.dumps(facts, sort_keys=True).encode())
        note_written(entry / "facts.json")
        return StoredRender(result, entry / "render.pdf", facts["pdf_sha256"])

    def standalone(self, key: str) -> tuple[Path, str, int] | None:
        """The standalone PDF of a current entry, its recorded SHA-256 and its page count,
        without reading it.

        What the web catalogue sends: the file is served as it is, the hash is its ETag; the
        render itself is not read or hashed again (``get`` does that for the collection, which
        copies its pages). Current means as in ``get``: the files it read are unchanged."""
        entry = self._entry(key)
        try:
            facts = json.loads((entry / "facts.json").read_text(encoding="utf-8"))
            sha = facts.get("standalone_sha256")
            absent = facts.get("missing")
            if not sha or absent is None:
                return None
            read = facts["dependencies"].items()
            if any(self.hashes(path) != expected for path, expected in read):
                return None
            if any(self.hashes(path) != MISSING for path in absent):
                return None
            path = entry / "standalone.pdf"
            return (path, str(sha), int(facts["page_count"])) if path.is_file() else None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def page(self, key: str) -> str | None:
        """The HTML page an entry was laid out from (None: no entry, or none kept)."""
        try:
            if not (self._entry(key) / "facts.json").is_file():
                return None  # an entry is complete only once its facts are written
            return (self._entry(key) / "page.html").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def dependencies(self, key: str) -> list[str] | None:
        """The files an entry's render read and those it looked for in vain (None: no entry).

        What a live preview asks to know which sheets a changed file touches."""
        try:
            facts = json.loads((self._entry(key) / "facts.json").read_text(encoding="utf-8"))
            return [*facts["dependencies"], *facts.get("missing", [])]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def clear(self) -> None:
        """Remove every entry."""
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.folder)


def _plain(diagnostic: Diagnostic) -> dict[str, Any]:
    data = asdict(diagnostic)
    data["level"] = diagnostic.level.value
    return data


def _diagnostic(data: dict[str, Any]) -> Diagnostic:
    return Diagnostic(
        data["path"], data["line"], data["column"], Level(data["level"]), data["message"]
    )
