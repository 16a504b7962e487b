"""A new chapter is one plug-in (issue 26): added to a copy of the course by its three
sources (the book chapter, the solution notebook's source, the chapter module), one file
of wrong implementations and its `_toc.yml` lines, and nothing else, a toy chapter is
released by `rnn-course release`, graded by `rnn-course grade` (full marks for the
solution, partial marks for a wrong implementation, diagnosed as its known mistake), and
listed: in the preface's chapter list, the common-mistakes page and the wrong
implementations the tests collect (its cascades derived from its `uses`).
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TOY = "09-toy"

# --- the five places a new chapter takes ----------------------------------------------

CHAPTER_MODULE = '''"""Chapter 9, a toy: a scaled copy of an array and its column sums."""
from __future__ import annotations

from .registry import Chapter, mistake

CHAPTER = Chapter("09-toy")
_KINDS = ("any",)


def _inputs(rng, index):
    return {"x": rng.normal(size=(3 + index, 2)), "a": float(rng.uniform(0.5, 2.0))}


def _scale(x, a):
    import torch

    return ((torch.from_numpy(x) * a).numpy(),)


def _total(x, a):
    import torch

    return ((torch.from_numpy(x) * a).sum(dim=0).numpy(),)


CHAPTER.graded(name="toy_scale", inputs=("x", "a"), outputs=("y",), make_inputs=_inputs,
               reference=_scale, matches="torch's product", kinds=_KINDS, kind_of=lambda inputs: {"any"})
CHAPTER.graded(name="toy_total", inputs=("x", "a"), outputs=("s",), make_inputs=_inputs,
               reference=_total, matches="torch's sum", kinds=_KINDS, kind_of=lambda inputs: {"any"},
               uses=("toy_scale",))


@mistake("toy_total", "mean-not-sum", "The mean of each column instead of its sum",
         "toy_total adds up each column of the scaled array; dividing by the number of rows "
         "gives the mean.")
def _(x, a):
    import torch

    return ((torch.from_numpy(x) * a).mean(dim=0).numpy(),)
'''

WRONG_FILE = '''"""Chapter 9, a toy: its wrong implementations."""

WRONG = {
    "toy_total": {
        "mean-not-sum": """
def toy_total(x, a):
    return toy_scale(x, a).mean(axis=0)
""",
    },
}
'''


def _cell(kind: str, source: str, grade_id: str, **nbgrader) -> str:
    meta = {"grade": False, "grade_id": grade_id, "locked": True, "schema_version": 3, "solution": False,
            **nbgrader}
    if kind == "markdown":
        return f"+++ {json.dumps({'nbgrader': meta}, sort_keys=True)}\n\n{source}\n"
    header = "\n".join(f"  {k}: {json.dumps(v)}" for k, v in sorted(meta.items()))
    return f"```{{code-cell}} ipython3\n---\nnbgrader:\n{header}\n---\n{source}\n```\n"


def _task(name: str, points: int, seed: int, solution: str) -> str:
    return "\n".join([
        _cell("markdown", f"## `{name}` ({points} points)", f"task_{name}"),
        _cell("code", f"def {name}(x, a):\n    ### BEGIN SOLUTION\n    {solution}\n    ### END SOLUTION",
              name, locked=False, solution=True),
        _cell("code", f'check("{name}", {name})', f"test_{name}_public", grade=True, points=0),
        _cell("code", f"# Hidden cases of {name} run here when your notebook is graded.\n"
                      f"### BEGIN HIDDEN TESTS\ncheck(\"{name}\", {name}, hidden_seed={seed})\n"
                      f"### END HIDDEN TESTS", f"test_{name}_hidden", grade=True, points=points),
    ])


SOLUTION_SOURCE = "\n".join([
    "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n"
    "kernelspec:\n  display_name: Python 3\n  language: python\n  name: python3\n---\n",
    _cell("markdown", "# Exercise 9: a toy\n\n<!-- install: the release writes how to install the checks here -->\n\n"
                      "Points: `toy_scale` 2, `toy_total` 1 (3 in all).", "intro"),
    _cell("code", "import numpy as np\n\nfrom autograde.kernel import check", "imports"),
    _task("toy_scale", 2, 9101, "return a * x"),
    _task("toy_total", 1, 9102, "return toy_scale(x, a).sum(axis=0)"),
])

BOOK_CHAPTER = """---
summary: >-
  a toy chapter, added as a plug-in.
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3 (ipykernel)
  language: python
  name: python3
---

# A toy

Nothing to read here.
"""

TOC_LINES = f"""      - file: book/{TOY}
        sections:
          - file: exercises/{TOY}/{TOY}
"""


def _add_chapter(root: Path) -> None:
    """Add the toy chapter to the course copy at `root`: the five places, and nothing else."""
    (root / "autograde" / "chapters" / "ch09_toy.py").write_text(CHAPTER_MODULE)
    (root / "solutions" / TOY).mkdir(parents=True)
    (root / "solutions" / TOY / f"{TOY}.md").write_text(SOLUTION_SOURCE)
    (root / "book" / f"{TOY}.md").write_text(BOOK_CHAPTER)
    (root / "tests" / "wrong" / "ch09_toy.py").write_text(WRONG_FILE)
    toc = (root / "_toc.yml").read_text()
    last = "          - file: exercises/08-char-lm/08-char-lm\n"
    assert last in toc
    (root / "_toc.yml").write_text(toc.replace(last, last + TOC_LINES))


def _copy_course(root: Path) -> None:
    """The parts of the checkout that releasing, grading and listing read: the package,
    the book's sources and extensions, the settings and table of contents, the tests'
    collector of wrong implementations. No other chapter's solutions: the toy alone is
    released and graded."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "autograde", root / "autograde", ignore=ignore)
    shutil.copytree(ROOT / "book", root / "book", ignore=ignore)
    (root / "solutions").mkdir()
    (root / "tests" / "wrong").mkdir(parents=True)
    shutil.copy2(ROOT / "tests" / "wrong_implementations.py", root / "tests")
    for name in ("_toc.yml", "_config.yml"):
        shutil.copy2(ROOT / name, root / name)


def _run(root: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'tests'}"}
    proc = subprocess.run(args, cwd=cwd or root, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{' '.join(args)}:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


def _submission(root: Path, replace: dict[str, str]) -> nbformat.NotebookNode:
    """The released notebook with every solution cell filled from the solution notebook,
    then the cells in `replace` overwritten."""
    nb = nbformat.read(root / "exercises" / TOY / f"{TOY}.ipynb", as_version=4)
    solution = nbformat.read(root / "solutions" / TOY / f"{TOY}.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in solution.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    answers.update(replace)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


@pytest.fixture(scope="module")
def course_copy(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("course")
    _copy_course(root)
    _add_chapter(root)
    return root


@pytest.mark.slow  # a copy of the course, released and graded with the real commands
def test_the_copy_runs_its_own_package(course_copy):
    proc = _run(course_copy, str(BIN / "python"), "-c",
                "import autograde, autograde.chapters as c; print(autograde.__file__); "
                "print(c.chapters()['09-toy'].module, [f.name for f in c.assignments()['09-toy']])")
    path, declared = proc.stdout.splitlines()
    assert Path(path) == course_copy / "autograde" / "__init__.py"
    assert declared == "ch09_toy ['toy_scale', 'toy_total']"


@pytest.mark.slow  # a copy of the course, released and graded with the real commands
def test_a_new_chapter_is_released_graded_and_listed(course_copy):
    root = course_copy
    # Its public cases, computed with PyTorch, and its release.
    _run(root, str(BIN / "rnn-course"), "references")
    assert (root / "autograde" / "kernel" / "data" / f"{TOY}.npz").is_file()
    _run(root, str(BIN / "rnn-course"), "references", "--check")
    _run(root, str(BIN / "rnn-course"), "release")
    released = nbformat.read(root / "exercises" / TOY / f"{TOY}.ipynb", as_version=4)
    text = "\n".join(c.source for c in released.cells)
    assert "raise NotImplementedError()" in text and "return a * x" not in text and "hidden_seed" not in text

    # Listed: in the preface's list of chapters (made from _toc.yml), on the common-mistakes
    # page the release writes, and among the wrong implementations the tests collect.
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        import chapter_list
    finally:
        sys.path.remove(str(ROOT / "book" / "_ext"))
    listed = chapter_list.markdown(root)
    assert f"9. {{doc}}`/book/{TOY}`: a toy chapter, added as a plug-in." in listed
    assert listed.count("{doc}") == 9
    assert "The mean of each column instead of its sum" in (root / "book" / "common-mistakes.md").read_text()
    proc = _run(root, str(BIN / "python"), "-c",
                "import json, wrong_implementations as w; "
                "print(json.dumps([w.WRONG, sorted(w.DEPENDS['toy_total'])]))")
    wrong, depends = json.loads(proc.stdout)
    assert list(wrong) == [TOY] and depends == ["toy_scale"]

    # Graded: the solution gets full marks, the wrong implementation partial ones,
    # diagnosed as the chapter's known mistake.
    course_dir = root / "course"
    subs = {"solved": _submission(root, {}),
            "wrong": _submission(root, {"toy_total": wrong[TOY]["toy_total"]["mean-not-sum"].strip() + "\n"})}
    for student, nb in subs.items():
        folder = course_dir / "submitted" / student / TOY
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{TOY}.ipynb")
    _run(root, str(BIN / "rnn-course"), "grade", TOY, "--course-dir", str(course_dir), "--jobs", "2")
    with open(course_dir / "grades.csv", newline="", encoding="utf-8") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert set(rows) == {"solved", "wrong"}
    assert float(rows["solved"]["score"]) == float(rows["solved"]["max_score"]) == 3, rows["solved"]
    assert not rows["solved"]["flags"], rows["solved"]
    assert float(rows["wrong"]["score"]) == 2 and float(rows["wrong"]["test_toy_total_hidden"]) == 0, rows["wrong"]
    assert float(rows["wrong"]["test_toy_scale_hidden"]) == 2 and not rows["wrong"]["flags"], rows["wrong"]
    result = json.loads((course_dir / "autograded" / "wrong" / TOY / "result.json").read_text())
    failed = [c for c in result["cells"] if not c["trusted_passed"]]
    assert {c["grade_id"] for c in failed} == {"test_toy_total_public", "test_toy_total_hidden"}
    assert {c["diagnosis"] for c in failed} == {"mean-not-sum"}
    feedback = (course_dir / "feedback" / "wrong" / TOY / f"{TOY}.html").read_text(encoding="utf-8")
    assert "The mean of each column instead of its sum" in feedback


# --- what a chapter's declaration refuses ----------------------------------------------

def _declare(**graded):
    from autograde.chapters.registry import Chapter

    chapter = Chapter("98-refused")
    fields = dict(name="refused_fn", inputs=("x",), outputs=("y",), make_inputs=lambda rng, i: {"x": 0},
                  reference=lambda x: (x,), matches="nothing", kinds=("any",), kind_of=lambda inputs: {"any"})
    return chapter.graded(**{**fields, **graded})


def test_an_adapter_outside_the_kernels_adapters_is_refused():
    """The student's kernel calls an adapter by its name in autograde.kernel.adapters: a
    function defined anywhere else (here, in this test) could not be found there."""
    with pytest.raises(ValueError, match="prepare must be a function of a chapter's module"):
        _declare(prepare=lambda inputs: (inputs["x"],))


def test_a_chapter_declares_only_sandbox_imports_a_sandbox_holds_and_a_name_of_its_form():
    from autograde.chapters.registry import Chapter

    with pytest.raises(ValueError, match="sandbox imports no sandbox holds"):
        Chapter("98-refused", sandbox_imports=("tensorflow",))
    with pytest.raises(ValueError, match="NN-words-with-dashes"):
        Chapter("98_refused")
    assert Chapter("98-refused-twice").module == "ch98_refused_twice"


def test_a_graded_function_declares_its_kinds_and_holds_its_spec():
    from autograde import chapters

    with pytest.raises(ValueError, match="declare the case kinds"):
        _declare(kinds=())
    fn = chapters.get("rnn_forward")
    assert fn.declared.assignment == "01-rnn-basics" and fn.uses == ("rnn_cell",)
    assert fn.spec().mistakes and not fn.declared.mistakes  # the known mistakes join at spec()
    assert chapters.chapters()["07-capstone"].sandbox_imports == ("torch",)
    assert all(chapters.sandbox_imports(a) == () for a in chapters.chapters() if a != "07-capstone")


def test_a_chapter_module_whose_declaration_names_another_chapter_is_refused(tmp_path):
    """One name everywhere: ch98_one.py declaring Chapter("98-other") stops discovery."""
    package = tmp_path / "autograde"
    shutil.copytree(ROOT / "autograde", package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (package / "chapters" / "ch98_one.py").write_text(
        'from .registry import Chapter\n\nCHAPTER = Chapter("98-other")\n')
    proc = subprocess.run([str(BIN / "python"), "-c", "import autograde.chapters as c; c.load()"], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)}, capture_output=True, text=True)
    assert proc.returncode != 0 and "declares the chapter '98-other', whose module is ch98_other.py" in proc.stderr
