"""Safe YAML reading: plain strings, lists and mappings, with the line of every value.

Front matter comes from many contributors, so YAML is read with PyYAML's BaseLoader rules: no
implicit typing at all (``NO``, ``12:30`` and ``1.10`` stay the strings the author typed; the
kind's schema decides the type), no tags, and anchors or aliases are refused outright because a
few hundred bytes of aliases can expand to megabytes (a "billion laughs" bomb). Nesting is capped
too: PyYAML composes nodes recursively, so ``[[[[…`` a few thousand levels deep would otherwise end
in a RecursionError instead of a diagnostic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import BaseConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import BaseResolver

#: Where each value came from: dotted field path ("territory.region", "means.funding[0].amount")
#: mapped to its 1-based (line, column).
Locations = dict[str, tuple[int, int]]
#: Deepest nesting of lists and mappings accepted (front matter needs four or five levels).
MAX_DEPTH = 20


@dataclass(frozen=True)
class YamlProblem(Exception):
    """A YAML document that cannot be read; line and column are 1-based, relative to the text."""

    message: str
    line: int | None
    column: int | None


class _Guarded:
    """Composing that refuses anchors and aliases, and nesting deeper than MAX_DEPTH."""

    depth = 0
    peek_event: Callable[[], Any]  # the parser's, further along the method order

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        anchor = getattr(event, "anchor", None)
        mark = event.start_mark
        if isinstance(event, yaml.AliasEvent) or anchor is not None:
            raise YamlProblem(
                "YAML anchors and aliases (&name, *name) are not allowed",
                mark.line + 1,
                mark.column + 1,
            )
        if self.depth >= MAX_DEPTH:
            raise YamlProblem(
                f"lists and mappings are nested more than {MAX_DEPTH} levels deep",
                mark.line + 1,
                mark.column + 1,
            )
        self.depth += 1
        try:
            node: Node | None = super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self.depth -= 1
        return node


class _PythonLoader(_Guarded, yaml.BaseLoader):
    """PyYAML's pure-Python BaseLoader, guarded."""


if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _LibyamlLoader(_Guarded, Composer, CParser, BaseConstructor, BaseResolver):
        """BaseLoader rules on libyaml's scanner and parser, composed (and guarded) in Python.

        Scanning and parsing are most of the cost: in C, reading the front matter of 400
        sheets takes a seventh of the time. Composer comes before CParser so that composing,
        where aliases and depth are checked, stays the Python code above.
        """

        def __init__(self, stream: str):
            CParser.__init__(self, stream)
            Composer.__init__(self)
            BaseConstructor.__init__(self)
            BaseResolver.__init__(self)

    _Loader: type = _LibyamlLoader
else:  # pragma: no cover - PyYAML's wheels include libyaml
    _Loader = _PythonLoader


def read_yaml(text: str) -> tuple[Any, Locations]:
    """Parse one YAML document into str/list/dict values and the location of each value.

    Raises YamlProblem with the line of the first syntax error, duplicate key or alias.
    """
    loader: Any = None
    try:
        # Inside the try: the reader checks the characters as it is created (found by
        # hypothesis: a control character made read_yaml raise PyYAML's ReaderError).
        loader = _Loader(text)
        node = loader.get_single_node()
    except YamlProblem:
        raise
    except yaml.MarkedYAMLError as exc:
        # An unclosed quote or bracket is found where the document ends; the author needs the
        # line where it was opened, which PyYAML gives as the context mark.
        scanning = str(exc.context or "").startswith("while scanning")
        opened = scanning or _at_end(exc.problem_mark, text)
        mark = (exc.context_mark if opened else None) or exc.problem_mark or exc.context_mark
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise YamlProblem(
            f"invalid YAML: {message}",
            mark.line + 1 if mark else None,
            mark.column + 1 if mark else None,
        ) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise YamlProblem(
            f"invalid YAML: character U+{exc.character:04X} is not allowed", line, column
        ) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"invalid YAML: {exc}", None, None) from None
    except RecursionError:  # PyYAML's parser recurses too; MAX_DEPTH normally comes first
        raise YamlProblem("lists and mappings are nested too deeply", None, None) from None
    finally:
        if loader is not None:
            loader.dispose()
    locations: Locations = {}
    if node is None:
        return None, locations
    return _convert(node, "", locations), locations


def _at_end(mark: Any, text: str) -> bool:
    """Whether a problem was found only at the end of the document (nothing after it)."""
    if mark is None:
        return False
    lines = text.rstrip().split("\n")
    line, column = int(mark.line), int(mark.column)
    return line > len(lines) - 1 or (line == len(lines) - 1 and column >= len(lines[-1]))


def _convert(node: Node, path: str, locations: Locations) -> Any:
    """Turn a composed node into plain values, recording each value's position under its path."""
    locations[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, ScalarNode):
        return str(node.value)
    if isinstance(node, SequenceNode):
        return [_convert(item, f"{path}[{i}]", locations) for i, item in enumerate(node.value)]
    if isinstance(node, MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise YamlProblem(
                    "a mapping key must be a plain name",
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
            key = str(key_node.value)
            if key in result:
                raise YamlProblem(
                    f"field '{key}' appears twice",
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
            child = f"{path}.{key}" if path else key
            result[key] = _convert(value_node, child, locations)
            # Point at the key rather than the value: that is where an author looks.
            locations[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        return result
    raise YamlProblem("unsupported YAML node", node.start_mark.line + 1, None)
