"""The YAML reader gives the same values, locations and error lines with or without libyaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from recueil.core import yamlsafe

REPO = Path(__file__).resolve().parents[1]

BROKEN = [
    "title: [unclosed",
    "title: [unclosed\n",
    "a: 1\nb: [x, y\nc: 2\n",
    "a: {x: 1\n",
    'a: "x\nb: 1\n',
    "a: b: c\n",
    "a: 1\na: 2\n",
    "a: &x 1\nb: *x\n",
    "- a\nb: 1\n",
    "a:\t\x07x\n",
    "[" * 40,
]


def _read(loader: type, text: str) -> object:
    original = yamlsafe._Loader
    yamlsafe._Loader = loader
    try:
        return yamlsafe.read_yaml(text)
    except yamlsafe.YamlProblem as problem:
        return ("problem", problem.line, problem.column)
    finally:
        yamlsafe._Loader = original


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")
def test_libyaml_and_python_read_the_sample_front_matter_alike() -> None:
    texts = [
        path.read_text(encoding="utf-8").split("\n---", 1)[0].removeprefix("---\n")
        for path in sorted((REPO / "content").rglob("*.md"))
    ]
    assert len(texts) > 30
    for text in texts:
        fast = _read(yamlsafe._LibyamlLoader, text)
        assert fast == _read(yamlsafe._PythonLoader, text)
        assert isinstance(fast, tuple) and isinstance(fast[0], dict)  # parsed, not a problem


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")
@pytest.mark.parametrize("text", BROKEN)
def test_libyaml_and_python_locate_problems_alike(text: str) -> None:
    fast = _read(yamlsafe._LibyamlLoader, text)
    assert fast == _read(yamlsafe._PythonLoader, text)
    assert fast[0] == "problem"


def test_an_unclosed_bracket_is_reported_where_it_opens() -> None:
    with pytest.raises(yamlsafe.YamlProblem) as caught:
        yamlsafe.read_yaml("title: ok\nkeywords: [école, santé\n\n")
    assert (caught.value.line, caught.value.column) == (2, 11)
