"""Messages that help: template errors name their file, line and field; sources that are left
out are named; symbolic links to folders are followed inside the project only."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from conftest import GUIDE_EXCLUSIONS, run_cli  # type: ignore[import-not-found]

NOTE_KIND = """\
name: note
label: Note de lecture
folder: notes
template: note.html
fields:
  slug: {type: slug, required: true}
  title: {type: string, required: true}
  theme: {type: theme, required: true}
  resource_centre: {type: string, required: true}
"""
NOTE = """\
---
slug: NOTE-001
title: Une note de lecture
theme: sante
resource_centre: Labo Cités
---
Quelques lignes de lecture.
"""


def note_project(root: Path, template: str, dated: bool = False) -> Path:
    """A project with a kind 'note' (no 'date' field unless ``dated``) and its template."""
    (root / "kinds").mkdir(exist_ok=True)
    kind = NOTE_KIND + ("  date: {type: date, required: true}\n" if dated else "")
    (root / "kinds/note.yaml").write_text(kind, encoding="utf-8")
    (root / "templates/note.html").write_text(template, encoding="utf-8")
    (root / "content/notes").mkdir(parents=True)
    text = NOTE.replace("resource_centre:", "date: 2024-03-05\nresource_centre:") if dated else NOTE
    (root / "content/notes/note-001.md").write_text(text, encoding="utf-8")
    return root


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if needle in line)


def test_a_template_extending_base_without_date_names_file_line_and_field(
    project_copy: Callable[..., Path],
) -> None:
    template = '{% extends "base.html" %}\n{% block identity %}<p>Note</p>{% endblock %}\n'
    root = note_project(project_copy(images=False), template)
    line = line_of(root / "templates/base.html", "sheet.date")
    for command in ("check", "build"):
        result = run_cli(command, "--project", root)
        assert result.exit_code == 1, result.output
        expected = (
            f"templates/base.html:{line}: error: template error while rendering "
            "content/notes/note-001.md: 'sheet.date' is undefined: this sheet has no field 'date'"
        )
        assert expected in result.output, result.output
        assert "mappingproxy" not in result.output


def test_an_undefined_field_in_a_project_template_is_placed_on_its_line(
    project_copy: Callable[..., Path],
) -> None:
    template = (
        '{% extends "base.html" %}\n'
        "{% block identity %}\n"
        "<p>{{ sheet.lieu | upper }}</p>\n"
        "{% endblock %}\n"
    )
    root = note_project(project_copy(images=False), template, dated=True)
    result = run_cli("check", "--project", root)
    assert result.exit_code == 1, result.output
    assert (
        "templates/note.html:3: error: template error while rendering "
        "content/notes/note-001.md: 'sheet.lieu' is undefined: this sheet has no field 'lieu'"
    ) in result.output, result.output


def test_a_missing_include_is_named_with_the_line_that_includes_it(
    project_copy: Callable[..., Path],
) -> None:
    template = '{% extends "base.html" %}\n{% block identity %}\n{% include "encart.html" %}\n'
    root = note_project(project_copy(images=False), template + "{% endblock %}\n", dated=True)
    result = run_cli("check", "--project", root)
    assert result.exit_code == 1, result.output
    assert (
        "templates/note.html:3: error: template error while rendering "
        "content/notes/note-001.md: template 'encart.html' not found in the template folders"
    ) in result.output, result.output


def test_a_folder_whose_name_starts_with_an_underscore_is_named(
    project_copy: Callable[..., Path],
) -> None:
    root = project_copy(GUIDE_EXCLUSIONS, images=False)
    drafts = root / "content/_brouillons"
    shutil.move(root / "content/resources", drafts)
    (root / "content/_assets").mkdir()  # no source in it: nothing to say
    (root / "content/_assets/logo.svg").write_text("<svg/>", encoding="utf-8")
    note = "content/_brouillons/: note: 1 source(s) not read: a folder whose name starts with '_'"
    check = run_cli("check", "--project", root)
    assert check.exit_code == 0, check.output
    assert note in check.output
    assert "_assets" not in check.output
    build = run_cli("build", "--project", root)
    assert note in build.output
    quiet = run_cli("build", "--project", root, "--quiet")
    assert "note:" not in quiet.output


def test_a_linked_folder_inside_the_project_is_read(project_copy: Callable[..., Path]) -> None:
    root = project_copy(GUIDE_EXCLUSIONS, images=False)
    shutil.move(root / "content/resources", root / "partage")
    os.symlink("../partage", root / "content/resources")  # the kind comes from the link's name
    os.symlink(".", root / "partage/boucle")  # a loop: read once, no hang
    check = run_cli("check", "--project", root)
    assert check.exit_code == 0, check.output
    assert "1 source(s) checked: 0 error(s), 0 warning(s)" in check.output
    build = run_cli("build", "--project", root)
    assert build.exit_code == 0, build.output
    assert (root / "build/sheets/RES-2021-001.pdf").is_file()


def test_sources_reached_again_through_a_link_are_read_once(
    project_copy: Callable[..., Path],
) -> None:
    root = project_copy(GUIDE_EXCLUSIONS, images=False)
    os.symlink("resources", root / "content/doublon")
    check = run_cli("check", "--project", root)
    assert check.exit_code == 0, check.output  # no "slug already used by"
    assert "1 source(s) checked: 0 error(s), 0 warning(s)" in check.output


def test_a_linked_folder_outside_the_project_is_refused(
    project_copy: Callable[..., Path], tmp_path: Path
) -> None:
    root = project_copy(GUIDE_EXCLUSIONS, images=False)
    outside = tmp_path / "ailleurs"
    outside.mkdir()
    secret = (root / "content" / GUIDE_EXCLUSIONS).read_text(encoding="utf-8")
    (outside / "fiche.md").write_text(secret.replace("RES-2021-001", "SECRET-0001"), "utf-8")
    os.symlink(outside, root / "content/partage")
    message = (
        "content/partage/: error: not read: this folder is a symbolic link to a folder "
        "outside the project"
    )
    for command in ("check", "build"):
        result = run_cli(command, "--project", root)
        assert result.exit_code == 1, result.output
        assert message in result.output
        assert "SECRET-0001" not in result.output
    assert not (root / "build/sheets/SECRET-0001.pdf").exists()
    assert (root / "build/sheets/RES-2021-001.pdf").is_file()
