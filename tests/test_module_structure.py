"""The package's structure: no import circle in autograde/ (imports inside functions
included), and each grading module says its one job in its docstring's first line."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "autograde"


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str], root: Path = PACKAGE) -> set[str]:
    """The package's modules that `path` imports anywhere in it (at the top, inside a
    function, under `if TYPE_CHECKING`), resolved to module names."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from . import x` imports the module x; `from .m import f` imports m
            targets = [f"{stem}.{a.name}" if f"{stem}.{a.name}" in modules else stem for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # a name inside a module: the module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    files = sorted(root.rglob("*.py"))
    modules = {module_name(p, root) for p in files}
    # Only the imports written in the code count (a package's __init__, which Python runs
    # before any of its modules, is no edge unless a module imports it by name).
    return {module_name(p, root): imports_of(p, modules, root) for p in files}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of `graph` (as a list of modules, first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_cycle_finder_sees_a_circle_hidden_inside_a_function(tmp_path):
    """The check below can fail: a circle made only by an import inside a function is found."""
    pkg = tmp_path / "autograde"
    (pkg / "grading").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "grading" / "__init__.py").write_text("")
    (pkg / "grading" / "a.py").write_text("from . import b\n")
    (pkg / "grading" / "b.py").write_text("from .c import thing\n")
    (pkg / "grading" / "c.py").write_text("def thing():\n    from .a import x\n")
    assert find_cycle(import_graph(pkg)) == ["autograde.grading.a", "autograde.grading.b",
                                             "autograde.grading.c", "autograde.grading.a"]
    (pkg / "grading" / "c.py").write_text("def thing():\n    import json\n")
    assert find_cycle(import_graph(pkg)) is None


def test_autograde_has_no_import_circle():
    """No module of autograde/ imports (at the top or inside a function) one that
    imports it back, however far round."""
    graph = import_graph()
    assert "autograde.grading.cli" in graph and graph["autograde.grading.cli"]
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


GRADING = sorted(p for p in (PACKAGE / "grading").glob("*.py") if p.name != "__init__.py")


@pytest.mark.parametrize("path", GRADING, ids=[p.stem for p in GRADING])
def test_each_grading_module_says_its_one_job_in_its_first_line(path):
    """Each module of grading/ opens with a docstring whose first line, a sentence of its
    own, says what the module does."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")), clean=False)
    assert doc, f"{path.name} has no docstring"
    first, _, rest = doc.partition("\n")
    assert first.strip() and first == first.strip(), f"{path.name}: the first line is empty or indented"
    assert first.rstrip().endswith((".", ":")), \
        f"{path.name}: the first line runs on into the next ({first!r})"
    assert len(first) <= 100, f"{path.name}: the first line is {len(first)} characters"
    assert not rest or rest.startswith("\n"), f"{path.name}: the first line is not a line of its own"
