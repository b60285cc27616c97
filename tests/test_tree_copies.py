"""Sheets' structure trees recorded once and replayed (collection/tree_copies.py): the collection
is the same file as when every tree is copied directly, and the recordings are really used."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from conftest import national_collection  # type: ignore[import-not-found]
from recueil.collection import assemble, tree_builder, tree_copies
from recueil.collection.collection_build import assemble_collection, prepare_collection


@pytest.fixture(scope="module")
def tagging() -> tuple[tuple[Any, ...], dict[str, Any]]:
    """What the national collection's assembly hands to tag_assembled."""
    project, corpus, collection, renderer = national_collection(cached=True)
    prepared, diagnostics = prepare_collection(project, corpus, collection, renderer)
    assert prepared is not None, diagnostics
    captured: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    original = assemble.tag_assembled

    def capture(*args: Any, **kwargs: Any) -> bytes:
        captured.append((args, kwargs))
        return original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(assemble, "tag_assembled", capture)
        result, diagnostics = assemble_collection(project, prepared, None)
    assert result is not None, diagnostics
    return captured[0]


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How sheets reach the tree: copied directly, or replayed from a recording."""
    seen: Counter[str] = Counter()
    add_run, replay = tree_builder.TreeBuilder.add_run, tree_copies.replay

    def direct(self: Any, run: Any) -> None:
        if type(self) is tree_builder.TreeBuilder and run.key.startswith("sheet:"):
            seen["direct"] += 1
        add_run(self, run)

    def replayed(*args: Any) -> bool:
        done = replay(*args)
        seen["replayed" if done else "refused"] += 1
        return done

    monkeypatch.setattr(tree_builder.TreeBuilder, "add_run", direct)
    monkeypatch.setattr(tree_copies, "replay", replayed)
    return seen


def _tag(tagging: tuple[tuple[Any, ...], dict[str, Any]], trees: Path | None) -> bytes:
    args, kwargs = tagging
    return assemble.tag_assembled(*args, **{**kwargs, "trees": trees})


def test_replayed_trees_give_the_same_file_as_direct_copies(
    tagging: Any, counted: Counter[str], tmp_path: Path
) -> None:
    direct = _tag(tagging, None)
    sheets = counted["direct"]
    assert sheets == 26 and not counted["replayed"]
    counted.clear()
    first = _tag(tagging, tmp_path)  # records every sheet, then replays it
    assert counted == {"replayed": sheets}
    assert len(list(tmp_path.rglob("*.json"))) == sheets
    counted.clear()
    again = _tag(tagging, tmp_path)  # from the recordings on disk
    assert counted == {"replayed": sheets}
    assert first == direct and again == direct
    # and the file holds a tree: each sheet a Sect of the Document (as are some generated parts)
    reader = PdfReader(io.BytesIO(again))
    document = reader.trailer["/Root"]["/StructTreeRoot"]["/K"][0].get_object()
    sections = [k.get_object() for k in document["/K"] if k.get_object()["/S"] == "/Sect"]
    assert len(sections) >= sheets


def test_a_recording_that_does_not_fit_or_is_damaged_is_not_used(
    tagging: Any, counted: Counter[str], tmp_path: Path
) -> None:
    direct = _tag(tagging, None)
    _tag(tagging, tmp_path)
    recordings = sorted(tmp_path.rglob("*.json"))
    fitting = tree_copies.SheetTree.from_json(recordings[0].read_bytes())
    wrong_links = tree_copies.SheetTree(
        fitting.objects, [n + 1 for n in fitting.links], fitting.arrays, fitting.linked,
        fitting.ids,
    )  # fmt: skip
    recordings[0].write_bytes(wrong_links.to_json())
    recordings[1].write_bytes(b'{"objects": [')  # cut short
    counted.clear()
    assert _tag(tagging, tmp_path) == direct
    assert counted["refused"] == 1 and counted["direct"] == 1  # copied directly instead
    assert counted["replayed"] == 25  # the damaged one was recorded again
    assert tree_copies.SheetTree.from_json(recordings[1].read_bytes()).objects


def test_a_text_that_looks_like_a_placeholder_keeps_the_sheet_from_being_recorded() -> None:
    element = b"<</S /Figure/Alt (voir 1000000000002 0 R\\051)/P 4000000000000 0 R>>"
    assert not tree_copies.replayable(element)
    assert tree_copies.replayable(b"<</S /P/Alt (Une figure)/P 1000000000001 0 R>>")
    assert tree_copies.replayable(b"<</S /Sect/K [1000000000001 0 R 1000000000002 0 R]>>")


def test_a_sheet_whose_copy_is_not_replayable_is_copied_directly(
    tagging: Any, counted: Counter[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct = _tag(tagging, None)
    counted.clear()
    monkeypatch.setattr(tree_copies, "replayable", lambda data: False)
    assert _tag(tagging, tmp_path) == direct
    assert counted == {"direct": 26}
    assert not list(tmp_path.rglob("*.json"))  # nothing recorded
