"""No chapter of the book shows a graded function's solution, translated or not.

A chapter may check an equation on one step, but the body of a graded function lives only
in solutions/. The leak finder of test_book.py looks for literal solution lines; this test
compares what the code *does*: every solution body and every code cell of every chapter is
parsed and reduced to its sequence of operations (names and numbers dropped, numpy and
PyTorch spellings of the same operation folded together: `a @ b`, `np.matmul`,
`torch.mm`; `.T`, `.t()`, `np.transpose`; `np.sum(x)`, `x.sum()`; `.copy()`, `.clone()`;
...). A solution that appears as a run of statements in one code cell, in either spelling
and under any names, is caught.

Three more ways of rewriting a solution are undone before the comparison:

- Sliding windows. `Tensor.unfold`, numpy's `sliding_window_view` and `as_strided`, and a
  comprehension of slices that move with its loop variable (`[u[s:s + w] for s in
  starts]`, inside `np.array` or `torch.stack` or not) all make windows: one operation,
  `windows`, whose arguments (the window count) belong to it, as does a range stored in a
  name. Windows cut at one boundary into two pieces (`chunks[:, :w]` and `chunks[:, w:]`
  of the same windows, or two comprehensions whose slices meet, `u[s:s + w]` and
  `u[s + w:s + w + k]`) are inputs and targets: each piece is the operation `cut-windows`,
  in every spelling, and a solution that cuts windows (`make_windows`) is shown by any cell that
  cuts windows so, however short it is. Other slices of windows (`c[:, :-1]` and
  `c[:, 1:]`, copies shifted by one step) are ordinary subscripts, and so is one window cut
  by index (a `Dataset` whose item is one window): that states the index arithmetic, not
  the graded function.
- Helpers. A call to a function the chapter defines, in any cell and under any name,
  counts as the operations of that function's body, so a solution split into a helper
  defined in one cell and called in another reads as one run.
- Short solutions. A solution of fewer than MIN_OPERATIONS operations (RMSE and MAE, a
  scaler) is too generic to look for in a run of a cell, since a chapter shows such an
  equation to check it; but no function the chapter defines, whatever its name, may do
  what it does.
"""
from __future__ import annotations

import ast
import builtins
import copy
import difflib
import functools
import re
from pathlib import Path

import jupytext
import nbformat
import pytest

from conftest import ASSIGNMENTS, ROOT, solution_path

CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]-*.md"))

# Two runs of operations this similar (difflib's ratio, 2 * matches / total length) count
# as the same code. A translated solution scores 1.0. (Below it, similarity() does not
# compute a score: it reads 0.)
THRESHOLD = 0.75
# A solution of fewer operations is one equation (chapter 1's rnn_cell is the recurrence
# itself, many_to_one one affine map) or a call in a loop, which a chapter must show to
# check it: too generic to be evidence. Those are left to the literal leak finder.
MIN_OPERATIONS = 10
# Folded idioms that are evidence on their own, however short the solution around them.
DISTINCTIVE = {"cut-windows"}
# A short solution is still compared with the functions a chapter defines, down to this size.
MIN_FUNCTION_OPERATIONS = 5

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
    "double": None, "to": None, "contiguous": None,
    "unfold": "make-windows", "sliding_window_view": "make-windows", "as_strided": "make-windows",
}
# Calls that gather a list of windows into an array without being an operation of their own.
COLLECTORS = {"array", "asarray", "stack", "vstack", "tensor", "as_tensor", "from_numpy"}


def _name(op: str) -> str | None:
    return SYNONYMS.get(op, op)


# --- sliding windows, in every spelling ----------------------------------------------------

def _callee(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    if isinstance(node.func, ast.Name):
        return node.func.id
    return None


def _names_in(node: ast.AST | None) -> set[str]:
    return set() if node is None else {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _slices(subscript: ast.Subscript) -> list[ast.Slice]:
    index = subscript.slice
    return [sl for sl in (index.elts if isinstance(index, ast.Tuple) else [index])
            if isinstance(sl, ast.Slice)]


def _moving_slice(node: ast.AST) -> ast.Slice | None:
    """The slice of a comprehension `[u[s:s + w] for s in ...]` that moves with its loop
    variable (None if the expression is no such comprehension)."""
    if not isinstance(node, (ast.ListComp, ast.GeneratorExp)) or not isinstance(node.elt, ast.Subscript):
        return None
    loop = set().union(*(_names_in(g.target) for g in node.generators))
    moving = [sl for sl in _slices(node.elt) if loop & (_names_in(sl.lower) | _names_in(sl.upper))]
    return moving[0] if moving else None


def _windows_root(node: ast.AST, holders: set[str]) -> ast.AST | None:
    """The expression that makes the windows this expression is (or selects from): an
    unfold-like call, a comprehension of moving slices (perhaps gathered into an array), or a
    name that holds windows; None if it is no windows."""
    if isinstance(node, ast.Call):
        name = _callee(node)
        if _name(name) == "make-windows":
            return node
        if name in COLLECTORS and node.args and _moving_slice(node.args[0]) is not None:
            return node.args[0]
        if isinstance(node.func, ast.Attribute) and _name(name) is None:  # x.float(), x.numpy()
            return _windows_root(node.func.value, holders)
        return None
    if isinstance(node, ast.Subscript):  # a slice of windows is windows
        return _windows_root(node.value, holders)
    if isinstance(node, ast.Name):
        return node if node.id in holders else None
    return node if _moving_slice(node) is not None else None


def window_holders(trees: list[ast.AST]) -> set[str]:
    """The names that hold windows, anywhere in these trees (to a fixed point: `X = c[:, :w]`
    holds windows when `c` does)."""
    names: set[str] = set()
    assigns = [n for tree in trees for n in ast.walk(tree) if isinstance(n, ast.Assign)]
    while True:
        before = len(names)
        for node in assigns:
            for target in node.targets:
                pairs = (zip(target.elts, node.value.elts)
                         if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
                         and len(target.elts) == len(node.value.elts) else [(target, node.value)])
                for t, v in pairs:
                    if not isinstance(v, ast.Name) and _windows_root(v, names) is not None:
                        names |= _names_in(t)
        if len(names) == before:
            return names


def split_pieces(trees: list[ast.AST], holders: set[str]) -> set[str]:
    """The pieces of windows cut at one boundary into inputs and targets, as ast dumps:
    slices of the same windows, or comprehensions over the same series, where the upper
    bound of one is the lower bound of another."""
    pieces: dict[str, list[tuple[str, str | None, str | None]]] = {}

    def bound(node):
        return None if node is None else ast.dump(node)

    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) \
                    and node.value.id in holders:
                for sl in _slices(node):
                    pieces.setdefault(node.value.id, []).append(
                        (ast.dump(node), bound(sl.lower), bound(sl.upper)))
            sl = _moving_slice(node)
            if sl is not None:
                pieces.setdefault(ast.dump(node.elt.value), []).append(
                    (ast.dump(node), bound(sl.lower), bound(sl.upper)))
    split = set()
    for cut in pieces.values():
        lowers = {lo for _, lo, _ in cut if lo}
        uppers = {up for _, _, up in cut if up}
        split |= {piece for piece, lo, up in cut if up in lowers or lo in uppers}
    return split


def helpers_of(trees: list[ast.AST]) -> dict[str, list[ast.stmt]]:
    """Every function defined in these trees (the methods of a class excepted), by name."""
    methods = {id(f) for tree in trees for c in ast.walk(tree) if isinstance(c, ast.ClassDef)
               for f in c.body if isinstance(f, ast.FunctionDef)}
    return {f.name: _without_docstring(f.body) for tree in trees for f in ast.walk(tree)
            if isinstance(f, ast.FunctionDef) and id(f) not in methods}


class Context:
    """What the rest of a chapter (or of a solution) says about a piece of its code: the
    functions it defines, to inline at a call, the names that hold windows, and the pieces
    of windows cut into inputs and targets."""

    def __init__(self, trees: list[ast.AST] = ()):
        trees = list(trees)
        self.helpers = helpers_of(trees)
        self.holders = window_holders(trees)
        self.split = split_pieces(trees, self.holders)
        self.cells: dict[str, tuple] = {}  # a cell's operations, computed once (best_match)


class _Operations(ast.NodeVisitor):
    """The operations of a piece of code, in source order, names and numbers dropped."""

    def __init__(self, context: Context | None = None):
        self.ops: list[str] = []
        self.context = context or Context()
        self.inlining: list[str] = []

    def add(self, op):
        op = _name(op)
        if op:
            self.ops.append(op)

    def visit(self, node):
        if isinstance(node, ast.expr) and not isinstance(node, ast.Name):
            # (a name that holds windows is an operand like any name)
            piece = node.args[0] if isinstance(node, ast.Call) and _callee(node) in COLLECTORS \
                and node.args else node
            if ast.dump(piece) in self.context.split:
                self.add("cut-windows")
                return None
            if _windows_root(node, set()) is not None:
                self.add("make-windows")
                return None
        return super().visit(node)

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
        helper = func.id if isinstance(func, ast.Name) else None
        if helper in self.context.helpers and helper not in self.inlining:
            self.inlining.append(helper)  # a function of the chapter counts as its body
            for stmt in self.context.helpers[helper]:
                self.visit(stmt)
            self.inlining.pop()
            return
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
        if isinstance(node.value, ast.Call) and _callee(node.value) == "range":
            return  # a stored range is the bounds of the loop that iterates it
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


def operations(nodes: list[ast.stmt], context: Context | None = None) -> list[str]:
    visitor = _Operations(context)
    for node in nodes:
        visitor.visit(node)
    return visitor.ops


@functools.cache
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


@functools.cache
def solution_operations(assignment: str, grade_id: str) -> tuple[str, ...]:
    body = solution_bodies(assignment)[grade_id]
    return tuple(operations(body, Context([ast.Module(body=list(body), type_ignores=[])])))


def in_cells(ops: list[str]) -> bool:
    """Is a solution of these operations looked for in the runs of a cell (long enough, or
    distinctive), or only in the functions a chapter defines?"""
    return len(ops) >= MIN_OPERATIONS or bool(DISTINCTIVE & set(ops))


ALL_SOLUTIONS = [(a, gid) for a in ASSIGNMENTS for gid in solution_bodies(a)]
SOLUTIONS = [(a, gid) for a, gid in ALL_SOLUTIONS if in_cells(solution_operations(a, gid))]
SHORT_SOLUTIONS = [(a, gid) for a, gid in ALL_SOLUTIONS
                   if not in_cells(solution_operations(a, gid))
                   and len(solution_operations(a, gid)) >= MIN_FUNCTION_OPERATIONS]


@functools.cache
def _code_cells(chapter_text: str) -> tuple[str, ...]:
    nb = jupytext.reads(chapter_text, fmt="md:myst")
    # a cell that loads one of the book's shared files (`:load: _lib/checks.py`) shows its code
    return tuple((ROOT / "book" / c.metadata["load"]).read_text(encoding="utf-8") if "load" in c.metadata
                 else c.source for c in nb.cells if c.cell_type == "code")


def code_cells(chapter_text: str) -> list[str]:
    return list(_code_cells(chapter_text))


def chapter_context(cells: list[str]) -> Context:
    return _chapter_context(tuple(cells))


@functools.cache
def _chapter_context(cells: tuple[str, ...]) -> Context:
    trees = []
    for cell in cells:
        try:
            trees.append(ast.parse(cell))
        except SyntaxError:  # IPython magics: no leak
            pass
    return Context(trees)


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


def _header(stmt: ast.stmt, context: Context | None = None) -> list[str]:
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        return operations([ast.Expr(stmt.iter)], context) + ["for"]
    if isinstance(stmt, (ast.If, ast.While)):
        return operations([ast.Expr(stmt.test)], context) + ["if"]
    return []


def _contains(skeleton: list[str], ops: list[str]) -> bool:
    it = iter(ops)
    return all(op in it for op in skeleton)


def best_match(solution_ops: list[str], cell_source: str, context: Context | None = None) -> float:
    """The highest similarity between the solution's operations and those of a run of
    consecutive statements of the cell; `context` holds the functions and windows of the
    whole chapter (by default, of this cell alone). A cell that shows a solution's
    distinctive operations (windows cut into inputs and targets), in order, scores 1."""
    try:
        tree = ast.parse(cell_source)
    except SyntaxError:  # IPython magics; no chapter uses them, but they are no leak either
        return 0.0
    if context is None:
        context = chapter_context([cell_source])
    if cell_source not in context.cells:
        stmts = [s for s in _statements(tree) if not isinstance(s, (ast.Import, ast.ImportFrom))]
        # A statement that contains others (a loop, a function) counts here with its header
        # only, since its inner statements follow it in the list; it is also compared whole.
        context.cells[cell_source] = (
            operations(tree.body, context),
            [operations([s], context) for s in stmts if hasattr(s, "body")],
            [_header(s, context) if hasattr(s, "body") else operations([s], context) for s in stmts])
    whole, compound, per_stmt = context.cells[cell_source]
    solution_ops = list(solution_ops)
    skeleton = [op for op in solution_ops if op in DISTINCTIVE]
    if skeleton and _contains(skeleton, whole):
        return 1.0
    best = similarity(solution_ops, whole)
    for ops in compound:
        best = similarity(solution_ops, ops, best)
    for i in range(len(per_stmt)):
        run: list[str] = []
        for j in range(i, len(per_stmt)):
            run = run + per_stmt[j]
            if len(run) > 2 * len(solution_ops):
                break
            best = similarity(solution_ops, run, best)
    return best


def similarity(a: list[str], b: list[str], best: float = 0.0) -> float:
    """max(best, difflib's ratio of a and b) when that ratio reaches THRESHOLD, else best.
    Below THRESHOLD two runs are simply not the same code, so the ratio (the slow part of
    this test) is computed only when its two cheap upper bounds (from the lengths; from the
    counts of each operation) reach THRESHOLD and beat `best`: the scores that reach
    THRESHOLD are difflib's exactly, and a score below it reads 0."""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for bound in (matcher.real_quick_ratio, matcher.quick_ratio):
        upper = bound()
        if upper < THRESHOLD or upper <= best:
            return best
    ratio = matcher.ratio()
    return ratio if ratio >= THRESHOLD and ratio > best else best


def function_match(solution_ops: list[str], context: Context) -> tuple[float, str]:
    """The highest similarity between the solution's operations and the body of a function
    the chapter defines (its own calls to the chapter's functions inlined), and its name."""
    best, where = 0.0, ""
    for name, body in context.helpers.items():
        score = similarity(list(solution_ops), operations(body, context), best)
        if score > best:
            best, where = score, name
    return best, where


@functools.cache
def chapter_scores(chapter_text: str, assignment: str) -> dict[str, tuple[float, str]]:
    """grade_id -> (the highest similarity of the solution to what the chapter shows, where):
    a run of one cell's statements, the chapter's functions inlined, for a solution long or
    distinctive enough; the body of a function the chapter defines, for a short one. A
    similarity below THRESHOLD reads 0 (see `similarity`)."""
    cells = code_cells(chapter_text)
    context = chapter_context(cells)
    scores = {}
    for gid in solution_bodies(assignment):
        ops = solution_operations(assignment, gid)
        if in_cells(ops):
            per_cell = [best_match(ops, c, context) for c in cells]
            best = max(per_cell, default=0.0)
            scores[gid] = (best, f"cell {per_cell.index(best)}" if per_cell else "")
        elif len(ops) >= MIN_FUNCTION_OPERATIONS:
            score, name = function_match(ops, context)
            scores[gid] = (score, f"function {name}")
    return scores


def leaked_solutions(chapter_text: str, assignment: str) -> dict[str, float]:
    """grade_id -> similarity, for every solution of `assignment` that the chapter shows."""
    return {gid: score for gid, (score, _) in chapter_scores(chapter_text, assignment).items()
            if score >= THRESHOLD}


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
    module = ast.Module(body=copy.deepcopy(list(body)), type_ignores=[])  # the cached bodies stay
    module = ast.fix_missing_locations(_ToTorch().visit(module))
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


@pytest.mark.parametrize("assignment,grade_id", SOLUTIONS + SHORT_SOLUTIONS)
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_no_chapter_cell_or_function_shows_a_solution_body(chapter, assignment, grade_id):
    """A long solution in any run of a cell's statements; a short one in any function a
    chapter defines (chapter_scores looks at both)."""
    score, where = chapter_scores(chapter.read_text(encoding="utf-8"), assignment)[grade_id]
    assert score < THRESHOLD, \
        f"{chapter.name}: {where} does what {assignment}'s {grade_id} does (similarity {score:.2f})"


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


# --- the spellings folded together, each planted and caught ------------------------------

def plant_two(chapter_text: str, first: str, second: str) -> str:
    """The chapter with `first` in a cell near its start and `second` in a cell at its end."""
    return plant(chapter_text, first) + f"\n```{{code-cell}} ipython3\n{second}\n```\n"


# make_windows as someone might write it for a chapter: every spelling of sliding windows cut
# into inputs and targets, none of them the solution's.
WINDOWS_SPELLINGS = {
    "torch unfold": (
        "chunks = torch.as_tensor(series).unfold(0, w + k, S)\n"
        "X, Y = chunks[:, :w], chunks[:, w:]"),
    "numpy sliding_window_view": (
        "view = np.lib.stride_tricks.sliding_window_view(series, w + k)[::S]\n"
        "inputs = view[:, :w]\n"
        "targets = view[:, w:]"),
    "numpy as_strided": (
        "M = (len(series) - w - k) // S + 1\n"
        "step = series.strides[0]\n"
        "chunks = np.lib.stride_tricks.as_strided(series, shape=(M, w + k),\n"
        "                                         strides=(S * step, step))\n"
        "X, Y = chunks[:, :w].copy(), chunks[:, w:].copy()"),
    "torch comprehensions": (
        "X = torch.stack([series[a:a + w] for a in range(0, len(series) - w - k + 1, S)])\n"
        "Y = torch.stack([series[a + w:a + w + k] for a in range(0, len(series) - w - k + 1, S)])"),
}


@pytest.mark.parametrize("spelling", WINDOWS_SPELLINGS)
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_make_windows_in_every_spelling_of_sliding_windows_is_caught(chapter, spelling):
    text = chapter.read_text(encoding="utf-8")
    assert "make_windows" not in leaked_solutions(text, "07-capstone")
    assert "make_windows" in leaked_solutions(plant(text, WINDOWS_SPELLINGS[spelling]), "07-capstone")


# The capstone's cells as the reviewer of issue 22 read them: windows by `unfold` and cut by a
# helper that selects a part (defined in one cell, called in the same and in another), and the
# errors in a helper under another name.
OLD_CAPSTONE_WINDOWS = """chunks = torch.tensor(z).unfold(0, w + k, S)          # (M, w + k)
first_target = torch.arange(len(chunks)) * S + w      # index of y_{i,1}
last_target = first_target + k - 1


def part(lo, hi):
    \"\"\"Windows whose targets all lie in u[lo:hi]: inputs, targets.\"\"\"
    keep = (first_target >= lo) & (last_target < hi)
    return chunks[keep, :w].float(), chunks[keep, w:].float()


X_tr, Y_tr = part(0, n_train)"""
OLD_CAPSTONE_ERRORS = """def errors(Y_hat, Y):
    \"\"\"(RMSE, MAE) in sunspot units of scaled forecasts and targets.\"\"\"
    d = (Y_hat.double() - Y.double()) * std
    return torch.sqrt((d ** 2).mean()).item(), d.abs().mean().item()"""


def test_the_capstone_cells_the_reviewer_read_are_caught():
    text = (ROOT / "book" / "07-capstone.md").read_text(encoding="utf-8")
    assert leaked_solutions(text, "07-capstone") == {}
    planted = plant_two(text, OLD_CAPSTONE_WINDOWS, "X_te, Y_te = part(n_train + n_val, n)")
    assert "make_windows" in leaked_solutions(planted, "07-capstone")
    planted = plant_two(text, OLD_CAPSTONE_ERRORS, "print(errors(persistence(X_te), Y_te))")
    assert "rmse_mae" in leaked_solutions(planted, "07-capstone")


def test_shifted_windows_and_one_window_at_a_time_are_not_make_windows():
    """What the folding must not catch: chapter 5's windows and their copies shifted by one
    step (the seed's many-to-many targets), and a Dataset whose item is one window."""
    text = (ROOT / "book" / "07-capstone.md").read_text(encoding="utf-8")
    shifted = ("windows = torch.stack([u[a:a + w + 1] for a in starts])\n"
               "X_all, Y_all = windows[:, :-1, None], windows[:, 1:]\n"
               "best_all = torch.stack([best[a + 1:a + w + 1] for a in starts])")
    one_at_a_time = ("class Windows(Dataset):\n"
                     "    def __len__(self):\n"
                     "        return (len(u) - w - k) // S + 1\n"
                     "    def __getitem__(self, i):\n"
                     "        values = u[i * S:i * S + w + k]\n"
                     "        return values[:w], values[w:]\n"
                     "X, Y = next(iter(DataLoader(Windows(), batch_size=len(u))))")
    for code in (shifted, one_at_a_time):
        assert "make_windows" not in leaked_solutions(plant(text, code), "07-capstone"), code


def _split_in_two(assignment: str, grade_id: str) -> tuple[str, str]:
    """The solution, translated to torch and renamed, cut in two: a helper function that does
    its first statements, and the call to that helper followed by the rest."""
    module = ast.parse(translated(solution_bodies(assignment)[grade_id]))
    body = module.body
    half = max(1, len(body) // 2)
    first = ast.unparse(ast.Module(body=body[:half], type_ignores=[]))
    rest = ast.unparse(ast.Module(body=body[half:], type_ignores=[]))
    helper = "def prepare(*args):\n" + "\n".join("    " + line for line in first.splitlines())
    return helper, "prepare(x)\n" + rest


@pytest.mark.parametrize("assignment,grade_id", SOLUTIONS)
def test_a_solution_split_over_a_helper_defined_in_another_cell_is_caught(assignment, grade_id):
    chapter = (ROOT / "book" / f"{assignment}.md").read_text(encoding="utf-8")
    helper, call = _split_in_two(assignment, grade_id)
    planted = plant_two(chapter, helper, call)
    assert grade_id in leaked_solutions(planted, assignment), helper + "\n---\n" + call


@pytest.mark.parametrize("assignment,grade_id", SHORT_SOLUTIONS)
def test_a_short_solution_in_a_function_of_another_name_is_caught(assignment, grade_id):
    chapter = (ROOT / "book" / f"{assignment}.md").read_text(encoding="utf-8")
    body = translated(solution_bodies(assignment)[grade_id])
    code = "def helper_of_another_name(*args):\n" + "\n".join("    " + line for line in body.splitlines())
    assert grade_id not in leaked_solutions(chapter, assignment)
    assert grade_id in leaked_solutions(plant(chapter, code), assignment), code
    # the same lines in a cell, outside any function, are an equation checked on one example
    assert grade_id not in leaked_solutions(plant(chapter, body.replace("return ", "shown = ")),
                                            assignment)
