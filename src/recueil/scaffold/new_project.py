"""``recueil init``: a new project that builds straight away, to be adapted rather than written.

Like ``mkdocs new`` or ``quarto create project``: a settings file listing every setting with its
documentation (generated from :class:`Settings`, so it never falls out of date), the themes, one
short example source per default kind, and one collection with its editorial. Kinds, templates
and styles are not copied: they come from recueil's defaults until the project adds its own.
"""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import fields
from pathlib import Path

from recueil.sources.settings import SETTINGS_FILE, Settings

#: the example files, shipped as package data beside this module
STARTER = Path(__file__).resolve().parent / "starter"
#: what makes a folder a project already: init never writes over any of these
PROJECT_MARKERS = (SETTINGS_FILE, "themes.yaml", "content", "collections")
#: settings written uncommented, with the value a new project starts from
_SET = {"title": "Fiches du centre de ressources", "language": "fr"}


class ProjectExists(Exception):
    """The target folder already holds (part of) a project; nothing was written."""


def init_project(target: Path) -> list[Path]:
    """Write a new project into ``target`` (created if needed); return the files written.

    Refuses a folder that already has settings, themes, sources or collections, before writing
    anything: a project is never half-overwritten.
    """
    found = [name for name in PROJECT_MARKERS if (target / name).exists()]
    if found:
        raise ProjectExists(
            f"{target} already holds a project ({', '.join(found)}): nothing was written"
        )
    target.mkdir(parents=True, exist_ok=True)
    written = []
    settings = target / SETTINGS_FILE
    settings.write_text(settings_file(), encoding="utf-8")
    written.append(settings)
    for source in sorted(STARTER.rglob("*")):
        if source.is_file():
            destination = target / source.relative_to(STARTER)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
            written.append(destination)
    return written


def settings_file() -> str:
    """``recueil.yaml`` with every setting: the main ones set, the others commented out."""
    lines = [
        "# Réglages du projet. Une ligne commentée (#) garde la valeur par défaut indiquée ;",
        "# retirez le # pour la changer. Les clés inconnues sont refusées.",
        "",
    ]
    for item in fields(Settings):
        lines += textwrap.wrap(
            item.metadata["doc"], width=98, initial_indent="# ", subsequent_indent="# "
        )
        if item.name in _SET:
            lines.append(f"{item.name}: {_yaml(_SET[item.name])}")
        else:
            lines.append(f"# {item.name}: {_yaml(item.default)}")
    return "\n".join(lines) + "\n"


def _yaml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"' if text else '""'
