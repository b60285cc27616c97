"""``recueil init``: a new project that checks cleanly, and never written over an existing one."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import yaml

from conftest import run_cli
from recueil.sources.project import load_project
from recueil.sources.settings import Settings, load_settings


def test_init_writes_a_project_that_checks_without_a_single_warning(tmp_path: Path) -> None:
    target = tmp_path / "centre"
    result = run_cli("init", target)
    assert result.exit_code == 0, result.output
    listed = set(result.stdout.split())
    assert {
        "recueil.yaml",
        "themes.yaml",
        "content/experiences/exemple-lecture-partagee.md",
        "content/resources/exemple-guide-numerique.md",
        "content/syntheses/exemple-journee-parents.md",
        "collections/premier-recueil.yaml",
        "collections/editorial-premier-recueil.md",
    } <= listed
    project, problems = load_project(target)
    assert problems == []
    assert {p.parent.name for p in project.sources()} == {"experiences", "resources", "syntheses"}
    checked = run_cli("check", "--strict", "--project", target)
    assert checked.exit_code == 0, checked.output
    assert "0 error(s), 0 warning(s)" in checked.output


def test_the_settings_file_lists_every_setting_commented_with_its_default(tmp_path: Path) -> None:
    assert run_cli("init", tmp_path / "p").exit_code == 0
    text = (tmp_path / "p" / "recueil.yaml").read_text(encoding="utf-8")
    for item in fields(Settings):
        assert f"{item.name}: " in text, item.name
    # uncommenting every line gives back the defaults (plus the two values init sets)
    starts = tuple(f"{f.name}: " for f in fields(Settings))
    uncommented = "\n".join(
        line.removeprefix("# ")
        for line in text.splitlines()
        if line.removeprefix("# ").startswith(starts)
    )
    (tmp_path / "u").mkdir()
    (tmp_path / "u" / "recueil.yaml").write_text(uncommented, encoding="utf-8")
    settings, problems = load_settings(tmp_path / "u")
    assert problems == []
    assert settings == Settings(title="Fiches du centre de ressources")
    assert yaml.safe_load(text)["title"] == "Fiches du centre de ressources"


def test_init_refuses_a_folder_that_already_holds_a_project(tmp_path: Path) -> None:
    target = tmp_path / "existant"
    (target / "content").mkdir(parents=True)
    (target / "content" / "mine.md").write_text("à garder\n", encoding="utf-8")
    result = run_cli("init", target)
    assert result.exit_code == 2
    assert "already holds a project (content): nothing was written" in result.output
    assert sorted(p.name for p in target.rglob("*")) == ["content", "mine.md"]


def test_init_accepts_a_folder_with_unrelated_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("liste de courses\n", encoding="utf-8")
    result = run_cli("init", tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "liste de courses\n"
    assert (tmp_path / "recueil.yaml").is_file()
