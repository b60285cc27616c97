"""Files a render looked for and did not find are dependencies of its cache entry.

Adding the missing pictogram or image must render the sheet again at the next plain build:
the error it caused must not be replayed from the cache until `--no-cache`.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

from conftest import (  # type: ignore[import-not-found]
    DOSSIER_VACANCES,
    GUIDE_EXCLUSIONS,
    REPO,
    run_cli,
)

GUIDE = "content/" + GUIDE_EXCLUSIONS  # RES-2021-001, theme perseverance
DOSSIER = "content/" + DOSSIER_VACANCES  # RES-2021-002, theme continuite
LOGO = "styles/logo-centre.svg"
SQUARE = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
    '<rect width="10" height="10" fill="#{}"/></svg>'
)


def summary(output: str) -> tuple[int, int]:
    """(rendered, unchanged) from the build's summary line."""
    found = re.search(r"(\d+) rendered, (\d+) unchanged", output)
    assert found, output
    return int(found[1]), int(found[2])


def with_logo(root: Path) -> Path:
    """A project whose own base template shows a logo it does not have (yet)."""
    base = root / "templates/base.html"
    text = base.read_text(encoding="utf-8")
    anchor = '<article class="sheet" id="{{ anchor }}">'
    assert anchor in text
    logo = f'<img class="logo" src="{{{{ asset(\'{LOGO}\') }}}}" alt="">'
    base.write_text(text.replace(anchor, anchor + logo, 1), encoding="utf-8")
    return root


def test_adding_a_missing_file_a_template_shows_renders_the_sheet_again(
    project_copy: Callable[..., Path],
) -> None:
    root = with_logo(project_copy(GUIDE_EXCLUSIONS))
    first = run_cli("build", "--project", root)
    assert first.exit_code == 1, first.output
    assert "Failed to load image" in first.output
    assert LOGO in first.output
    assert not (root / "build/sheets/RES-2021-001.pdf").exists()

    (root / LOGO).write_text(SQUARE.format("2a9d8f"), encoding="utf-8")
    second = run_cli("build", "--project", root)
    assert second.exit_code == 0, second.output
    assert "Failed to load image" not in second.output
    assert summary(second.output) == (1, 0)
    assert (root / "build/sheets/RES-2021-001.pdf").is_file()


def test_a_missing_file_is_reported_by_every_sheet_that_shows_it(
    project_copy: Callable[..., Path],
) -> None:
    # one worker lays both out: the second must not take the failure from its image cache
    root = with_logo(project_copy(GUIDE_EXCLUSIONS, DOSSIER_VACANCES))
    result = run_cli("build", "--project", root, "--jobs", 1)
    assert result.exit_code == 1, result.output
    for rel in (GUIDE, DOSSIER):
        lines = [line for line in result.output.splitlines() if line.startswith(rel + ":")]
        assert any("Failed to load image" in line for line in lines), result.output

    # and the cache entry of each one waits for it
    (root / LOGO).write_text(SQUARE.format("2a9d8f"), encoding="utf-8")
    again = run_cli("build", "--project", root, "--jobs", 1)
    assert again.exit_code == 0, again.output
    assert summary(again.output) == (2, 0)


def test_a_project_pictogram_added_over_the_default_renders_the_sheet_again(
    project_copy: Callable[..., Path],
) -> None:
    root = project_copy(GUIDE_EXCLUSIONS)
    own = root / "styles/pictos/perseverance.svg"
    own.unlink()  # the default pictogram is used
    first = run_cli("build", "--project", root)
    assert first.exit_code == 0, first.output
    pdf = root / "build/sheets/RES-2021-001.pdf"
    before = pdf.read_bytes()

    own.write_text(SQUARE.format("b00020"), encoding="utf-8")  # the project's own, now
    second = run_cli("build", "--project", root)
    assert second.exit_code == 0, second.output
    assert summary(second.output) == (1, 0)
    assert pdf.read_bytes() != before


def test_a_project_without_styles_folder_sees_its_own_pictogram_once_added(
    project_copy: Callable[..., Path],
) -> None:
    root = project_copy(GUIDE_EXCLUSIONS)
    shutil.rmtree(root / "styles")  # every style from recueil's defaults
    first = run_cli("build", "--project", root)
    assert first.exit_code == 0, first.output
    pdf = root / "build/sheets/RES-2021-001.pdf"
    before = pdf.read_bytes()

    (root / "styles/pictos").mkdir(parents=True)
    (root / "styles/pictos/perseverance.svg").write_text(SQUARE.format("b00020"), "utf-8")
    second = run_cli("build", "--project", root)
    assert second.exit_code == 0, second.output
    assert summary(second.output) == (1, 0)
    assert pdf.read_bytes() != before


def test_adding_a_missing_image_renders_the_sheet_again(
    project_copy: Callable[..., Path],
) -> None:
    root = project_copy(GUIDE_EXCLUSIONS)
    guide = root / GUIDE
    text = guide.read_text(encoding="utf-8")
    guide.write_text(text + "\n![Plan du jardin](../images/plan-du-jardin.svg)\n", "utf-8")
    first = run_cli("build", "--project", root)
    assert "plan-du-jardin.svg" in first.output, first.output

    shutil.copy2(REPO / "styles/pictos/sante.svg", root / "content/images/plan-du-jardin.svg")
    second = run_cli("build", "--project", root)
    assert second.exit_code == 0, second.output
    assert "plan-du-jardin.svg" not in second.output
    assert summary(second.output) == (1, 0)
