"""The checks test cells call: what they accept, what they reject, what they say."""
import nbformat
import numpy as np
import pytest

from autograde import chapters
from autograde.grading import records, trusted
from autograde.kernel import checks, record
from autograde.kernel.checks import CheckFailed, check
from conftest import ASSIGNMENTS, solution_path, solution_sources
from wrong_implementations import cases as wrong_cases


def load_functions(assignment, replace=None):
    """Execute the assignment's solution cells (with `replace` overriding some) and
    return the namespace, as the student's kernel would hold it."""
    ns = {"np": np}
    nb = nbformat.read(solution_path(assignment), as_version=4)
    exec(next(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "imports"), ns)
    sources = {**solution_sources(assignment), **(replace or {})}
    for fn in chapters.assignments()[assignment]:
        exec(sources[fn.name], ns)
    return ns


FUNCTIONS = [(a, fn.name) for a in ASSIGNMENTS for fn in chapters.assignments()[a]]


@pytest.mark.parametrize("assignment,name", FUNCTIONS)
def test_the_solution_passes_public_and_hidden_cases(assignment, name, capsys):
    ns = load_functions(assignment)
    check(name, ns[name])
    check(name, ns[name], hidden_seed=4242)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("assignment,name,mistake,source", wrong_cases(), ids=lambda v: str(v)[:40])
def test_every_wrong_implementation_fails_its_public_check(assignment, name, mistake, source):
    ns = load_functions(assignment, {name: source})
    with pytest.raises(CheckFailed) as info:
        check(name, ns[name])
    assert str(info.value).startswith(f"{name}, public case ")


def test_a_value_mismatch_names_function_case_shapes_max_error_and_first_index():
    def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
        return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T)  # b_hh dropped
    with pytest.raises(CheckFailed) as info:
        check("rnn_cell", rnn_cell)
    msg = str(info.value)
    assert msg.startswith("rnn_cell, public case 0 (x_t: (3, 4), h_prev: (3, 6), W_ih: (6, 4)")
    assert "h_t differs from the reference: max abs error" in msg
    assert "first differing index (0, 0)" in msg
    assert "3 of 3 public cases fail" in msg


def test_a_shape_mismatch_names_both_shapes():
    right = load_functions("01-rnn-basics")["rnn_forward"]
    def rnn_forward(*args):
        output, h_n = right(*args)
        return output, h_n[None]  # nn.RNN's (num_layers, B, H) instead of (B, H)
    with pytest.raises(CheckFailed, match=r"h_n has shape \(1, 3, 6\); expected shape \(3, 6\)"):
        check("rnn_forward", rnn_forward)


def test_an_unfinished_function_is_reported_as_not_implemented():
    def rnn_cell(*args):
        raise NotImplementedError()
    with pytest.raises(CheckFailed, match="rnn_cell is not implemented yet"):
        check("rnn_cell", rnn_cell)


def test_an_exception_in_student_code_names_the_case_and_the_error():
    def jordan_step(x_t, y_prev, W_ih, W_yh, b_h, W_hy, b_y):
        return np.tanh(x_t @ W_ih.T + y_prev @ W_yh + b_h), None
    with pytest.raises(CheckFailed, match=r"jordan_step, public case 0 .* raised ValueError: matmul"):
        check("jordan_step", jordan_step)


def test_a_wrong_tuple_length_is_explained():
    with pytest.raises(CheckFailed, match=r"should return a tuple \(h_t, y_t\), got a ndarray"):
        check("jordan_step", lambda x_t, *rest: x_t)


def test_an_integer_count_must_be_exact_and_an_int():
    with pytest.raises(CheckFailed, match="count should be an integer 13568, got 13568.0"):
        check("rnn_param_count", lambda *a: 13568.0)


def test_hidden_case_messages_reveal_no_reference_values():
    def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
        return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T)
    with pytest.raises(CheckFailed) as info:
        check("rnn_cell", rnn_cell, hidden_seed=99)
    assert "hidden case" in str(info.value) and "expected" not in str(info.value)


def test_warnings_from_student_code_go_to_stdout_not_stderr(capsys):
    def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
        np.log(np.zeros(1))  # RuntimeWarning: divide by zero
        return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)
    check("rnn_cell", rnn_cell)
    out = capsys.readouterr()
    assert out.err == ""
    assert "RuntimeWarning: divide by zero" in out.out


def test_the_students_arguments_are_copies():
    seen = []
    def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
        W_hh *= 0  # a student's in-place edit must not change the next case or the reference
        seen.append(1)
        return np.tanh(x_t @ W_ih.T + b_ih + b_hh)
    check("rnn_cell", load_functions("01-rnn-basics")["rnn_cell"])
    with pytest.raises(CheckFailed):
        check("rnn_cell", rnn_cell)
    check("rnn_cell", load_functions("01-rnn-basics")["rnn_cell"])


def test_recorded_outputs_are_rescored_outside_the_kernel(tmp_path, monkeypatch):
    """GRADING.md item 2: a verdict reached in the student's kernel can be re-reached by
    a process that trusts only the recorded outputs, and a patched comparison shows."""
    monkeypatch.setenv(record.ENV, str(tmp_path / "honest"))
    ns = load_functions("01-rnn-basics")
    functions = chapters.assignments()["01-rnn-basics"]
    known = {fn.name: len(fn.outputs) for fn in functions}
    for fn in functions:
        check(fn.name, ns[fn.name])
        check(fn.name, ns[fn.name], hidden_seed=7)
    read = records.read(tmp_path / "honest", known)
    assert not read.problems
    verdicts = trusted.rescore(read.records, {fn.name: 7 for fn in functions})
    assert len(verdicts) == sum(fn.n_public + fn.n_hidden for fn in functions)
    assert all(v.passed and v.kernel_passed for v in verdicts)

    # A submission that patches the comparison passes in its kernel, not outside it.
    monkeypatch.setenv(record.ENV, str(tmp_path / "patched"))
    monkeypatch.setattr(checks, "compare_outputs", lambda *a, **k: None)
    check("rnn_cell", lambda x_t, h_prev, *w: np.zeros_like(h_prev))
    verdicts = trusted.rescore(records.read(tmp_path / "patched", known).records, {})
    assert verdicts and all(v.kernel_passed and not v.passed for v in verdicts)
    assert "h_t differs from the reference" in verdicts[0].message

# Issue 24, item 8: what a check prints reads as English and shows what a student can use.
def test_a_small_hyperparameter_pair_is_shown_by_its_values_not_its_shape():
    def adam_step(theta, g, state, lr, betas, eps, weight_decay, amsgrad=False):
        return theta - lr * g  # plain SGD: wrong on every case
    with pytest.raises(CheckFailed) as info:
        check("adam_step", adam_step)
    msg = str(info.value)
    assert "betas=(0.9, 0.999)" in msg, msg
    assert "betas: (2,)" not in msg


def test_one_case_is_counted_in_the_singular_and_a_passing_forecast_says_its_margin(capsys):
    from autograde.kernel.cases import public_cases

    ns = load_functions("01-rnn-basics")
    check("rnn_cell", ns["rnn_cell"])
    assert "on all 3 public cases" in capsys.readouterr().out
    (case,) = public_cases("forecast")  # the capstone's forecast has one public case
    from autograde.kernel.adapters import ch07_capstone as adapters

    targets = np.asarray(case.expected[0])
    simple = adapters.simple_forecasts(case.inputs["u_train"], case.inputs["windows"], case.inputs["k"])
    best = min(simple.values(), key=lambda f: np.sqrt(np.mean((f - targets) ** 2)))
    halfway = 0.5 * best + 0.5 * targets  # RMSE half the best simple forecast's

    def forecast(u_train, windows, k):
        return halfway.copy()
    check("forecast", forecast)
    out = capsys.readouterr().out
    assert "on its 1 public case" in out and "all 1 " not in out, out
    # how far below the bar: RMSE 0.5 x the best simple forecast's, the bar 0.9 x: 44% below it
    assert "below the bar" in out and "44% below" in out, out
