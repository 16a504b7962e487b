"""The expected outputs come from PyTorch, not from our own solutions."""
import nbformat
import numpy as np
import pytest

from autograde import chapters
from autograde.grading import references
from autograde.kernel import cases
from conftest import ASSIGNMENTS, solution_path

FUNCTIONS = [fn.name for name in ASSIGNMENTS for fn in chapters.assignments()[name]]


def test_every_assignment_has_graded_functions_registered():
    assert set(ASSIGNMENTS) == set(chapters.assignments())


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_solution_cell_is_a_registered_graded_function(assignment):
    nb = nbformat.read(solution_path(assignment), as_version=4)
    solution_ids = {c.metadata.nbgrader["grade_id"] for c in nb.cells
                    if c.metadata.get("nbgrader", {}).get("solution")}
    assert solution_ids == {fn.name for fn in chapters.assignments()[assignment]}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_shipped_public_cases_agree_with_pytorch_recomputed_now(assignment):
    """Inputs and specs as shipped; outputs to float64 precision (another CPU's vector
    units may change the last bit, never more)."""
    assert references.compare_public(assignment) == []


@pytest.mark.parametrize("name", FUNCTIONS)
def test_hidden_cases_differ_from_public_ones_and_vary_in_shape(name):
    fn = chapters.get(name)
    hidden = references.hidden_inputs(name, 12345)
    public = fn.cases(fn.public_seed, fn.n_public)
    kinds = {repr([np.shape(v) if isinstance(v, np.ndarray) else v for v in c.values()]) for c in hidden}
    assert len(kinds) > 1
    for h in hidden:
        for p in public:
            assert any(not np.array_equal(h[k], p[k]) for k in fn.inputs)


def test_a_corrupted_reference_file_is_detected(tmp_path, monkeypatch):
    """The agreement test above can fail: change one stored number by more than float64
    noise and it does; a last-bit change (another CPU) does not."""
    data = dict(np.load(cases.data_path("01-rnn-basics")))
    monkeypatch.setattr(cases, "DATA_DIR", tmp_path)
    key = "rnn_forward/0/out/0"
    try:
        data[key] = np.nextafter(data[key], np.inf)
        np.savez(tmp_path / "01-rnn-basics.npz", **data)
        cases._load.cache_clear()
        assert references.compare_public("01-rnn-basics") == []
        data[key] = data[key] + 1e-6
        np.savez(tmp_path / "01-rnn-basics.npz", **data)
        cases._load.cache_clear()
        assert any(p.startswith(key) for p in references.compare_public("01-rnn-basics"))
    finally:
        cases._load.cache_clear()
        cases.specs.cache_clear()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_test_cell_is_named_after_the_function_it_checks(assignment):
    """Reports and feedback find a test's function from its grade id."""
    from autograde.grading.score import expected_checks, function_of

    nb = nbformat.read(solution_path(assignment), as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            calls = expected_checks(cell.source)
            assert calls, f"{meta['grade_id']} calls no check"
            kind = "hidden" if calls[0].kind == "hidden" else "public"
            assert meta["grade_id"] == f"test_{calls[0].function}_{kind}"
            assert function_of(meta["grade_id"]) == calls[0].function
