# The book's equation check and number formats, one copy for every
# chapter. A chapter loads this file into a code cell (`:load:
# _lib/checks.py`): the build copies the code in, so a chapter's
# downloaded notebook holds it.
import torch

CHECKS = []  # every check of the chapter: (label, verdict, max |diff|)


def number(x):
    """A number to print: 0 when it is exactly zero, else two digits."""
    if x == 0:
        return "0"
    return f"{x:.2g}" if 1e-3 <= abs(x) < 1e4 else f"{x:.1e}"


def sci(x):
    """A number in scientific notation, or 0 when it is exactly zero."""
    return "0" if x == 0 else f"{x:.1e}"


def check(label, ours, reference, rtol=1e-12, atol=1e-13, expect=True):
    """Compare a tensor from an equation with the one PyTorch computed,
    in float64, and print one line: the label, the verdict of
    torch.allclose, the largest absolute difference. A comparison that
    shows a difference on purpose says expect=False, and its line says
    "(expected)". Tensors of different shapes are an error, never
    broadcast."""
    ours = torch.as_tensor(ours).double()
    reference = torch.as_tensor(reference).double()
    if ours.shape != reference.shape:  # never compared by broadcasting
        raise ValueError(f"{label}: shapes {tuple(ours.shape)} and "
                         f"{tuple(reference.shape)} differ")
    verdict = torch.allclose(ours, reference, rtol=rtol, atol=atol)
    diff = (ours - reference).abs().max().item()
    CHECKS.append((label, verdict, diff))
    if not expect:
        note = "(expected)" if verdict == expect else "(expected False)"
        verdict = f"{verdict} {note}"
    # a verdict longer than five characters takes its room from the label
    width = 49 - max(len(str(verdict)), 5)
    print(f"{label:<{width}} {verdict!s:<5}  max |diff| {number(diff)}")


class Word(str):
    """A word or phrase glued into the prose (shown without quotes)."""

    def __repr__(self):
        return str(self)
