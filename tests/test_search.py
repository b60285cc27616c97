"""The catalogue's search index: stems, ranking, snippets, facets, pages, updates, hostile input.

Real behaviour on the sample project (its 40 sheets) and on small synthetic sheets built here.
"""

from __future__ import annotations

import dataclasses
import math
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from markupsafe import Markup

from recueil.serve.search import FACETS, MAX_PER_PAGE, Results, SearchIndex
from recueil.serve.search_text import document, query_stems, stem
from recueil.sources.corpus import load_corpus
from recueil.sources.project import load_project
from recueil.sources.sheet import Sheet

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sample() -> list[Sheet]:
    project, _ = load_project(REPO)
    sheets = load_corpus(project).sheets
    assert len(sheets) == 40
    return sheets


@pytest.fixture(scope="module")
def index(sample: list[Sheet], tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchIndex]:
    search = SearchIndex(tmp_path_factory.mktemp("search") / "search.sqlite")
    assert search.update(sample) == 40
    yield search
    search.close()


def make_sheet(slug: str, title: str, body: str = "", **meta: Any) -> Sheet:
    """A synthetic experience sheet (front matter as given, a few defaults)."""
    fields: dict[str, Any] = {"slug": slug, "title": title, "theme": "parentalite"}
    fields.update(meta)
    return Sheet(
        path=Path(f"/nowhere/{slug}.md"),
        rel=f"content/experiences/{slug}.md",
        kind=str(fields.pop("kind", "experience")),
        slug=slug,
        title=title,
        meta=MappingProxyType(fields),
        body=body,
        body_line=1,
        source_hash=f"hash-{slug}-{title}-{body}",
    )


def slugs(results: Results) -> list[str]:
    return [hit.slug for hit in results.hits]


def everything(index: SearchIndex, query: str = "", **filters: list[str]) -> Results:
    return index.search(query, filters, per_page=MAX_PER_PAGE)


# ------------------------------------------------------------------------------ words


def test_stems_ignore_accents_case_and_inflection() -> None:
    assert stem("éducatif") == stem("éducative") == stem("EDUCATIVES") == stem("Éducation")
    assert stem("parent") == stem("parents") == stem("Parents")
    assert stem("collège") == stem("college") == stem("COLLÈGES")
    assert query_stems("le café des parents") == (stem("café"), stem("parents"))
    assert query_stems("la le") == ("la", "le")  # nothing but stopwords: they are searched


def test_educatif_finds_educative(tmp_path: Path) -> None:
    with SearchIndex(tmp_path / "s.sqlite") as search:
        search.update(
            [
                make_sheet("A-1", "Une action", "La cité éducative de Lens."),
                make_sheet("A-2", "Une autre action", "Rien à voir."),
            ]
        )
        found = search.search("éducatif")
        assert slugs(found) == ["A-1"]
        assert "<mark>éducative</mark>" in found.hits[0].snippet
        assert slugs(search.search("parent")) == slugs(search.search("PARENTS")) == []


def test_educatif_on_the_sample(index: SearchIndex, sample: list[Sheet]) -> None:
    found = everything(index, "éducatif")
    containing = {s.slug for s in sample if "éducative" in document(s).body.lower()}
    assert containing <= set(slugs(found))
    assert any("<mark>éducative" in hit.snippet.lower() for hit in found.hits)


def test_education_denain_finds_the_sheets_about_denain(index: SearchIndex) -> None:
    found = everything(index, "education denain")
    assert {"HDF-2020-110", "HDF-2022-001"} <= set(slugs(found))
    assert slugs(found)[0] == "HDF-2020-110"  # Denain is in its title
    assert "<mark>Denain</mark>" in found.hits[0].snippet


@pytest.mark.parametrize("variant", ["ecole", "ÉCOLE", "École", "écoles", "Ecoles"])
def test_accents_and_case_do_not_matter(index: SearchIndex, variant: str) -> None:
    reference = everything(index, "école")
    assert reference.total > 0
    assert slugs(everything(index, variant)) == slugs(reference)


def test_parent_finds_parents(index: SearchIndex, sample: list[Sheet]) -> None:
    found = set(slugs(everything(index, "parent")))
    assert {s.slug for s in sample if "parents" in s.title.lower()} <= found
    assert found == set(slugs(everything(index, "parents")))


# ---------------------------------------------------------------------------- ranking


def test_title_match_ranks_above_body_only_match(tmp_path: Path) -> None:
    filler = "Un texte sur autre chose, assez long pour ressembler à une vraie fiche. " * 5
    with SearchIndex(tmp_path / "s.sqlite") as search:
        search.update(
            [
                make_sheet(
                    "B-1", "Ateliers du mercredi", filler + "Une chorale le soir. " + filler
                ),
                make_sheet("B-2", "La chorale des écoles", filler),
                make_sheet("B-3", "Sans rapport", filler),
                make_sheet("B-4", "Autre sujet", filler + "Une chorale. "),
            ]
        )
        found = search.search("chorales")
        assert slugs(found)[0] == "B-2"
        assert set(slugs(found)) == {"B-1", "B-2", "B-4"}
        assert found.hits[0].score > found.hits[1].score > 0


def test_keywords_weigh_more_than_body(tmp_path: Path) -> None:
    body = "Une action au long cours dans le quartier, avec les familles et les écoles. " * 3
    with SearchIndex(tmp_path / "s.sqlite") as search:
        search.update(
            [
                make_sheet("K-1", "Premier", body + "Un peu de théâtre."),
                make_sheet("K-2", "Second", body, keywords=["théâtre"]),
            ]
        )
        assert slugs(search.search("theatre")) == ["K-2", "K-1"]


# --------------------------------------------------------------------------- snippets


def test_snippet_marks_the_original_words_and_escapes_html(tmp_path: Path) -> None:
    body = (
        "## Contexte\n\nAvant tout, <script>alert(1)</script> & « Éducatives » : "
        "les PARENTS d'élèves <b>viennent</b>. " + "Suite du texte. " * 40
    )
    with SearchIndex(tmp_path / "s.sqlite") as search:
        search.update([make_sheet("C-1", "Titre", body, chapo="Un chapô sans rapport.")])
        hit = search.search("éducatif parent")
        shown = hit.hits[0].snippet
        assert isinstance(shown, Markup)
        assert "<mark>Éducatives</mark>" in shown
        assert "<mark>PARENTS</mark>" in shown
        assert "<script>" not in shown and "<b>" not in shown
        assert "&amp;" in shown and "d&#39;élèves" in shown
        assert shown.endswith(" …")
        assert shown.count("<mark>") == 2
        # a title-only match, or no query: the start of the chapô, unmarked
        assert search.search("titre").hits[0].snippet == "Un chapô sans rapport."
        assert search.search("").hits[0].snippet == "Un chapô sans rapport."


def test_snippet_of_html_typed_in_text(tmp_path: Path) -> None:
    body = "Un `<img src=x onerror=alert(1)>` dans le code, et le mot cible."
    with SearchIndex(tmp_path / "s.sqlite") as search:
        search.update([make_sheet("C-2", "Titre", body)])
        shown = search.search("cible img").hits[0].snippet
        assert "&lt;<mark>img</mark> src=x" in shown
        assert "<img" not in shown


# ----------------------------------------------------------------------------- facets


def _facet(results: Results, name: str) -> dict[str, int]:
    return {v.value: v.count for f in results.facets if f.name == name for v in f.values}


def _region(sheet: Sheet) -> str:
    return str(sheet.meta.get("territory", {}).get("region") or sheet.meta.get("region") or "")


def test_facets_count_the_sample(index: SearchIndex, sample: list[Sheet]) -> None:
    results = everything(index)
    assert results.total == 40
    assert [f.name for f in results.facets] == list(FACETS)
    assert _facet(results, "kind") == {"experience": 26, "resource": 12, "synthesis": 2}
    assert _facet(results, "theme") == Counter(s.meta["theme"] for s in sample)
    assert _facet(results, "region") == Counter(_region(s) for s in sample if _region(s))
    assert _facet(results, "year") == Counter(str(s.meta["date"].year) for s in sample)
    keywords = Counter(k for s in sample for k in s.meta.get("keywords", ()))
    assert _facet(results, "keyword") == keywords
    counts = [v.count for v in next(f for f in results.facets if f.name == "theme").values]
    assert counts == sorted(counts, reverse=True)
    years = [v.value for v in next(f for f in results.facets if f.name == "year").values]
    assert years == sorted(years, reverse=True)


def test_facets_combine_with_each_other_and_the_query(
    index: SearchIndex, sample: list[Sheet]
) -> None:
    theme, region = "parentalite", "Hauts-de-France"
    found = everything(index, theme=[theme], region=[region])
    expected = {s.slug for s in sample if s.meta["theme"] == theme and _region(s) == region}
    assert set(slugs(found)) == expected and found.total == len(expected) > 0
    # OR inside one facet
    two = everything(index, region=[region, "Île-de-France"])
    assert two.total == sum(1 for s in sample if _region(s) in (region, "Île-de-France"))
    # with a query
    both = everything(index, "parents", region=[region])
    assert set(slugs(both)) == set(slugs(everything(index, "parents"))) & {
        s.slug for s in sample if _region(s) == region
    }
    # a value no sheet has: nothing, and the value is still listed (to take it off)
    none = everything(index, keyword=["pas un mot-clé"])
    assert none.total == 0 and none.hits == ()
    assert _facet(none, "keyword")["pas un mot-clé"] == 0
    assert _facet(none, "region") == {}  # the other facets count what is shown: nothing
    assert next(f for f in none.facets if f.name == "keyword").values[0].selected


def test_facet_counts_are_disjunctive(index: SearchIndex, sample: list[Sheet]) -> None:
    theme, region = "parentalite", "Hauts-de-France"
    found = everything(index, theme=[theme], region=[region])
    # a facet's own counts ignore its own selection, and keep the others
    assert _facet(found, "theme") == Counter(
        s.meta["theme"] for s in sample if _region(s) == region
    )
    assert _facet(found, "region") == Counter(
        _region(s) for s in sample if s.meta["theme"] == theme and _region(s)
    )
    # the other facets count what is shown
    assert _facet(found, "kind") == Counter(
        s.kind for s in sample if s.meta["theme"] == theme and _region(s) == region
    )
    selected = {(f.name, v.value) for f in found.facets for v in f.values if v.selected}
    assert selected == {("theme", theme), ("region", region)}
    chosen = [v for f in found.facets for v in f.values if v.selected]
    assert all(f.values[0].selected for f in found.facets if f.name in ("theme", "region"))
    assert len(chosen) == 2


def test_unknown_facet_is_a_value_error(index: SearchIndex) -> None:
    with pytest.raises(ValueError, match="unknown facet 'colour'"):
        index.search("", {"colour": ["red"]})


def test_facet_values_are_plain_strings(index: SearchIndex) -> None:
    for value in ["%", "' OR 1=1 --", '"]', "*", "Hauts-de-%", "\ud800", "\x00", "a" * 100_000]:
        assert index.search("", {"region": [value]}).total == 0
    assert index.search("", {"region": "Hauts-de-France"}).total > 0  # one string, not letters


# ------------------------------------------------------------------------- pages, browse


def test_pagination(index: SearchIndex) -> None:
    pages = [index.search("", page=n, per_page=7) for n in range(1, 7)]
    assert all(p.pages == math.ceil(40 / 7) and p.total == 40 for p in pages)
    listed = [slug for p in pages for slug in slugs(p)]
    assert len(listed) == len(set(listed)) == 40
    assert [len(p.hits) for p in pages] == [7, 7, 7, 7, 7, 5]
    assert index.search("", page=99, per_page=7).page == 6  # past the end: the last page
    assert index.search("", page=-3, per_page=7).page == 1
    assert len(index.search("", per_page=10_000).hits) == 40
    assert index.search("", per_page=10_000).pages == 1
    assert len(index.search("", per_page=0).hits) == 1


def test_browse_is_newest_first_then_by_title(index: SearchIndex, sample: list[Sheet]) -> None:
    results = everything(index)
    assert results.query == "" and len(results.hits) == 40
    dates = [hit.date for hit in results.hits]
    assert dates == sorted(dates, reverse=True)
    by_slug = {s.slug: s for s in sample}
    assert all(hit.date == by_slug[hit.slug].meta["date"].isoformat() for hit in results.hits)


def test_browse_ties_sort_by_french_title(tmp_path: Path) -> None:
    day = {"date": "2023-05-01"}
    with SearchIndex(tmp_path / "s.sqlite") as search:
        search.update(
            [
                make_sheet("T-1", "Zèbres", **day),
                make_sheet("T-2", "Écoles ouvertes", **day),
                make_sheet("T-3", "ateliers", **day),
                make_sheet("T-4", "Plus récent", date="2024-01-01"),
            ]
        )
        assert slugs(search.search()) == ["T-4", "T-3", "T-2", "T-1"]


# ---------------------------------------------------------------------------- updating


def test_update_is_incremental(sample: list[Sheet], tmp_path: Path) -> None:
    with SearchIndex(tmp_path / "s.sqlite") as search:
        assert search.update(sample) == 40
        assert search.update(sample) == 0
        changed = list(sample)
        old = changed[5]
        changed[5] = dataclasses.replace(
            old, title="Un titre tout neuf : hippocampes", source_hash="new"
        )
        assert search.update(changed) == 1
        found = search.search("hippocampe")
        assert slugs(found) == [old.slug]
        assert found.hits[0].title == "Un titre tout neuf : hippocampes"
        assert old.title not in [hit.title for hit in search.search("", per_page=100).hits]
        gone = changed.pop(0)
        assert search.update(changed) == 0
        assert gone.slug not in slugs(search.search("", per_page=100))
        assert search.search().total == 39
        assert search.search("", {"kind": [gone.kind]}).total == _count_kind(changed, gone.kind)
        added = make_sheet("NEW-1", "Une fiche ajoutée : hippocampes")
        assert search.update([*changed, added]) == 1
        assert set(slugs(search.search("hippocampes"))) == {old.slug, "NEW-1"}
    with SearchIndex(tmp_path / "s.sqlite") as again:  # it is kept in the file
        assert again.search().total == 40
        assert again.update([*changed, added]) == 0


def _count_kind(sheets: list[Sheet], kind: str) -> int:
    return sum(1 for s in sheets if s.kind == kind)


def test_two_writers_on_one_file(sample: list[Sheet], tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    done: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with SearchIndex(path) as search:
                done.append(search.update(sample))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(done) == 40  # one of them indexed everything, the others found nothing to do
    with SearchIndex(path) as search:
        assert search.search().total == 40


_WRITER = """
import sys
from pathlib import Path
from recueil.serve.search import SearchIndex
from recueil.sources.corpus import load_corpus
from recueil.sources.project import load_project
sheets = load_corpus(load_project(Path(sys.argv[1]))[0]).sheets
with SearchIndex(Path(sys.argv[2])) as index:
    print(index.update(sheets))
"""


def test_two_processes_update_one_file(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    command = [sys.executable, "-c", _WRITER, str(REPO), str(path)]
    writers = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [writer.communicate(timeout=120)[0] for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0]
    assert sorted(int(out) for out in outputs) == [0, 40]
    with SearchIndex(path) as search:
        assert search.search().total == 40
        assert search.search("denain").total > 0


_RETHEME = """
import sys
from dataclasses import replace
from pathlib import Path
from recueil.serve.search import SearchIndex
from recueil.sources.corpus import load_corpus
from recueil.sources.project import load_project
sheets = load_corpus(load_project(Path(sys.argv[1]))[0]).sheets
sheets[0] = replace(sheets[0], meta={**sheets[0].meta, "theme": "zzz-neuf"}, source_hash="x",
                    title="Les hippocampes du bassin")
with SearchIndex(Path(sys.argv[2])) as index:
    print(index.update(sheets[1:] if sys.argv[3] == "drop" else sheets))
"""


def test_a_reader_sees_another_process_update_facets_and_sheets(
    sample: list[Sheet], tmp_path: Path
) -> None:
    """Facets are counted on bit sets kept in memory, and the matches of words are remembered
    (search_facets.py): an update made by another process must reach both, and a sheet it
    deletes must leave the results."""
    path = tmp_path / "s.sqlite"
    with SearchIndex(path) as reader:
        assert reader.update(sample) == 40
        before = reader.search("", {"theme": ["zzz-neuf"]})
        assert before.total == 0
        assert reader.search("hippocampes").total == 0  # its matches are now remembered
        first = sample[0]
        command = [sys.executable, "-c", _RETHEME, str(REPO), str(path)]
        assert subprocess.run([*command, "keep"], capture_output=True, text=True).stdout == "1\n"
        after = reader.search("", {"theme": ["zzz-neuf"]})
        assert slugs(after) == [first.slug]
        assert slugs(reader.search("hippocampe")) == [first.slug]  # not the remembered answer
        theme = next(f for f in after.facets if f.name == "theme")
        assert ("zzz-neuf", 1, True) in [(v.value, v.count, v.selected) for v in theme.values]
        assert subprocess.run([*command, "drop"], capture_output=True, text=True).stdout == "0\n"
        assert reader.search("").total == 39
        assert first.slug not in slugs(reader.search("", per_page=100))


def test_a_broken_or_older_file_is_rebuilt(sample: list[Sheet], tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    with SearchIndex(path) as search:
        assert search.search().total == 0
        assert search.update(sample[:3]) == 3
    with sqlite3.connect(path) as db:  # an index written by another version of recueil
        db.execute("PRAGMA user_version = 1")
    db.close()
    with SearchIndex(path) as search:
        assert search.search().total == 0
        assert search.update(sample[:3]) == 3
        assert search.search().total == 3


# -------------------------------------------------------------------------- hostile input


HOSTILE = [
    '"',
    '""',
    "*",
    "NEAR(",
    ")-(",
    "NEAR(école parents, 2)",
    "école OR parents AND NOT collège",
    "-école",
    "école*",
    "^titre",
    "title:école",
    "{title body}: école",
    "'; DROP TABLE docs; --",
    "\x00\x01",
    "\ud800",
    "🙂 é\u0301cole",
    "a" * 1_000_000,
    "école " * 200_000,
    " ",
]


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_queries_never_raise(index: SearchIndex, query: str) -> None:
    results = index.search(query, {"theme": ["parentalite"]})
    assert results.total >= 0 and len(results.query) <= 500
    assert everything(index).total == 40


def test_long_queries_are_cut(index: SearchIndex) -> None:
    assert len(query_stems(" ".join(f"mot{i}" for i in range(100)))) == 20
    assert index.search("école " * 1000).total == index.search("école").total


# --------------------------------------------------------------------------- a thousand


def test_a_thousand_sheets(sample: list[Sheet], tmp_path: Path) -> None:
    sheets = [
        dataclasses.replace(s, slug=f"{s.slug}-{n}", source_hash=f"{s.source_hash}-{n}")
        for n in range(25)
        for s in sample
    ]
    with SearchIndex(tmp_path / "s.sqlite") as search:
        start = time.perf_counter()
        assert search.update(sheets) == 1000
        indexed = time.perf_counter() - start
        timings: dict[str, float] = {}
        cases = {
            "browse": ("", {}),
            "browse+facets": ("", {"theme": ["parentalite"], "region": ["Hauts-de-France"]}),
            "query": ("éducation parents", {}),
            "query+facets": ("école", {"theme": ["parentalite", "sante"], "year": ["2022"]}),
            "common word": ("les", {}),
        }
        for name, (query, filters) in cases.items():
            search.search(query, filters)  # warm the caches
            start = time.perf_counter()
            for _ in range(20):
                results = search.search(query, filters)
            timings[name] = (time.perf_counter() - start) / 20
            assert results.total > 0
        start = time.perf_counter()
        with SearchIndex(tmp_path / "s.sqlite") as fresh:
            fresh.search("école", {"theme": ["parentalite"]})
        timings["open+query+close"] = time.perf_counter() - start
        assert search.search().total == 1000
    report = ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in timings.items())
    print(f"\n1,000 sheets: indexed in {indexed:.2f} s; searches: {report}")


def test_snippet_word_finding_agrees_with_splitting_the_texts() -> None:
    """The snippet finds the words wanted with str.find and reaches its window from the
    nearest word mark (search_snippets.py): the same word numbers and words as splitting the
    text word by word, wherever the window starts."""
    import random

    from recueil.serve.search_snippets import MARK_EVERY, _positions, _words_from, indexed
    from recueil.serve.search_text import stem, words

    rng = random.Random(4)
    vocabulary = ["école", "Parents", "l'été", "café_du", "ÉDUCATIF", "a", "x2", "œuvre", "—", "."]
    for _ in range(200):
        text = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 300)))
        stemmed, marks = indexed(text)
        every = [(m.start(), m.end()) for m in words(text)]
        terms = stemmed.split()
        assert terms == [stem(text[a:b]) for a, b in every]
        assert len(marks) == 4 * len(every[::MARK_EVERY])
        wanted = frozenset(rng.sample(sorted(set(terms)), min(2, len(set(terms)))))
        expected = [(i, t) for i, t in enumerate(terms) if t in wanted]
        assert _positions(stemmed, wanted) == expected
        ends = {len(every) - 1, len(every), len(every) + 1} - {-1}
        for start in {0, 1, 15, 16, 17, 63, 64, 65, 130, *ends}:
            found = [(m.start(), m.end()) for m in _words_from(text, marks, start, 31)]
            assert found == every[start : start + 31], (start, text[:80])


def test_a_snippet_whose_stored_marks_do_not_fit_its_text_is_still_right() -> None:
    """Marks of another text (an index written by another version, a damaged file) lead to
    the wrong words: the snippet sees that its marked words are not the stems asked for and
    reads the text in full instead of marking the wrong ones."""
    from recueil.serve.search_snippets import best_window, indexed, window_snippet

    text = " ".join(f"mot{n}" for n in range(200)) + " les parents viennent " + "fin " * 50
    other = "Un texte plus court, d'autres mots. " * 40
    stemmed, marks = indexed(text)
    wanted = frozenset({"parent"})
    window = best_window([stemmed], wanted)
    assert window is not None and window.start == 197
    right = window_snippet(text, marks, window, wanted)
    assert right.startswith("… mot197 mot198 mot199 les <mark>parents</mark> viennent fin")
    # marks of another text, none, past the text's end, fewer than the text has (the last
    # mark kept, word 16, is then the one the window is reached from)
    for wrong in (indexed(other)[1], b"", b"\xff\xff\xff\x7f" * 30, marks[:8]):
        assert window_snippet(text, wrong, window, wanted) == right


def test_bit_positions_of_sparse_and_dense_sets() -> None:
    """A search's page is cut from the positions of the sheets kept (search_facets.positions):
    read from the binary digits, sparse sets by search and dense ones digit by digit."""
    import random

    from recueil.serve.search_facets import positions

    rng = random.Random(8)
    for count in (0, 1, 2, 40, 124, 126, 500, 1000):
        for _ in range(20):
            chosen = set(rng.sample(range(1000), count))
            mask = sum(1 << bit for bit in chosen)
            assert positions(mask) == sorted(chosen)


def test_snippets_are_the_same_made_from_the_index_or_from_what_is_kept(
    index: SearchIndex,
) -> None:
    """What snippets read of a sheet is kept by sheet (its texts' stems, the text shown and its
    word marks): the snippets made from it are those made by reading the index."""
    from recueil.serve.search_snippets import SHOWN, SNIPPETS, STEMS

    queries = ["parents", "école numérique", "quartier", "Denain éducation", "santé"]
    for memo in (SNIPPETS, STEMS, SHOWN):
        memo.clear()
    read = [[h.snippet for h in index.search(q, per_page=40).hits] for q in queries]
    assert len(STEMS) and len(SHOWN)
    SNIPPETS.clear()  # made again from what is kept
    kept = [[h.snippet for h in index.search(q, per_page=40).hits] for q in queries]
    assert kept == read
    assert sum("<mark>" in s for hits in read for s in hits) > 40


def test_a_replaced_index_file_is_opened_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each thread keeps its index open (index_for); a file replaced under it (rebuilt by
    another process after damage) is opened again once the next look at the file is due, and
    not looked at more than once a second before."""
    from recueil.serve import search

    path = tmp_path / "s.sqlite"
    with SearchIndex(path) as first:
        first.update([make_sheet("A-1", "Premier", "Les parents viennent.")])
    held = search.index_for(path)
    assert [h.slug for h in held.search("parents").hits] == ["A-1"]
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    with SearchIndex(path) as second:
        second.update([make_sheet("B-2", "Second", "Les parents reviennent.")])
    assert search.index_for(path) is held  # looked at less than a second ago
    monkeypatch.setattr(search, "REPLACED_SECONDS", 0.0)
    fresh = search.index_for(path)
    assert fresh is not held
    assert [h.slug for h in fresh.search("parents").hits] == ["B-2"]


def test_sheets_ranked_alone_rank_as_when_all_are_ranked(
    index: SearchIndex, sample: list[Sheet], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the facets keep a few of the sheets having the words, only those are given their
    bm25 rank (search.py, ``+rowid IN``): the same ranks, and the same order, as when every
    sheet having the words is ranked at once."""
    from recueil.serve import search, search_facets

    regions = sorted({_region(s) for s in sample if _region(s)})
    asked = [
        (q, {"region": [r]}) for q in ("parents", "école", "éducatif", "quartier") for r in regions
    ]

    def answers() -> list[list[tuple[str, float]]]:
        search_facets.forget()  # no match or rank remembered
        found = [index.search(q, f, per_page=100).hits for q, f in asked]
        return [[(h.slug, h.score) for h in hits] for hits in found]

    alone = answers()
    table = search_facets._TABLES[index.path]
    assert any(not m.complete and m.ranks for m in table._matches.values()), "none ranked alone"
    monkeypatch.setattr(search, "FEW_RANKED", 10**9)  # every sheet having the words, at once
    together = answers()
    assert all(m.complete for m in search_facets._TABLES[index.path]._matches.values())
    assert alone == together
    assert sum(len(hits) for hits in alone) > 40


def test_a_hit_without_a_window_shows_the_start_of_its_first_text_whole(tmp_path: Path) -> None:
    """A hit whose words are in its title only, or any sheet when browsing, shows the start of
    its first text that is not empty: the text read whole, so a long first paragraph still
    ends the snippet after whole words and " …"; a sheet with neither chapô nor body shows
    its territory."""
    from recueil.serve.search_snippets import SHOWN, STEMS, opening

    body = " ".join(f"Chapitre{n} {'.' * 150} {n}" for n in range(40))
    with SearchIndex(tmp_path / "s.sqlite") as search:
        search.update(
            [
                make_sheet("T-1", "Sommaire", body),
                make_sheet("T-2", "Fiche vide", "", territory={"region": "Normandie"}),
            ]
        )
        shown = search.search("sommaire").hits[0].snippet
        assert shown == opening(body)
        assert shown.endswith(" …") and "Chapitre14" in shown
        browsed = {h.slug: h.snippet for h in search.search("").hits}
        assert browsed["T-1"] == shown
        assert browsed["T-2"] == "Normandie"
        # a text longer than what is kept by sheet is read again, and shows the same
        for memo in (STEMS, SHOWN):
            memo.clear()
        long_body = "Les parents viennent. " + "Suite du texte. " * 4000
        search.update([make_sheet("T-3", "Long", long_body)])
        first = search.search("parents").hits[0].snippet
        assert not any(key[0] == "T-3" for key in SHOWN._known)
        assert search.search("parents").hits[0].snippet == first
        assert "<mark>parents</mark>" in first
