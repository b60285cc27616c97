"""Diagnostics cannot rewrite the terminal: control characters from content are escaped."""

from __future__ import annotations

from pathlib import Path

from hostile import BODY_LINE, resource

from conftest import copy_project, run_cli  # type: ignore[import-not-found]
from recueil.core.diagnostics import Diagnostic, Level, printable

#: Clear the screen, retitle the window, and a carriage return that would overwrite the line.
CLEAR, TITLE = "\x1b[2J\x1b[H", "\x1b]0;pwned\x07"


def test_format_escapes_control_characters() -> None:
    diagnostic = Diagnostic(
        f"content/{CLEAR}x.md",
        3,
        7,
        Level.ERROR,
        f"field 'title': '{TITLE}ok\r\nfake.md:1: error: forged' \u202eevil\t.",
    )
    assert diagnostic.format() == (
        "content/\\x1b[2J\\x1b[Hx.md:3:7: error: field 'title': "
        "'\\x1b]0;pwned\\x07ok\\r\\nfake.md:1: error: forged' \\u202eevil\t."
    )


def test_printable_keeps_ordinary_text() -> None:
    text = "fiche été n°1 🎉 : « 12\u202f500 € » \u00a0— d'après\tl'équipe"
    assert printable(text) == text
    assert printable("\x00\x08\x7f\x85\x9b\u2028\u2066") == (
        "\\x00\\x08\\x7f\\x85\\x9b\\u2028\\u2066"
    )


def test_a_hostile_file_name_and_image_path_are_shown_escaped(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project", [], images=False)
    folder = root / "content" / "resources"
    folder.mkdir()
    (folder / f"{CLEAR}.md").write_text("", encoding="utf-8")
    (folder / "escape.md").write_text(
        resource("ATK-ESCAPE", f"![x](../{TITLE}{CLEAR}.png)"), encoding="utf-8"
    )
    result = run_cli("check", "--project", root)
    assert result.exit_code == 1
    for raw in ("\x1b", "\x07", "\r"):
        assert raw not in result.output
    lines = result.output.splitlines()
    assert (
        "content/resources/\\x1b[2J\\x1b[H.md:1: error: missing front matter: the file must "
        "start with a '---' line"
    ) in lines
    assert (
        f"content/resources/escape.md:{BODY_LINE}: warning: image "
        "'../\\x1b]0;pwned\\x07\\x1b[2J\\x1b[H.png' does not exist; a placeholder is printed in "
        "its place"
    ) in lines
