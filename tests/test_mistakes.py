"""The catalogue of known mistakes, and diagnosis: a wrong answer is named when it is a
known mistake, never when it is not, and a right answer is never diagnosed."""
import numpy as np
import pytest

from autograde import chapters
from autograde.grading import references
from autograde.kernel import cases
from autograde.kernel.checks import CheckFailed, check
from autograde.kernel.compare import compare_outputs
from conftest import ASSIGNMENTS
from test_checks import load_functions
from wrong_implementations import WRONG

FUNCTIONS = [(a, fn.name) for a in ASSIGNMENTS for fn in chapters.assignments()[a]]
CATALOGUED = [(a, f, m.key) for a, f in FUNCTIONS for m in chapters.mistakes_for(f)]


@pytest.mark.parametrize("assignment,name", FUNCTIONS)
def test_every_graded_function_has_at_least_three_known_mistakes(assignment, name):
    known = chapters.mistakes_for(name)
    assert len(known) >= 3
    for m in known:
        assert len(m.title) > 8 and len(m.explanation) > 60, m.key


@pytest.mark.parametrize("assignment,name", FUNCTIONS)
def test_every_mistake_is_visible_on_the_public_cases_and_unlike_the_others(assignment, name):
    spec = chapters.get(name)
    public = cases.public_cases(name)
    known = chapters.mistakes_for(name)
    for m in known:
        assert any(compare_outputs(spec.outputs, c.expected, m.outputs(c.inputs) if spec.outputs[1:]
                                   else m.outputs(c.inputs)[0]) is not None for c in public), \
            f"{m.key} gives the right answer on every public case"
    for i, a in enumerate(known):
        for b in known[i + 1:]:
            assert any(a.key not in c.mistakes or b.key not in c.mistakes or
                       compare_outputs(spec.outputs, c.mistakes[a.key],
                                       c.mistakes[b.key] if spec.outputs[1:] else c.mistakes[b.key][0]) is not None
                       for c in public), f"{a.key} and {b.key} cannot be told apart"


@pytest.mark.parametrize("assignment,name", FUNCTIONS)
def test_the_shipped_mistake_outputs_agree_with_pytorch_recomputed_now(assignment, name):
    for case in cases.public_cases(name):
        fresh = references.mistake_outputs(name, case.inputs)
        assert set(fresh) == set(case.mistakes)
        for key, outputs in fresh.items():
            for a, b in zip(outputs, case.mistakes[key], strict=True):
                np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=0, atol=1e-12)


@pytest.mark.parametrize("assignment,name,key", CATALOGUED)
def test_every_catalogued_mistake_has_a_wrong_implementation_to_test_it(assignment, name, key):
    assert key in WRONG[assignment][name]


@pytest.mark.parametrize("assignment,name,key", [(a, f, k) for a, fs in WRONG.items() for f, ks in fs.items()
                                                 for k in ks])
def test_a_known_mistake_is_named_in_the_public_check_and_nothing_else_is(assignment, name, key):
    ns = load_functions(assignment, {name: WRONG[assignment][name][key]})
    with pytest.raises(CheckFailed) as info:
        check(name, ns[name])
    message = str(info.value)
    catalogued = {m.key: m for m in chapters.mistakes_for(name)}
    key = key.split("@")[0]  # "mistake@variant": another way of writing the same mistake
    if key in catalogued:
        assert f'This looks like a known mistake, "{catalogued[key].title}"' in message
        assert catalogued[key].explanation in message
    others = [m.title for k, m in catalogued.items() if k != key]
    assert not any(f'"{t}"' in message for t in others), message


@pytest.mark.parametrize("assignment,name", FUNCTIONS)
def test_a_correct_function_is_never_diagnosed(assignment, name, capsys):
    ns = load_functions(assignment)
    check(name, ns[name])
    check(name, ns[name], hidden_seed=31337)
    assert "known mistake" not in capsys.readouterr().out


def test_an_unknown_mistake_is_not_guessed():
    def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
        return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh) * 0.5
    with pytest.raises(CheckFailed, match="It matches none of the known mistakes of rnn_cell"):
        check("rnn_cell", rnn_cell)


def test_hidden_cases_are_diagnosed_too():
    ns = load_functions("01-rnn-basics", {"rnn_forward": WRONG["01-rnn-basics"]["rnn_forward"]["h_0-ignored"]})
    with pytest.raises(CheckFailed, match=r'(?s)hidden case .*This looks like a known mistake, "h_0 ignored'):
        check("rnn_forward", ns["rnn_forward"], hidden_seed=5)


def test_an_exception_is_reported_without_a_diagnosis():
    with pytest.raises(CheckFailed) as info:
        check("rnn_cell", lambda *a: 1 / 0)
    assert "ZeroDivisionError" in str(info.value) and "known mistake" not in str(info.value)


def test_an_in_place_change_does_not_hide_a_known_mistake():
    """Issue 23, item 14: both are reported, the in-place change first."""
    ns = load_functions("01-rnn-basics", {"rnn_cell": """
def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    b = b_ih
    b += b_hh
    return x_t @ W_ih.T + h_prev @ W_hh.T + b
"""})
    with pytest.raises(CheckFailed) as info:
        check("rnn_cell", ns["rnn_cell"])
    message = str(info.value)
    title = next(m.title for m in chapters.mistakes_for("rnn_cell") if m.key == "no-tanh")
    assert "changed its argument b_ih in place" in message
    assert message.index("in place") < message.index(f'This looks like a known mistake, "{title}"')


def test_an_in_place_change_with_right_values_names_no_mistake():
    ns = load_functions("01-rnn-basics", {"rnn_cell": """
def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    b = b_ih
    b += b_hh
    return np.tanh(x_t @ W_ih.T + h_prev @ W_hh.T + b)
"""})
    with pytest.raises(CheckFailed) as info:
        check("rnn_cell", ns["rnn_cell"])
    assert "in place" in str(info.value) and "known mistake" not in str(info.value)
