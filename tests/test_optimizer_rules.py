"""Chapter 6's known mistakes are computed by rules written in torch ops, each a switch
away from the reference: without the switch they are torch.optim, step for step."""
import numpy as np
import pytest

from autograde import chapters
from autograde.chapters import ch06_optimizers as ch06

RULES = {"sgd_step": ch06._sgd_ops, "adagrad_step": ch06._adagrad_ops, "rmsprop_step": ch06._rmsprop_ops,
         "adam_step": ch06._adam_ops, "adamw_step": ch06._adamw_ops}


@pytest.mark.parametrize("name", sorted(RULES))
def test_the_torch_op_rules_without_a_mistake_are_torch_optim(name):
    fn = chapters.get(name)
    for inputs in fn.cases(fn.public_seed, fn.n_public) + fn.cases(99, fn.n_hidden, first=fn.n_public):
        for ours, reference in zip(ch06._ops_trajectory(RULES[name], None, **inputs), fn.expected(inputs),
                                   strict=True):
            np.testing.assert_allclose(ours, reference, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_switch_changes_the_trajectory(name):
    """The test above could pass with a rule that ignores its switch: it does not."""
    fn = chapters.get(name)
    inputs = fn.cases(fn.public_seed, fn.n_public)
    for m in chapters.mistakes_for(name):
        assert any(not np.allclose(a, b, rtol=1e-8, atol=1e-9)
                   for case in inputs for a, b in zip(m.outputs(case), fn.expected(case))), m.key
