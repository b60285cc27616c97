"""The build removes the cache entries no build has used for `cache_days`, and only those."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from conftest import CLASSE_PASSERELLE, GUIDE_EXCLUSIONS  # type: ignore[import-not-found]
from recueil.collection.tree_copies import SheetTree, SheetTrees
from recueil.core.cache_prune import DAY, remove_unused
from recueil.render.cache import RenderCache
from recueil.render.weasy import RenderResult
from recueil.sources.project import CACHE_DIR


def _age(path: Path, days: float) -> None:
    """Make ``path`` look last used ``days`` ago."""
    then = time.time() - days * DAY
    os.utime(path, (then, then))


def _entry(folder: Path, key: str, facts: bool = True) -> Path:
    entry = folder / key[:2] / key
    entry.mkdir(parents=True)
    (entry / "render.pdf").write_bytes(b"%PDF-1.7 " + b"x" * 991)
    if facts:
        (entry / "facts.json").write_text("{}", encoding="utf-8")
    return entry


def test_entries_last_used_before_the_limit_are_removed_and_no_other(tmp_path: Path) -> None:
    renders = tmp_path / "renders"
    old = _entry(renders, "aa11")
    _age(old / "facts.json", 40)
    recent = _entry(renders, "aa22")
    _age(recent / "render.pdf", 40)  # written long ago, read yesterday: its facts say when
    _age(recent / "facts.json", 1)
    interrupted = _entry(renders, "bb11", facts=False)  # no facts: the folder's own time
    _age(interrupted, 40)
    under_way = _entry(renders, "bb22", facts=False)
    (renders / "notes.txt").write_text("not an entry", encoding="utf-8")

    removed = remove_unused(renders, time.time() - 30 * DAY, marker="facts.json")

    assert (removed.entries, removed.size) == (2, 2 * 1000 + 2)
    assert not old.exists() and not interrupted.exists()
    assert recent.is_dir() and under_way.is_dir() and (renders / "notes.txt").exists()

    trees = tmp_path / "trees"
    (trees / "cc").mkdir(parents=True)
    (trees / "cc" / "cc1.json").write_bytes(b"{}")
    (trees / "cc" / "cc2.json").write_bytes(b"{}")
    _age(trees / "cc" / "cc1.json", 31)
    assert remove_unused(trees, time.time() - 30 * DAY).entries == 1
    assert [p.name for p in (trees / "cc").iterdir()] == ["cc2.json"]
    assert remove_unused(tmp_path / "absent", time.time()).entries == 0


def test_reading_a_render_or_a_tree_copy_marks_it_used(tmp_path: Path) -> None:
    cache = RenderCache(tmp_path / "renders")
    cache.put("dd11", RenderResult(pdf=b"%PDF-1.7 render", page_count=1, anchors={}))
    facts = tmp_path / "renders" / "dd" / "dd11" / "facts.json"
    _age(facts, 40)
    assert cache.get("dd11") is not None
    assert time.time() - facts.stat().st_mtime < 60

    trees = SheetTrees(tmp_path / "trees")
    trees.put("ee11", SheetTree([b"<< /S /Sect >>"], [0], [None], [], {}))
    copy = tmp_path / "trees" / "ee" / "ee11.json"
    _age(copy, 40)
    assert trees.get("ee11") is not None
    assert time.time() - copy.stat().st_mtime < 60


def test_a_build_removes_the_renders_no_build_used_for_cache_days(project_copy, cli) -> None:
    root = project_copy(CLASSE_PASSERELLE, GUIDE_EXCLUSIONS)
    renders = root / "build" / CACHE_DIR / "renders"

    def entries() -> set[str]:
        return {p.parent.name for p in renders.glob("*/*/facts.json")}

    assert cli("build", "--project", root).exit_code == 0
    first = entries()
    assert len(first) == 2
    guide = root / "content" / GUIDE_EXCLUSIONS
    guide.write_text(guide.read_text(encoding="utf-8") + "\nUn paragraphe ajouté.\n", "utf-8")
    edited = cli("build", "--project", root)
    assert edited.exit_code == 0 and "cache: removed" not in edited.output
    second = entries()
    assert len(second) == 3 and first < second  # the guide's old render is kept for now

    for facts in renders.glob("*/*/facts.json"):  # two weeks and more go by
        _age(facts, 15)
    later = cli("build", "--project", root)
    assert later.exit_code == 0, later.output
    assert "cache: removed 1 entry unused for 14 days" in later.output
    current = entries()
    assert current < second and len(current) == 2
    assert second - current == first - current and len(first - current) == 1  # the old render
    assert (root / "build" / "sheets" / "RES-2021-001.pdf").is_file()

    # the retention changes no output: nothing is laid out again, nothing is removed
    (root / "recueil.yaml").write_text("cache_days: 0\n", encoding="utf-8")
    again = cli("build", "--project", root)
    assert again.exit_code == 0 and "cache: removed" not in again.output
    assert entries() == current


COLLECTION = """\
title: Recueil d'essai
date: 2024-05-02
select:
  kinds: [experience, resource]
group_by: theme
order: title
indexes: [territories]
colophon:
  publisher: Centre d'essai
  publisher_address: 1 rue de l'Essai, 59000 Lille
"""


def test_a_collection_left_unchanged_keeps_its_generated_parts_and_tree_copies(
    project_copy, cli
) -> None:
    root = project_copy(CLASSE_PASSERELLE, GUIDE_EXCLUSIONS)
    (root / "collections").mkdir()
    (root / "collections" / "essai.yaml").write_text(COLLECTION, encoding="utf-8")
    (root / "recueil.yaml").write_text("cache_days: 0\n", encoding="utf-8")
    cache = root / "build" / CACHE_DIR
    assert cli("build", "--project", root).exit_code == 0
    recorded = json.loads((cache / "collections" / "essai.json").read_text(encoding="utf-8"))
    used = [cache / name for name in recorded["used"]]
    kinds = [p.relative_to(cache).parts[0] for p in used]
    # the cover, contents, index, colophon and overlay documents, and both sheets' tree copies
    assert kinds.count("renders") >= 4 and kinds.count("trees") == 2
    assert all(p.is_file() for p in used)

    for marker in [*cache.glob("renders/*/*/facts.json"), *cache.glob("trees/*/*.json")]:
        _age(marker, 15)  # the collection is not assembled again: nothing reads its parts
    again = cli("build", "--project", root)
    assert again.exit_code == 0 and "(unchanged)" in again.output
    assert "cache: removed" not in again.output
    assert all(p.is_file() for p in used)
    assert {p.parent.name for p in cache.glob("renders/*/*/facts.json")} >= {
        p.parent.name for p, kind in zip(used, kinds, strict=True) if kind == "renders"
    }
