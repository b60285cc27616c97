"""Discover a project: its settings, themes, kinds, template and style folders, and sources.

A project folder holds ``content/`` and may hold its own ``recueil.yaml``, ``themes.yaml``,
``kinds/``, ``templates/`` and ``styles/``; whatever it lacks comes from recueil's defaults, and
whatever it has overrides them, file by file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from recueil.core.diagnostics import Diagnostic, error
from recueil.sources.kinds import load_kind
from recueil.sources.schema import Kind
from recueil.sources.settings import Settings, load_settings
from recueil.sources.themes import THEMES_FILE, Theme, load_themes

#: inside the build folder: caches of renders and collection states (deleted by `clean`)
CACHE_DIR = ".cache"


def defaults_dir() -> Path:
    """Where the default kinds, templates, styles and themes live: inside the package.

    They ship as package data, so an installed recueil (a wheel, ``pip install .``) works from
    any folder. The repository's sample project links its own folders to these.
    """
    return Path(__file__).resolve().parents[1] / "defaults"


@dataclass(frozen=True)
class Project:
    """Everything known about a project before any sheet is read."""

    root: Path  # absolute, links resolved
    settings: Settings
    themes: tuple[Theme, ...]
    kinds: Mapping[str, Kind]
    template_dirs: tuple[Path, ...]
    style_dirs: tuple[Path, ...]

    @property
    def content_dir(self) -> Path:
        """Folder holding the sources."""
        return self.root / self.settings.content_dir

    @property
    def build_dir(self) -> Path:
        """Folder receiving the outputs."""
        return self.root / self.settings.build_dir

    @property
    def editions_dir(self) -> Path:
        """Archive folder of the published editions."""
        return self.root / self.settings.editions_dir

    def theme(self, code: str) -> Theme:
        """The theme with that code (codes are validated when sheets load)."""
        return next(t for t in self.themes if t.code == code)

    def relative(self, path: Path) -> str:
        """A path as shown in diagnostics: relative to the project when inside it."""
        try:  # the root is resolved already (load_project)
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def sources(self) -> list[Path]:
        """Every Markdown source under the content folder, in a stable order."""
        if not self.content_dir.is_dir():
            return []
        found = [
            p
            for p in self.content_dir.rglob("*.md")
            if not any(part.startswith((".", "_")) for part in p.relative_to(self.root).parts)
        ]
        return sorted(found, key=lambda p: p.relative_to(self.root).as_posix())


def load_project(root: Path) -> tuple[Project, list[Diagnostic]]:
    """Read the project's configuration; every problem is returned, none raised."""
    root = root.resolve()
    defaults = defaults_dir()
    diagnostics: list[Diagnostic] = []
    settings, found = load_settings(root)
    diagnostics += found

    themes_path = root / THEMES_FILE
    if not themes_path.is_file():
        themes_path = defaults / THEMES_FILE
    themes, found = load_themes(themes_path, _display(root, themes_path))
    diagnostics += found

    kinds: dict[str, Kind] = {}
    folders = [defaults / "kinds", root / "kinds"]
    if folders[1].is_dir() and folders[1].resolve() == folders[0].resolve():
        folders = folders[1:]  # the project links to the defaults: read them once, as its own
    for folder in folders:
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            kind, found = load_kind(path, _display(root, path))
            diagnostics += found
            if kind is not None:
                kinds[kind.name] = kind  # the project's own file overrides the default

    def layered(name: str) -> tuple[Path, ...]:
        dirs = [root / name, defaults / name]
        # resolved, so that a project whose folder links to the defaults lists it once
        return tuple(dict.fromkeys(d.resolve() for d in dirs if d.is_dir()))

    project = Project(
        root=root,
        settings=settings,
        themes=themes,
        kinds=MappingProxyType(kinds),
        template_dirs=layered("templates"),
        style_dirs=layered("styles"),
    )
    if not project.content_dir.is_dir():
        diagnostics.append(
            error(settings.content_dir, None, f"no '{settings.content_dir}/' folder in {root}")
        )
    return project, diagnostics


def _display(root: Path, path: Path) -> str:
    for candidate in (path, path.resolve()):  # as the user wrote it first, through links
        try:
            return candidate.relative_to(root).as_posix()
        except ValueError:
            continue
    return str(path)
