"""recueil as a user installs it: a wheel in a fresh environment, working from an empty folder.

The tests have no network, so the fresh environment borrows the *dependencies* (WeasyPrint,
pypdf…) from the test environment through a path entry; recueil itself, its defaults and its
starter project come only from the wheel (checked: the imported package lies in the fresh
environment, and the repository's ``src/`` is not on its path).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

REPO = Path(__file__).resolve().parents[1]

SOURCE = """\
---
slug: ESSAI-001
title: "Une fiche écrite dans un dossier vide"
resource_type: guide
resource_centre: Centre d'essai
date: 2025-05-02
theme: numerique
abstract: >-
  Une notice rédigée hors de tout projet : les types de documents, les gabarits, les styles et
  les thématiques viennent des valeurs par défaut livrées avec recueil.
---

## Ce que dit la notice

Le paquet installé suffit pour composer cette page.
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with recueil installed from a freshly built wheel."""
    work = tmp_path_factory.mktemp("install")
    wheels = work / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "-w", str(wheels), str(REPO)],
        check=True,
        cwd=work,
    )  # fmt: skip
    (wheel,) = wheels.glob("recueil-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with zipfile.ZipFile(wheel) as archive:  # what pip does for a pure-Python wheel
        archive.extractall(purelib)
    entry = venv / "bin" / "recueil"
    entry.write_text(
        f"#!{python}\nimport sys\nfrom recueil.cli import run\nsys.exit(run())\n", encoding="utf-8"
    )
    entry.chmod(0o755)
    # the dependencies only: a path entry is not a site folder, so the test environment's
    # editable install of recueil (a .pth file there) is not followed
    borrowed = sysconfig.get_paths()["purelib"]
    Path(purelib, "borrowed-dependencies.pth").write_text(borrowed + "\n", encoding="utf-8")
    return venv


def _clean_environment() -> dict[str, str]:
    """The environment without what would put another recueil on the path."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def _run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = _clean_environment()
    return subprocess.run(
        [str(venv / "bin" / "recueil"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_wheel_carries_the_defaults_and_the_starter_project(installed: Path) -> None:
    python = installed / "bin" / "python"
    where = subprocess.run(
        [python, "-c", "import recueil, sys; print(recueil.__file__); print(sys.path)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=installed,
        env=_clean_environment(),
    ).stdout
    assert where.startswith(str(installed)), where
    assert str(REPO / "src") not in where
    package = Path(where.splitlines()[0]).parent
    for data in (
        "defaults/themes.yaml",
        "defaults/kinds/experience.yaml",
        "defaults/templates/base.html",
        "defaults/styles/sheet.css",
        "defaults/styles/fonts/Inter-Regular.otf",
        "defaults/styles/pictos/numerique.svg",
        "scaffold/starter/content/experiences/exemple-lecture-partagee.md",
    ):
        assert (package / data).is_file(), data


def test_an_installed_recueil_builds_a_sheet_in_an_empty_folder(
    installed: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "vide"
    (folder / "content" / "resources").mkdir(parents=True)
    (folder / "content" / "resources" / "essai.md").write_text(SOURCE, encoding="utf-8")
    done = _run(installed, "sheet", "ESSAI-001", "--project", str(folder), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    pdf = folder / "build" / "sheets" / "ESSAI-001.pdf"
    text = PdfReader(pdf).pages[0].extract_text()
    assert "Une fiche écrite dans un dossier vide" in text
    assert "Ressource documentaire" in text  # the default kind's label, from the package


def test_an_installed_recueil_starts_a_project_that_builds_cleanly(
    installed: Path, tmp_path: Path
) -> None:
    done = _run(installed, "init", "nouveau", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    built = _run(installed, "build", "--project", "nouveau", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert "0 failed, 0 error(s), 0 warning(s)" in built.stderr
    collection = tmp_path / "nouveau" / "build" / "collections" / "premier-recueil.pdf"
    assert len(PdfReader(collection).pages) > 3
