"""No chapter of the book shows a graded function's solution, translated or not.

A chapter may check an equation on one step, but the body of a graded function lives only
in solutions/. The leak finder of test_book.py looks for literal solution lines; this test
compares what the code *does*: every solution body and every code cell of every chapter is
parsed and reduced to its sequence of operations (names and numbers dropped, numpy and
PyTorch spellings of the same operation folded together: `a @ b`, `np.matmul`,
`torch.mm`; `.T`, `.t()`, `np.transpose`; `np.sum(x)`, `x.sum()`; `.copy()`, `.clone()`;
...). A solution that appears as a run of statements in one code cell, in either spelling
and under any names, is caught.
"""
from __future__ import annotations

import ast
import builtins
import difflib
import re
from pathlib import Path

import jupytext
import nbformat
import pytest

from conftest import ASSIGNMENTS, ROOT, solution_path

CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]-*.md"))

# Two runs of operations this similar (difflib's ratio, 2 * matches / total length) count
# as the same code. A translated solution scores 1.0; the closest real chapter cell
# scores well below (printed by test_the_real_book_is_far_from_every_solution).
THRESHOLD = 0.75
# A solution of fewer operations is one equation (chapter 1's rnn_cell is the recurrence
# itself, many_to_one one affine map) or a call in a loop, which a chapter must show to
# check it: too generic to be evidence. Those are left to the literal leak finder.
MIN_OPERATIONS = 10

MODULES = {"np", "numpy", "torch", "math", "F", "nn", "functional", "linalg"}
# One name per operation, whatever the library calls it.
SYNONYMS = {
    "matmul": "@", "mm": "@", "bmm": "@", "dot": "@", "MatMult": "@",
    "t": "T", "transpose": "T", "mT": "T", "permute": "T", "swapaxes": "T",
    "clone": "copy", "copy": "copy", "detach": None, "numpy": None, "item": None,
    "float": None, "asarray": "array", "tensor": "array", "as_tensor": "array",
    "zeros_like": "zeros", "zeros": "zeros", "new_zeros": "zeros", "empty_like": "zeros",
    "ones_like": "ones", "ones": "ones",
    "sum": "sum", "mean": "mean", "sqrt": "sqrt", "tanh": "tanh",
    "clip": "clamp", "clamp": "clamp", "minimum": "min", "min": "min",
    "maximum": "max", "max": "max", "amax": "max", "pow": "Pow", "square": "square",
    "concatenate": "cat", "cat": "cat", "stack": "stack", "flip": "reversed",
    "reshape": "reshape", "view": "reshape", "flatten": "reshape", "ravel": "reshape",
    "ndindex": "index-loop", "ndenumerate": "index-loop",
}


def _name(op: str) -> str | None:
    return SYNONYMS.get(op, op)


class _Operations(ast.NodeVisitor):
    """The operations of a piece of code, in source order, names and numbers dropped."""

    def __init__(self):
        self.ops: list[str] = []

    def add(self, op):
        op = _name(op)
        if op:
            self.ops.append(op)

    def visit_BinOp(self, node):
        self.visit(node.left)
        self.visit(node.right)
        self.add(type(node.op).__name__)

    def visit_AugAssign(self, node):
        self.visit(node.value)
        self.add(type(node.op).__name__)
        self.add("store")

    def visit_UnaryOp(self, node):
        self.visit(node.operand)
        self.add(type(node.op).__name__)

    def visit_Compare(self, node):
        self.generic_visit(node)
        for op in node.ops:
            self.add(type(op).__name__)

    def visit_Call(self, node):
        func = node.func
        for arg in node.args:
            self.visit(arg)
        for kw in node.keywords:
            self.visit(kw.value)
        if isinstance(func, ast.Attribute):
            if not (isinstance(func.value, ast.Name) and func.value.id in MODULES):
                self.visit(func.value)  # x.sum(): the receiver is an operand, like np.sum(x)
            self.add(func.attr)
        elif isinstance(func, ast.Name):
            # A function of the author's own is just a call: its name is a name like any other.
            known = func.id in SYNONYMS or func.id in dir(builtins)
            self.add(func.id if known else "call")
        else:
            self.visit(func)
            self.add("call")

    def visit_Attribute(self, node):
        self.visit(node.value)
        if node.attr in {"T", "mT", "shape", "size", "ndim"}:
            self.add(node.attr)

    def visit_Subscript(self, node):
        self.visit(node.value)
        self.visit(node.slice)
        self.add("[]")

    def visit_Assign(self, node):
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)
        self.add("store")

    def visit_For(self, node):
        self.visit(node.iter)
        self.add("for")
        for stmt in node.body + node.orelse:
            self.visit(stmt)
        self.add("end")

    def visit_If(self, node):
        self.visit(node.test)
        self.add("if")
        for stmt in node.body + node.orelse:
            self.visit(stmt)
        self.add("end")

    def visit_Return(self, node):
        if node.value is not None:
            self.visit(node.value)
        self.add("return")

    def visit_FunctionDef(self, node):
        for stmt in _without_docstring(node.body):
            self.visit(stmt)

    def visit_Lambda(self, node):
        self.visit(node.body)
        self.add("lambda")

    def visit_ListComp(self, node):
        self.generic_visit(node)
        self.add("comprehension")

    visit_GeneratorExp = visit_ListComp

    def visit_Name(self, node):  # names carry no operation
        pass

    def visit_Constant(self, node):
        pass


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[1:]
    return body


def operations(nodes: list[ast.stmt]) -> list[str]:
    visitor = _Operations()
    for node in nodes:
        visitor.visit(node)
    return visitor.ops


def solution_bodies(assignment: str) -> dict[str, list[ast.stmt]]:
    """grade_id -> the statements of the solution region of each solution cell (the body of
    the function it defines)."""
    nb = nbformat.read(solution_path(assignment), as_version=4)
    bodies = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("solution") or cell.cell_type != "code":
            continue
        code = re.sub(r"[ \t]*### (BEGIN|END) SOLUTION\n?", "", cell.source)
        tree = ast.parse(code)
        functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
        bodies[meta["grade_id"]] = (_without_docstring(functions[0].body) if len(functions) == 1
                                    else tree.body)
    return bodies


ALL_SOLUTIONS = [(a, gid) for a in ASSIGNMENTS for gid in solution_bodies(a)]
SOLUTIONS = [(a, gid) for a, gid in ALL_SOLUTIONS
             if len(operations(solution_bodies(a)[gid])) >= MIN_OPERATIONS]


def code_cells(chapter_text: str) -> list[str]:
    nb = jupytext.reads(chapter_text, fmt="md:myst")
    return [c.source for c in nb.cells if c.cell_type == "code"]


def _statements(tree: ast.Module) -> list[ast.stmt]:
    """Every statement of a cell, nested ones included, in source order: a solution may sit
    inside a loop or a function of the cell."""
    found = []

    def walk(stmts):
        for s in stmts:
            found.append(s)
            for field in ("body", "orelse", "finalbody"):
                walk(getattr(s, field, []) if isinstance(getattr(s, field, None), list) else [])
    walk(tree.body)
    return found


def _header(stmt: ast.stmt) -> list[str]:
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        return operations([ast.Expr(stmt.iter)]) + ["for"]
    if isinstance(stmt, (ast.If, ast.While)):
        return operations([ast.Expr(stmt.test)]) + ["if"]
    return []


def best_match(solution_ops: list[str], cell_source: str) -> float:
    """The highest similarity between the solution's operations and those of a run of
    consecutive statements of the cell."""
    try:
        tree = ast.parse(cell_source)
    except SyntaxError:  # IPython magics; no chapter uses them, but they are no leak either
        return 0.0
    stmts = [s for s in _statements(tree) if not isinstance(s, (ast.Import, ast.ImportFrom))]
    # A statement that contains others (a loop, a function) counts here with its header
    # only, since its inner statements follow it in the list; it is also compared whole.
    per_stmt = [_header(s) if hasattr(s, "body") else operations([s]) for s in stmts]
    best = difflib.SequenceMatcher(None, solution_ops, operations(tree.body), autojunk=False).ratio()
    for s in stmts:
        if hasattr(s, "body"):
            ops = operations([s])
            best = max(best, difflib.SequenceMatcher(None, solution_ops, ops, autojunk=False).ratio())
    for i in range(len(stmts)):
        run: list[str] = []
        for j in range(i, len(stmts)):
            run = run + per_stmt[j]
            if len(run) > 2 * len(solution_ops):
                break
            best = max(best, difflib.SequenceMatcher(None, solution_ops, run, autojunk=False).ratio())
    return best


def leaked_solutions(chapter_text: str, assignment: str) -> dict[str, float]:
    """grade_id -> similarity, for every solution of `assignment` that one code cell of the
    chapter shows."""
    found = {}
    cells = code_cells(chapter_text)
    for gid, body in solution_bodies(assignment).items():
        ops = operations(body)
        if len(ops) < MIN_OPERATIONS:
            continue
        score = max((best_match(ops, c) for c in cells), default=0.0)
        if score >= THRESHOLD:
            found[gid] = score
    return found


# --- a translator, to plant what a careless author might paste ---------------------------

class _ToTorch(ast.NodeTransformer):
    """numpy -> PyTorch spelling, every variable renamed: what a solution looks like after
    someone "translated" it for a chapter."""

    def __init__(self):
        self.names: dict[str, str] = {}

    def visit_Name(self, node):
        if node.id == "np":
            node.id = "torch"
        elif node.id not in dir(builtins) and node.id != "torch":
            node.id = self.names.setdefault(node.id, f"v{len(self.names)}")
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.MatMult):
            return ast.Call(ast.Attribute(ast.Name("torch", ast.Load()), "matmul", ast.Load()),
                            [node.left, node.right], [])
        return node

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if node.attr == "T":
            return ast.Call(ast.Attribute(node.value, "t", ast.Load()), [], [])
        if node.attr == "copy":
            node.attr = "clone"
        return node

    def visit_keyword(self, node):
        self.generic_visit(node)
        if node.arg == "axis":
            node.arg = "dim"
        return node


def translated(body: list[ast.stmt]) -> str:
    module = ast.fix_missing_locations(_ToTorch().visit(ast.Module(body=list(body), type_ignores=[])))
    return ast.unparse(module)


def plant(chapter_text: str, code: str) -> str:
    """The chapter with one more code cell, holding `code` between two ordinary lines."""
    cell = f"```{{code-cell}} ipython3\nprint('before')\n{code}\nprint('after')\n```\n\n"
    cut = chapter_text.index("\n## ", chapter_text.index("```{code-cell}")) + 1
    return chapter_text[:cut] + cell + chapter_text[cut:]


# --- the tests -----------------------------------------------------------------------------

def test_every_assignment_has_solutions_long_enough_to_compare():
    assert CHAPTERS
    for assignment in ASSIGNMENTS:
        compared = [gid for a, gid in SOLUTIONS if a == assignment]
        assert compared, f"{assignment}: every solution is too short for this test"


@pytest.mark.parametrize("assignment,grade_id", SOLUTIONS)
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_no_chapter_cell_shows_a_solution_body(chapter, assignment, grade_id):
    ops = operations(solution_bodies(assignment)[grade_id])
    scores = [best_match(ops, cell) for cell in code_cells(chapter.read_text(encoding="utf-8"))]
    worst = max(scores, default=0.0)
    assert worst < THRESHOLD, \
        f"{chapter.name}: cell {scores.index(worst)} does what {assignment}'s {grade_id} does " \
        f"(similarity {worst:.2f})"


@pytest.mark.parametrize("assignment,grade_id", SOLUTIONS)
def test_a_solution_pasted_into_a_chapter_is_caught(assignment, grade_id):
    chapter = (ROOT / "book" / f"{assignment}.md").read_text(encoding="utf-8")
    body = solution_bodies(assignment)[grade_id]
    planted = plant(chapter, ast.unparse(ast.Module(body=list(body), type_ignores=[])))
    assert grade_id in leaked_solutions(planted, assignment)


@pytest.mark.parametrize("assignment,grade_id", SOLUTIONS)
def test_a_solution_translated_to_torch_and_renamed_is_caught(assignment, grade_id):
    chapter = (ROOT / "book" / f"{assignment}.md").read_text(encoding="utf-8")
    code = translated(solution_bodies(assignment)[grade_id])
    assert "np." not in code and " @ " not in code
    planted = plant(chapter, code)
    assert grade_id not in leaked_solutions(chapter, assignment)
    assert grade_id in leaked_solutions(planted, assignment), code


@pytest.mark.parametrize("assignment,grade_id", SOLUTIONS)
def test_a_solution_inside_a_function_in_a_loop_of_a_larger_cell_is_caught(assignment, grade_id):
    chapter = (ROOT / "book" / f"{assignment}.md").read_text(encoding="utf-8")
    body = translated(solution_bodies(assignment)[grade_id])
    code = ("import torch\nfor trial in range(3):\n    x = torch.randn(3)\n    print(x.mean())\n"
            "    def step(*args):\n"
            + "\n".join("        " + line for line in body.splitlines())
            + "\n    print(step(x))\nplt.show()")
    assert grade_id in leaked_solutions(plant(chapter, code), assignment), code
