"""The README documents every setting exactly as the code declares it."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from recueil.sources.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip().strip("`"): line
        for line in text.splitlines()
        if line.startswith("| `")
    }
    for item in fields(Settings):
        assert item.name in rows, f"setting {item.name} missing from README"
        assert item.metadata["doc"] in rows[item.name], f"README text of {item.name} differs"
