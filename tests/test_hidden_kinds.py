"""The same code gets the same grade under every hidden seed (issue 23, item 5).

A submission's hidden cases are made from a seed of its own. If a mistake shows only on
some kind of case (a bidirectional LSTM with a projection, a gradient that is clipped,
two examples in a batch), a hidden set that lacks that kind lets the mistake keep its
points by luck. So every graded function declares the kinds its spec names, makes a
hidden case's kind from its index, and these tests check, over many seeds:
- every hidden set holds every declared kind;
- every wrong implementation (tests/wrong_implementations.py) fails some hidden case.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest

from autograde import chapters
from autograde.grading import references
from autograde.kernel.cases import Case
from autograde.kernel.checks import _call, run_cases
from autograde.kernel.cases import spec as get_spec
from test_checks import load_functions
from wrong_implementations import WRONG, cases as wrong_cases

FUNCTIONS = [fn for fns in chapters.assignments().values() for fn in fns]
KIND_SEEDS = range(1000)


@pytest.mark.slow
@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda fn: fn.name)
def test_every_hidden_set_holds_every_kind_the_spec_names_over_1000_seeds(fn):
    missing = {}
    for seed in KIND_SEEDS:
        found = set().union(*(fn.kind_of(c) for c in references.hidden_inputs(fn.name, seed)))
        assert found <= set(fn.kinds), f"{fn.name}: kind_of names undeclared kinds {found - set(fn.kinds)}"
        if set(fn.kinds) - found:
            missing[seed] = sorted(set(fn.kinds) - found)
    assert not missing, f"{fn.name}: {len(missing)} of {len(KIND_SEEDS)} seeds lack a kind, e.g. " \
                        f"{next(iter(missing.items()))}"


def test_a_kind_made_by_chance_is_caught_by_the_kind_test():
    """The check above fails when kinds are drawn at random, as rnn_output_shapes's
    bidirectional option was before."""
    fn = chapters.get("rnn_output_shapes")
    original = fn.make_inputs

    def by_chance(rng, index):
        case = original(rng, index)
        return {**case, "bidirectional": bool(rng.integers(0, 2))}

    object.__setattr__(fn, "make_inputs", by_chance)
    try:
        with pytest.raises(AssertionError, match="seeds lack a kind"):
            test_every_hidden_set_holds_every_kind_the_spec_names_over_1000_seeds(fn)
    finally:
        object.__setattr__(fn, "make_inputs", original)


# --- every wrong implementation loses points under every seed ------------------------
# Expected outputs come from the course's own numpy solution (which matches PyTorch on
# every case: test_checks), so many seeds cost milliseconds, not PyTorch calls.

WRONG_SEEDS = range(300)
WRONG_FUNCTIONS = sorted({(a, f) for a, f, _, _ in wrong_cases() if f != "forecast"})
# Mistakes that only some kinds of case show, beside those of wrong_implementations.py
# (which also go through real grading): the batch axis put first in h_n only when the
# module is bidirectional and batch_first (the public cases cannot tell it from the
# catalogued "h_n-batch-first", so it is not one of WRONG's).
EXTRA = {("05-deep-bidirectional", "rnn_output_shapes"): {"h_n batch-first only when bidirectional": '''
def rnn_output_shapes(mode, T, B, D, H, num_layers, bidirectional, batch_first, proj_size):
    dirs = 2 if bidirectional else 1
    H_out = proj_size if mode == "LSTM" and proj_size > 0 else H
    output = (B, T, dirs * H_out) if batch_first else (T, B, dirs * H_out)
    first = (B, num_layers * dirs) if bidirectional and batch_first else (num_layers * dirs, B)
    h_n = (*first, H_out)
    return output, h_n, ((*first, H) if mode == "LSTM" else None)
'''}}


@functools.cache
def _solution(assignment):
    return load_functions(assignment)


def _expected_cases(assignment, name, seed):
    return list(_each_expected_case(assignment, name, seed))


def _each_expected_case(assignment, name, seed):
    spec = get_spec(name)
    solution = _solution(assignment)[name]
    for i, inputs in enumerate(references.hidden_inputs(name, seed)):
        case = Case(name, "hidden", i, inputs, None)
        result, _ = _call(solution, case, spec)
        result = spec.unpack_result(result)
        expected = list(result) if len(spec.outputs) > 1 and isinstance(result, (tuple, list)) else [result]
        yield Case(name, "hidden", i, inputs, expected)


class _Lazily(list):
    """The items of an iterator, each made the first time it is reached and kept."""

    def __init__(self, items):
        super().__init__()
        self._items = iter(items)

    def __iter__(self):
        yield from super().__iter__()
        for item in self._items:
            self.append(item)
            yield item


def _fails_a_case(name, fn, cases) -> bool:
    """Does `fn` fail one of `cases`? Each case is run alone (run_cases fails each case on
    its own), in order, up to the first that fails."""
    return any(run_cases(name, fn, [case]).failures for case in cases)


@pytest.mark.slow
@pytest.mark.parametrize("assignment,name", WRONG_FUNCTIONS, ids=lambda v: str(v))
def test_every_wrong_implementation_fails_a_hidden_case_under_every_seed(assignment, name, capsys):
    sources = {**WRONG[assignment][name], **EXTRA.get((assignment, name), {})}
    wrongs = {key: load_functions(assignment, {name: src})[name] for key, src in sources.items()}
    lucky: dict[str, list[int]] = {}
    for seed in WRONG_SEEDS:
        cases = _Lazily(_each_expected_case(assignment, name, seed))  # expected outputs made as reached
        for key, wrong in wrongs.items():
            if not _fails_a_case(name, wrong, cases):
                lucky.setdefault(key, []).append(seed)
    capsys.readouterr()
    assert not lucky, f"{name}: wrong implementations that keep full marks under some seeds " \
                      f"(of {len(WRONG_SEEDS)}): " + "; ".join(f"{k}: {len(v)} seeds, e.g. {v[:3]}"
                                                              for k, v in lucky.items())


def test_the_solution_passes_every_hidden_seed_it_is_compared_under():
    """The comparison above is not vacuous: the right answer passes, a wrong one fails."""
    cases = _expected_cases("05-deep-bidirectional", "rnn_output_shapes", 7)
    right = _solution("05-deep-bidirectional")["rnn_output_shapes"]
    assert not run_cases("rnn_output_shapes", right, cases).failures
    assert not _fails_a_case("rnn_output_shapes", right, _Lazily(iter(cases)))
    wrong = load_functions("05-deep-bidirectional", {"rnn_output_shapes": next(iter(
        WRONG["05-deep-bidirectional"]["rnn_output_shapes"].values()))})["rnn_output_shapes"]
    assert run_cases("rnn_output_shapes", wrong, cases).failures
    assert _fails_a_case("rnn_output_shapes", wrong, _Lazily(iter(cases)))
    assert np.all(np.asarray(cases[0].expected[0]) > 0)
