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

from recueil.core.diagnostics import Diagnostic, error, warning
from recueil.sources.content_scan import ContentScan, scan_content
from recueil.sources.kinds import load_kind
from recueil.sources.schema import Kind
from recueil.sources.settings import Settings, load_settings
from recueil.sources.themes import THEMES_FILE, Theme, load_themes

#: inside the build folder: caches of renders and collection states (deleted by `clean`)
CACHE_DIR = ".cache"
#: a theme's pictogram is PICTOS/CODE.svg in one of the style folders
PICTOS = "pictos"


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
    def site_root(self) -> Path:
        """Folder that site-root image paths ('/img/x.jpg') start from (setting site_root)."""
        return self.root / (self.settings.site_root or self.settings.content_dir)

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

    def pictograms(self) -> frozenset[str]:
        """Codes of the themes that have a pictogram (``styles/pictos/CODE.svg``): templates
        print one only for these."""
        return frozenset(
            theme.code
            for theme in self.themes
            if any((folder / PICTOS / f"{theme.code}.svg").is_file() for folder in self.style_dirs)
        )

    def relative(self, path: Path) -> str:
        """A path as shown in diagnostics: relative to the project when inside it."""
        try:  # the root is resolved already (load_project)
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def sources(self) -> list[Path]:
        """Every Markdown source under the content folder, in a stable order."""
        return self.scan_sources().paths

    def scan_sources(self) -> ContentScan:
        """The sources, and the folders left out or refused on the way (content_scan.py)."""
        return scan_content(self.root, self.content_dir)


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
    pictograms = project.pictograms()
    for theme in themes:
        if theme.code not in pictograms:
            diagnostics.append(
                warning(
                    _display(root, themes_path),
                    theme.line,
                    f"theme '{theme.code}' has no pictogram (styles/{PICTOS}/{theme.code}.svg, in "
                    "the project or the defaults): its band, divider and legend print without one",
                )
            )
    return project, diagnostics


def _display(root: Path, path: Path) -> str:
    for candidate in (path, path.resolve()):  # as the user wrote it first, through links
        try:
            return candidate.relative_to(root).as_posix()
        except ValueError:
            continue
    return str(path)
