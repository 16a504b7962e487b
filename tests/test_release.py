"""What students get: generated from solutions/, never hand-edited, with nothing secret in it."""
import json
import subprocess

import nbformat
import pytest

from autograde.grading import authoring
from kit import leaks
from conftest import ASSIGNMENTS, BIN, ROOT, release_path, solution_path


def _canonical(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    return json.dumps(nb, sort_keys=True, indent=1)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_solution_notebook_is_generated_from_its_jupytext_source(assignment, tmp_path):
    fresh = authoring.make_notebook(ROOT / "solutions" / assignment / f"{assignment}.md", tmp_path / "nb.ipynb")
    assert _canonical(fresh) == _canonical(solution_path(assignment)), \
        f"solutions/{assignment}/{assignment}.ipynb is stale: run `make exercises`"


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    # The configured address given explicitly: the same notebooks as `rnn-course release`,
    # without rewriting the checkout's solutions/*.ipynb under tests reading them meanwhile
    # (make test's workers); test_the_solution_notebook_is_generated_... checks those.
    authoring.release(ROOT, out_dir=out, url=authoring.book_url(ROOT))
    return out


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercises_equal_what_the_release_command_produces(assignment, fresh_release):
    committed = sorted(p.name for p in (ROOT / "exercises" / assignment).iterdir())
    produced = sorted(p.name for p in (fresh_release / assignment).iterdir())
    assert committed == produced == [f"{assignment}.ipynb"]
    assert _canonical(release_path(assignment)) == _canonical(fresh_release / assignment / f"{assignment}.ipynb"), \
        f"exercises/{assignment} was edited by hand or is stale: run `make exercises`"


def test_every_assignment_is_released_and_nothing_else():
    assert sorted(p.name for p in (ROOT / "exercises").iterdir()) == ASSIGNMENTS


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_released_notebook_contains_solution_or_hidden_test_code(assignment):
    secrets = leaks.secret_lines(solution_path(assignment))
    assert len(secrets) >= 5, "too few secret lines to make this test meaningful"
    assert any(kind == "hidden test" for kind in secrets.values())
    for path in (ROOT / "exercises").rglob("*.ipynb"):
        assert leaks.find_leaks(path.read_text(encoding="utf-8"), secrets) == [], path


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_leak_finder_catches_a_planted_solution_line(assignment):
    secrets = leaks.secret_lines(solution_path(assignment))
    nb = nbformat.read(release_path(assignment), as_version=4)
    line = next(s for s, kind in secrets.items() if kind == "solution")
    nb.cells[-1].source += "\n    " + line
    assert leaks.find_leaks(nbformat.writes(nb), secrets) == [f"solution: {line}"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_stubs_raise_not_implemented(assignment):
    nb = nbformat.read(release_path(assignment), as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            assert "raise NotImplementedError()" in cell.source
        if meta.get("grade") or meta.get("solution") is False:
            assert meta.get("locked"), f"{meta.get('grade_id')} must be locked"


def _validate(path, tmp_path):
    proc = subprocess.run([str(BIN / "nbgrader"), "validate", str(path)], cwd=tmp_path,
                          capture_output=True, text=True,
                          env={"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp_path)})
    return proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_nbgrader_validate_passes_the_solution_and_fails_the_release(assignment, tmp_path):
    assert "Success! Your notebook passes all the tests." in _validate(solution_path(assignment), tmp_path)
    released = _validate(release_path(assignment), tmp_path)
    assert "VALIDATION FAILED" in released
    assert "not implemented yet" in released


def test_the_common_mistakes_page_is_generated_from_the_catalogue():
    page = ROOT / "book" / "common-mistakes.md"
    assert page.read_text(encoding="utf-8") == authoring.mistakes_page(ROOT), \
        "book/common-mistakes.md is stale or hand-edited: run `make exercises`"


def test_the_common_mistakes_page_capitalises_words_but_never_identifiers():
    from autograde import chapters

    page = authoring.mistakes_page(ROOT)
    titles = [m.title for a in ASSIGNMENTS for fn in chapters.assignments()[a]
              for m in chapters.mistakes_for(fn.name)]
    identifiers = [t for t in titles if not t.split()[0].isalpha() or not t.split()[0].islower()]
    words = [t for t in titles if t not in identifiers]
    assert identifiers and words
    for title in identifiers:  # "b_hh left out" stays "b_hh", never "B_hh"
        assert f":::{{admonition}} {title}\n" in page
    for title in words:
        assert f":::{{admonition}} {title[0].upper()}{title[1:]}\n" in page


@pytest.mark.slow
def test_nbgrader_validate_shows_every_message_line_whole(tmp_path):
    """Issue 24, item 7: `nbgrader validate`, which each exercise recommends, cuts a line
    of an error at its width (90, less its indent, with "..."): a failed check's message,
    its diagnosis and the student's quoted line must reach the student whole."""
    import re

    from autograde import chapters
    from conftest import make_submission

    wrong = {"rnn_cell": "def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):\n"
                         "    return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T)  # b_hh left out\n",
             "rnn_forward": "def rnn_forward(X, h_0, W_ih, W_hh, b_ih, b_hh):\n"
                            "    return X.reshape(-1)[1000000] + W_ih.sum() + W_hh.sum() + b_ih.sum() + b_hh.sum()\n"}
    path = tmp_path / "01-rnn-basics.ipynb"
    nbformat.write(make_submission("01-rnn-basics", wrong), path)
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([str(BIN / "nbgrader"), "validate", str(path)], cwd=tmp_path, capture_output=True,
                         text=True, env=env).stdout
    assert "VALIDATION FAILED" in out
    cut = [line for line in out.splitlines() if line.endswith("...")]
    assert not cut, "\n".join(cut)
    flat = " ".join(out.split())
    mistake = chapters.known_mistake("rnn_cell", "b_hh-missing")
    assert " ".join(mistake.explanation.split()) in flat  # the diagnosis, every word
    assert "X.reshape(-1)[1000000] + W_ih.sum() + W_hh.sum() + b_ih.sum() + b_hh.sum()" in flat  # the quoted line


def test_the_intros_standard_paragraphs_are_written_once_and_filled_at_release():
    """Issue 26: the paragraphs every exercise's intro shares live in grading/intro.py; a
    source marks where each goes, and the release writes it in (an unknown or incomplete
    mark is refused, never released as a comment)."""
    from autograde.grading import intro

    for assignment in ASSIGNMENTS:
        source = (ROOT / "solutions" / assignment / f"{assignment}.md").read_text(encoding="utf-8")
        for shared in ("**Before you hand in,**", "**What is graded, and when.**",
                       "The course grew out of five Chinese tutorials"):
            assert shared not in source, f"{assignment} writes {shared!r} itself: mark it instead"
        assert "<!-- course: hand-in -->" in source
    filled = intro.fill("a\n\n<!-- course: hand-in -->\n\n<!-- course: rules | (`f`: exact) -->", "01-rnn-basics")
    assert "nbgrader validate 01-rnn-basics.ipynb" in filled and "<!--" not in filled
    assert "$10^{-10} + 10^{-9}|x|$ (`f`: exact)," in filled
    assert "(`rnn_forward` may call `rnn_cell`; `many_to_one` may call `rnn_forward`)" in \
        intro.fill("<!-- course: graded -->", "01-rnn-basics")  # from the chapter's `uses`
    for bad in ("<!-- course: handin -->", "<!-- course: seeds -->"):
        with pytest.raises(ValueError):
            intro.fill(bad, "01-rnn-basics")
