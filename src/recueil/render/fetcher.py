"""The only door between WeasyPrint and the disk: serve project files, refuse everything else.

WeasyPrint's default fetcher reads any local file and any URL, so a hostile sheet could embed
``/etc/passwd`` in a PDF. Documents are rendered with a virtual base URL instead; this fetcher
maps that URL onto the project's folders (and recueil's default styles), after resolving
symlinks, serves the remote images the markup stage fetched (remote.py) from memory, and
refuses every other URL, recording why: it never opens a connection itself.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

from recueil.core.remote_images import REMOTE_ROOT, RemoteImages
from recueil.markup.fragment import VIRTUAL_ROOT

MAX_ASSET_BYTES = 20_000_000


class ProjectFetcher(URLFetcher):  # type: ignore[misc]
    """Serve ``VIRTUAL_ROOT + relative/path`` from the first folder of ``roots`` that has it."""

    def __init__(
        self, project_dir: Path, style_dirs: tuple[Path, ...], remote: RemoteImages | None = None
    ):
        super().__init__(allowed_protocols=("https",))
        self.project_dir = project_dir.resolve()
        self.style_dirs = tuple(d.resolve() for d in style_dirs)
        self.remote = remote
        self.refused: list[str] = []
        #: every file served, so caches know what a render depended on
        self.served: list[Path] = []
        #: URLs of the remote images served (a render using one is not cached: renderer.py)
        self.served_remote: list[str] = []
        #: files of the project looked for and absent (a missing pictogram, or the project's
        #: own copy of a default style): a cached render is valid only while they stay absent
        self.missing: list[Path] = []

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        if url.startswith(REMOTE_ROOT):
            image = self.remote.served(url) if self.remote is not None else None
            if image is None:
                self.refused.append(url)
                raise ValueError(f"refused: {url} was not fetched by this build")
            self.served_remote.append(image.url)
            return URLFetcherResponse(url, image.data, {"Content-Type": image.mime})
        path, absent = self.lookup(url)
        self.missing += absent
        if path is None:
            self.refused.append(url)
            raise ValueError(f"refused: {url} is not a file of the project")
        if path.stat().st_size > MAX_ASSET_BYTES:
            self.refused.append(url)
            raise ValueError(f"refused: {url} is larger than {MAX_ASSET_BYTES} bytes")
        self.served.append(path)
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if path.suffix == ".otf":
            mime = "font/otf"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})

    def resolve(self, url: str) -> Path | None:
        """The file a virtual URL maps to, or None when it is not served."""
        return self.lookup(url)[0]

    def lookup(self, url: str) -> tuple[Path | None, tuple[Path, ...]]:
        """The file a virtual URL maps to (None when it is not served), and the files inside
        the project or the styles that were looked for before it and are absent.

        Adding one of those absent files changes what the URL serves, so they are recorded
        like the files served. A path that leaves its folder is never recorded (nothing
        outside the project is looked at, not even for a hash).
        """
        if not url.startswith(VIRTUAL_ROOT):
            return None, ()
        parts = urlsplit(url)
        relative = unquote(parts.path).lstrip("/")
        if not relative or "\x00" in relative:
            return None, ()
        candidates: list[tuple[Path, Path]] = []
        if relative.startswith("styles/"):
            inner = relative.removeprefix("styles/")
            own = self.project_dir / "styles"
            if not own.is_dir():  # a project may add its own styles/ later: it would come first
                candidates.append((self.project_dir, own / inner))
            candidates += [(root, root / inner) for root in self.style_dirs]
        else:
            candidates.append((self.project_dir, self.project_dir / relative))
        absent: list[Path] = []
        for root, candidate in candidates:
            resolved = candidate.resolve()
            if not resolved.is_relative_to(root):
                continue
            if resolved.is_file():
                return resolved, tuple(absent)
            absent.append(resolved)
        return None, tuple(absent)
