"""Properties over arbitrary input (hypothesis): what must hold whatever a contributor sends.

- read_yaml raises nothing but YamlProblem, on any text;
- load_sheet never raises, on any bytes (it returns diagnostics);
- slug_from_title always gives a valid slug (schema.SLUG_RE);
- to_html, on any Markdown/HTML text, keeps the sanitiser's invariants (fuzz_markup.problems):
  no <script, no event attribute, no style outside td/th, no href or src starting with
  javascript:, file: or data: (however spaced or encoded), images only under the virtual root.

Example counts are modest so that the suite stays fast; the fuzzer (fuzz_markup.py) goes further.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzz_markup import FRAGMENTS, make_project, problems
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import copy_project  # type: ignore[import-not-found]
from recueil.core.diagnostics import Level
from recueil.core.yamlsafe import YamlProblem, read_yaml
from recueil.markup.markdown import MarkupOptions, to_html
from recueil.scaffold.new_source import slug_from_title
from recueil.sources.project import Project, load_project
from recueil.sources.schema import SLUG_RE
from recueil.sources.sheet import load_sheet

FAST = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

#: Text that looks like YAML front matter: its syntax characters are common.
yaml_text = st.text(
    alphabet=st.sampled_from(
        list(":-[]{},&*!|>'\"#%@`?\n\t ") + list("abcNOyes0123456789.") + ["é", "\x85", "\ufeff"]
    ),
    max_size=200,
) | st.text(max_size=200)

#: Markdown and HTML built from hostile pieces, with arbitrary text between them.
markup_text = st.lists(
    st.sampled_from(FRAGMENTS) | st.text(string.printable, max_size=8) | st.text(max_size=4),
    max_size=40,
).map("".join)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    root = copy_project(tmp_path_factory.mktemp("properties") / "p", [], images=False)
    (root / "content" / "resources").mkdir()
    found, _ = load_project(root)
    yield found


@pytest.fixture(scope="module")
def options(tmp_path_factory: pytest.TempPathFactory) -> MarkupOptions:
    return make_project(tmp_path_factory.mktemp("markup"))


@FAST
@given(yaml_text)
def test_read_yaml_raises_only_yaml_problems(text: str) -> None:
    try:
        read_yaml(text)
    except YamlProblem as problem:
        assert problem.message
        assert problem.line is None or problem.line >= 1


@FAST
@given(
    st.binary(max_size=300)
    | st.builds(
        lambda front, body: f"---\n{front}\n---\n{body}".encode(),
        yaml_text,
        markup_text,
    )
    | st.builds(
        lambda front: (
            "---\nslug: P-1\ntitle: t\nresource_type: guide\nresource_centre: c\n"
            f"date: 2024-01-01\ntheme: perseverance\nabstract: a\n{front}\n---\n"
        ).encode(),
        yaml_text,
    )
)
def test_load_sheet_never_raises(project: Project, data: bytes) -> None:
    path = project.content_dir / "resources" / "arbitrary.md"
    path.write_bytes(data)
    sheet, found = load_sheet(project, path)
    if sheet is None:
        assert any(d.level is Level.ERROR for d in found)
    for diagnostic in found:
        assert diagnostic.path == "content/resources/arbitrary.md"
        assert diagnostic.line is None or diagnostic.line >= 1


@FAST
@given(st.text(max_size=120))
def test_slug_from_title_is_always_a_valid_slug(title: str) -> None:
    slug = slug_from_title(title)
    assert SLUG_RE.match(slug), slug


@settings(FAST, max_examples=400)
@given(markup_text)
def test_sanitiser_invariants(options: MarkupOptions, body: str) -> None:
    fragment = to_html(body, 12, "sheets/essai.md", options)
    assert problems(fragment.html) == []
    for diagnostic in fragment.diagnostics:
        assert diagnostic.line is None or diagnostic.line >= 12


def test_the_invariants_catch_what_they_must() -> None:
    """The checker itself, on HTML the sanitiser must never let through."""
    bad = {
        "<script>x</script>": "'<script' in the output",
        '<a href="java&#9;script:x">t</a>': "dangerous URL",
        '<a href=" JAVASCRIPT:x">t</a>': "dangerous URL",
        '<img src="file:///etc/passwd">': "dangerous URL",
        '<p onclick="x">t</p>': "event attribute",
        '<p style="color:red">t</p>': "style kept on <p>",
        '<td style="background:url(x)">t</td>': "style 'background:url(x)' kept",
        '<img src="images/a.png">': "outside the project's virtual root",
        "<iframe></iframe>": "element <iframe> kept",
        '<a href="ftp://x">t</a>': "with a scheme not allowed",
    }
    for html, expected in bad.items():
        found = problems(html)
        assert any(expected in problem for problem in found), (html, found)
    fine = '<a href="https://x.org/?q=javascript:1">t</a><td style="text-align:left">'
    assert problems(fine) == []


def test_fuzzer_runs(tmp_path: Path) -> None:
    """A short run of the fuzz target itself (fixed seed): no finding."""
    from fuzz_markup import run

    assert run(150, seed=6) == []
