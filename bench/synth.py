"""Synthetic projects for the benchmark: N realistic sheets made from the sample's own sheets.

Each synthetic sheet takes one of the sample experience sheets, gets its own slug and title,
and a deterministic amount of extra body (paragraphs, a table, a list) so that lengths vary
from one to four pages, like real collections.
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PARAGRAPHS = (
    "Les équipes ont ajusté le calendrier après le premier trimestre : les familles "
    "préféraient les fins d'après-midi, et les enseignants ont demandé des temps de bilan "
    "plus courts mais plus fréquents.",
    "Le comité de suivi s'est réuni trois fois dans l'année. Chaque réunion a permis de "
    "croiser les regards de l'Éducation nationale, de la commune et des associations, et "
    "de décider ensemble des ajustements.",
    "Plusieurs partenaires ont souligné l'importance d'un lieu identifié, ouvert à heures "
    "fixes, où les parents savent qu'ils trouveront un interlocuteur sans rendez-vous.",
    "Les résultats restent fragiles : l'assiduité baisse pendant les périodes de ramadan et "
    "de vacances, et le départ d'une animatrice a obligé à reconstruire la confiance.",
)


def make_project(target: Path, count: int, seed: int = 2024) -> list[str]:
    """Write a project of ``count`` sheets and one collection into ``target``; return slugs."""
    if target.exists():
        shutil.rmtree(target)
    for folder in ("kinds", "templates", "styles"):
        shutil.copytree(REPO / folder, target / folder)
    shutil.copy(REPO / "themes.yaml", target / "themes.yaml")
    shutil.copy(REPO / "recueil.yaml", target / "recueil.yaml")
    shutil.copytree(REPO / "content" / "images", target / "content" / "images")
    models = sorted((REPO / "content" / "experiences").glob("*.md"))
    rng = random.Random(seed)
    out = target / "content" / "experiences"
    out.mkdir(parents=True)
    slugs = []
    for number in range(1, count + 1):
        model = models[(number - 1) % len(models)]
        text = model.read_text(encoding="utf-8")
        slug = f"BEN-2024-{number:04d}"
        text = _copy_of(re.sub(r"^slug: .*$", f"slug: {slug}", text, count=1, flags=re.M), number)
        extra = rng.choice((0, 0, 1, 2, 3))
        additions = []
        for _ in range(extra):
            additions.append("\n\n".join(rng.sample(PARAGRAPHS, 2)))
        if extra >= 2:
            rows = "\n".join(
                f"| Séance {i} | {rng.randint(8, 40)} | {rng.randint(2, 9)} h |"
                for i in range(1, 7)
            )
            additions.append("| Étape | Participants | Durée |\n|---|---|---|\n" + rows)
            additions.append(
                "\n".join(f"- point d'étape n° {i} validé en comité" for i in range(1, 5))
            )
        if additions:
            text = text.replace("## Objectifs", "\n\n".join(additions) + "\n\n## Objectifs", 1)
        (out / f"{slug.lower()}.md").write_text(text, encoding="utf-8")
        slugs.append(slug)
    (target / "collections").mkdir()
    (target / "collections" / "recueil.yaml").write_text(
        "title: Recueil de banc d'essai\ndate: 2024-06-01\nselect:\n  kinds: [experience]\n"
        "group_by: theme\nindexes: [territories, keywords]\ncolophon:\n"
        "  publisher: Centre de ressources\n  publisher_address: 1 rue de l'Exemple, 75000 Paris\n",
        encoding="utf-8",
    )
    return slugs


def make_shaped_project(target: Path, count: int) -> list[Path]:
    """Write the sample project multiplied to ``count`` sheets into ``target``; return the
    copies' sources.

    Unlike make_project, the project keeps the sample's shape: its three collections (the
    national one with its print-shop variant, the resources, the seminar pack), its kinds of
    sheets in the sample's proportions, its editorial and reading guide. Each sample sheet is
    copied as it is, then again as SLUG-2, SLUG-3... (title numbered, "voir aussi" removed from
    the copies) until there are ``count`` sheets; the collections select by kind, so the
    national collection and the resources grow with the corpus, the pack stays as chosen.
    """
    if target.exists():
        shutil.rmtree(target)
    for folder in ("kinds", "templates", "styles", "collections", "content"):
        shutil.copytree(REPO / folder, target / folder)
    for name in ("themes.yaml", "recueil.yaml"):
        shutil.copy(REPO / name, target / name)
    models = sorted((REPO / "content").glob("*/*.md"))
    copies: list[Path] = []
    total, copy = len(models), 2
    while total < count:
        for model in models:
            if total >= count:
                break
            text = model.read_text(encoding="utf-8")
            slug = re.search(r"^slug: *(\S+)", text, flags=re.M)
            assert slug is not None, model
            text = _copy_of(text.replace(slug[0], f"slug: {slug[1]}-{copy}", 1), copy)
            path = model.parent.relative_to(REPO) / f"{slug[1].lower()}-{copy}.md"
            (target / path).write_text(text, encoding="utf-8")
            copies.append(target / path)
            total += 1
        copy += 1
    return copies


def _copy_of(text: str, number: int) -> str:
    """A sheet's source as copy ``number``: its title numbered, its "voir aussi" removed (the
    sheets it names are not copied with it)."""
    text = re.sub(
        r'^title: "?(.*?)"?$', lambda m: f'title: "{m[1]} ({number})"', text, count=1, flags=re.M
    )
    return re.sub(r"^see_also:\n(  - .*\n)+", "", text, flags=re.M)
