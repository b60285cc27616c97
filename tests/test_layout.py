"""The package's layout: stages as subpackages, dependencies running one way, small modules.

A newcomer finds the code from the folder names (README, "Architecture"); these checks keep the
layout true as the code grows: a lower stage never imports a higher one, no module imports
itself back through others, and no module grows past what one reader holds in mind.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "recueil"

#: bottom to top: a stage may import its own modules and those of the stages before it
STAGES = (
    "core", "sources", "markup", "render", "collection", "records", "edition", "scaffold",
    "serve", "cli",
)  # fmt: skip
#: about 400 lines (GUIDE.md); a little slack for a docstring, never twice as much
MAX_LINES = 420


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(name: str, path: Path) -> set[str]:
    """recueil modules imported by one module (at any depth, type-checking imports included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("recueil")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.startswith("recueil"):
                found.add(base)
                found |= {f"{base}.{a.name}" for a in node.names}
    modules = _modules()
    return {m for m in found if m in modules and m != name}


def _stage(module: str) -> int | None:
    parts = module.split(".")
    return STAGES.index(parts[1]) if len(parts) > 1 and parts[1] in STAGES else None


def test_every_module_belongs_to_a_stage() -> None:
    loose = [m for m in _modules() if _stage(m) is None and m.count(".") > 0]
    assert loose == ["recueil.__main__"]


def test_a_lower_stage_never_imports_a_higher_one() -> None:
    upward = []
    for name, path in _modules().items():
        own = _stage(name)
        if own is None:
            continue
        for imported in _imports(name, path):
            theirs = _stage(imported)
            if theirs is not None and theirs > own:
                upward.append(f"{name} imports {imported}")
    assert upward == []


def test_no_import_cycle() -> None:
    modules = _modules()
    graph = {name: _imports(name, path) for name, path in modules.items()}
    # packages import nothing of their own but re-exports: follow modules only
    visiting: list[str] = []
    done: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        if node in done:
            return
        if node in visiting:
            cycles.append([*visiting[visiting.index(node) :], node])
            return
        visiting.append(node)
        for target in sorted(graph.get(node, ())):
            visit(target)
        visiting.pop()
        done.add(node)

    for name in sorted(graph):
        visit(name)
    assert cycles == []


def test_no_module_is_too_long_to_read() -> None:
    long = {
        path.relative_to(PACKAGE).as_posix(): lines
        for path in PACKAGE.rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_no_two_modules_share_a_name_across_stages_unless_they_say_how_they_differ() -> None:
    """Pairs that read alike (archive/archival, render/renderer) are what this layout removed."""
    names = [p.stem for p in PACKAGE.rglob("*.py") if p.stem not in ("__init__", "__main__")]
    stems = sorted(names)
    close = [
        (a, b)
        for i, a in enumerate(stems)
        for b in stems[i + 1 :]
        if a != b and (b.startswith(a) or a.startswith(b)) and abs(len(a) - len(b)) <= 2
    ]
    assert close == []
