"""Inputs that broke something once, found by fuzz_markup.py, hypothesis or measuring: kept.

Each case is the smallest input found, or the fuzzer's own output when shrinking it lost the
bug; the comment says what used to happen.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fuzz_markup import make_project, problems

from conftest import copy_project  # type: ignore[import-not-found]
from recueil.core.yamlsafe import YamlProblem, read_yaml
from recueil.markup.markdown import MarkupOptions, to_html
from recueil.markup.typography import typeset_markup
from recueil.sources.project import load_project
from recueil.sources.sheet import load_sheet

Limit = Callable[[float], contextlib.AbstractContextManager[None]]


@pytest.fixture(scope="module")
def options(tmp_path_factory: pytest.TempPathFactory) -> MarkupOptions:
    return make_project(tmp_path_factory.mktemp("regressions"))


def convert(options: MarkupOptions, body: str) -> list[str]:
    fragment = to_html(body, 12, "sheets/essai.md", options)
    assert problems(fragment.html) == []
    return [d.format() for d in fragment.diagnostics]


# ------------------------------------------------------------------ fuzz_markup.py, seed 6


def test_url_with_a_bracket_in_its_host(options: MarkupOptions) -> None:
    """urlsplit raised ValueError ('… does not appear to be an IPv4 or IPv6 address') from
    the sanitiser's URL check: to_html crashed. Schemes are now read without urlsplit."""
    found = convert(options, "Voir [le site](https://www.exampleà [l'équipe](mailto:e@x.org))")
    assert not any("error" in line for line in found)
    body = (
        "Voir [le site](https://www.exampl[x](<javascript:x>)e.org/guide), écrire à "
        "[l'équipe](mailto:equipe@example.org)\n"
    )
    assert "javascript" not in to_html(body, 12, "s.md", options).html


def test_image_path_too_long_for_the_file_system(options: MarkupOptions) -> None:
    """is_file() raised OSError (ENAMETOOLONG) inside nh3's attribute filter: nh3 printed
    'Exception ignored' and dropped the attribute; now it is located (a warning and a
    placeholder since issue 17, like any image that cannot be had)."""
    name = 'plan.svg "Légende' + ' : svg "Légende' * 40
    found = convert(options, f"![x](../images/{name})")
    assert found == [
        f"sheets/essai.md:12: warning: image '../images/{name}' refused: its path cannot be used "
        "(OSError); a placeholder is printed in its place"
    ]


def test_bogus_marked_section(options: MarkupOptions) -> None:
    """html.parser raised AssertionError("unknown status keyword 'CDATAc' in marked
    section") in the scanner that reports removals: to_html crashed."""
    body = '<p style="x:y">sheet:X"<![CDATAc/passwd)\n\n![hors du ]]>projet](../../outside.png)'
    found = convert(options, body)
    assert "sheets/essai.md:12: warning: attribute 'style' removed from <p>" in found


def test_nul_byte_in_an_image_path(options: MarkupOptions) -> None:
    """A NUL in a path makes Path.resolve raise ValueError; Python-Markdown turns it into
    U+FFFD first, and the policy would now report the ValueError if one got through."""
    found = convert(options, "![x](../images/a\x00.png)")
    assert found == [
        "sheets/essai.md:12: warning: image '../images/a\ufffd.png' does not exist; a placeholder "
        "is printed in its place"
    ]


def test_removed_elements_attributes_are_not_checked(options: MarkupOptions) -> None:
    """nh3 shows its attribute filter every attribute, even of elements it removes: an
    <iframe src> was taken for an image (an error), a <link href> for a link (a warning)."""
    body = '<iframe src="../../outside.png"></iframe>\n\n<link rel=attachment href="x.pdf">'
    assert convert(options, body) == [
        "sheets/essai.md:12: warning: element <iframe> removed (not allowed in sheets)",
        "sheets/essai.md:14: warning: element <link> removed (not allowed in sheets)",
    ]


# ------------------------------------------------------------------------- found reviewing


def test_many_delimiter_rows_are_linear(options: MarkupOptions, limit: Limit) -> None:
    """Every '|-|' line after a '|' line looked like a table start and counted the rows after
    it: quadratic before Python-Markdown (and before the deadline) ran."""
    with limit(2):
        found = convert(options, "a|b\n" + "|-|\n" * 300_000)
    assert found[0].startswith("sheets/essai.md:12: error: table of 300000 rows × 1 columns")


def test_a_pile_of_table_parts_is_too_deep(options: MarkupOptions, limit: Limit) -> None:
    """<thead> outside a table never closes in the scanner's model and is not a level: the
    pile is refused anyway instead of making every end tag search it."""
    with limit(3):
        found = convert(options, "x " + "<thead>" * 3000 + "y" + "</b>" * 3000)
    assert found == [
        "sheets/essai.md:12: error: nested more than 30 levels deep (blockquotes, lists or "
        "HTML elements): the sheet is refused (setting max_nesting_depth)"
    ]


# ------------------------------------------------------------------------------ hypothesis


def test_control_character_in_front_matter() -> None:
    """PyYAML's reader raised ReaderError while the loader was being created, outside the
    try: read_yaml (and load_sheet, and the build) crashed on a control character."""
    with pytest.raises(YamlProblem) as caught:
        read_yaml("title: ok\nslug: \x01")
    assert (caught.value.message, caught.value.line) == (
        "invalid YAML: character U+0001 is not allowed",
        2,
    )


def test_control_character_in_a_source(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "p", [], images=False)
    (root / "content" / "resources").mkdir()
    path = root / "content" / "resources" / "x.md"
    path.write_bytes(b"---\n\x01\n---")
    project, _ = load_project(root)
    sheet, found = load_sheet(project, path)
    assert sheet is None
    assert [d.format() for d in found] == [
        "content/resources/x.md:2:1: error: invalid YAML: character U+0001 is not allowed"
    ]


# ------------------------------------------------------------- measured: quadratic regexes


#: Long runs that typography's protection regex (typography._PROTECT) scanned to the end of
#: the text from every position: seconds for a few tens of kilobytes, in C, where no deadline
#: can interrupt it. The first five took 0.8 to 1.1 s each (four times more at twice the size),
#: now 10 to 60 ms. The others are quadratic paths found while fixing those: a run of capitals
#: (the acronym pattern tried every split: 9 s), closing guillemets after many open quotes (a
#: scan of the open quotes per sign: 0.7 s), protected times among many edits (a scan of the
#: protected spans per edit: 0.5 s).
#: Sizes are three times those measured above, and the limit (1.5 s) is far from both sides:
#: the quadratic paths would take 7 s or more, the linear ones take a tenth of a second, so a
#: busy shared machine does not make the tests flaky.
SCALE = 3
QUADRATIC_TEXT = {
    "unclosed comments": "a <!--" * 3500 * SCALE,
    "dotted word before @": "a.a" * 4500 * SCALE + "@",
    "hyphenated word": "a-" * 7000 * SCALE,
    "long number": "1" * 7000 * SCALE,
    "backtick runs": "".join("`" * k + "x" for k in range(1, 208)),
    "capitals": "A" * 20000 * SCALE + "a",
    "guillemets closing quotes": "“" * 6000 * SCALE + "\u202f»" * 6000 * SCALE,
    "times among edits": "12:30 ; " * 3000 * SCALE,
}
LIMIT = 1.5


@pytest.mark.parametrize("name", list(QUADRATIC_TEXT))
def test_typography_is_linear_on_long_runs(name: str, options: MarkupOptions) -> None:
    assert fastest(lambda: to_html(QUADRATIC_TEXT[name], 12, "s.md", options)) < LIMIT


def fastest(run: Callable[[], object], times: int = 3) -> float:
    """The shortest of a few runs, in seconds: a quadratic path is slow at every run, a busy
    machine (the suite shares its cores) only at some."""
    durations = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        durations.append(time.perf_counter() - started)
    return min(durations)


#: Runs that Markdown strips or splits but a front-matter string (typeset_markup) keeps: a line
#: of spaces made the table-row pattern re-read the line once per space (2 s).
QUADRATIC_STRINGS = {
    "spaces": " " * 40000 * SCALE + "x",
    "dashes": "|" + "-" * 40000 * SCALE + "x",
}


@pytest.mark.parametrize("name", list(QUADRATIC_STRINGS))
def test_typography_of_strings_is_linear(name: str) -> None:
    assert fastest(lambda: typeset_markup(QUADRATIC_STRINGS[name])) < LIMIT
