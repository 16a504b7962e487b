"""The standard paragraphs of every exercise's intro, written once and filled in at release.

An exercise's source (solutions/NN-name/NN-name.md) keeps what is its own (its title and
opening, notation, points) and marks where each standard paragraph goes with
`<!-- course: NAME -->`, or `<!-- course: NAME | TEXT -->` where the paragraph takes a
text of the exercise's own. `fill` writes them (course.make_notebook calls it, beside the
install paragraph). What a paragraph says about the exercise's functions (known mistakes,
which graded function calls which) comes from the chapter's `GradedFunction`s.
"""
from __future__ import annotations

import re

MARK = re.compile(r"<!-- course: ([a-z-]+)(?: \| (.*?))? -->", re.S)


def _how_to_work(name: str, arg: str) -> str:
    from autograde import chapters

    mistakes = any(chapters.mistakes_for(fn.name) for fn in chapters.assignments()[name])
    named = "; if your output is a known mistake, it names the mistake" if mistakes else ""
    return ("**How to work.** Replace each `raise NotImplementedError()` with your code, then run\n"
            "the check cell below it. A check prints `ok: ...` or tells you which case failed, the\n"
            "shapes of its inputs, and the max abs error and first index where your output\n"
            f"differs{named}. When your notebook\n"
            "is graded, hidden cases with other shapes and values run as well, so make your code work\n"
            "for any sizes, not just the ones the public cases use.")


def _rules(name: str, arg: str) -> str:
    exception = f" {arg}" if arg else ""
    return ("**Rules.** Compute in float64 throughout and return float64 arrays: every output is\n"
            f"compared with the reference's to within $10^{{-10}} + 10^{{-9}}|x|${exception},\n"
            "so float32 arithmetic anywhere inside a function fails its check every time, even when\n"
            "the result is converted back to float64. Leave your arguments unchanged, arrays inside a\n"
            "list or dict argument included (no `+=`, `x[...] = ...` on an argument: its caller still\n"
            "needs it).")


def _graded(name: str, arg: str) -> str:
    from autograde import chapters

    text = ("**What is graded, and when.** Each function below is graded on its own, with the points\n"
            "given in its heading. Each has two check cells:\n"
            "- the *public* check (`check(\"name\", name)`) runs now, in your notebook: its expected\n"
            "  outputs ship with the checks, so it carries no points;\n"
            "- the *hidden* check (\"Hidden cases of ... run here when your notebook is graded\")\n"
            "  carries the function's points. It runs only at grading: your function is called on\n"
            "  new inputs and what it returns is compared with PyTorch outside your notebook (the\n"
            "  notebook itself never sees the answers). It shows nothing useful before then.")
    calls = [f"`{fn.name}` may call {' and '.join(f'`{u}`' for u in fn.uses)}"
             for fn in chapters.assignments()[name] if fn.uses]
    if calls:
        text += ("\n\nWhere a function may call another graded one\n"
                 f"({'; '.join(calls)}), and yours does,\n"
                 "its points depend on its own outputs: a mistake in the function it calls can cost "
                 "its points too, and the check\nthen names that function so you fix it first.")
    return text


def _hand_in(name: str, arg: str) -> str:
    return ("**Before you hand in,** restart the kernel and run all cells (Kernel → Restart Kernel and\n"
            "Run All Cells): every public check should print `ok`. "
            f"`nbgrader validate {name}.ipynb`,\n"
            "run in a terminal in this notebook's folder, does the same and lists the failing cells;\n"
            "it needs nbgrader (`pip install nbgrader`).")


def _seeds(name: str, arg: str) -> str:
    if not arg:
        raise ValueError("the seeds paragraph says why the exercise names seed 004: "
                         "<!-- course: seeds | WHY -->")
    return ("**\"Seed 004\".** The course grew out of five Chinese tutorials, its *seeds*, numbered 000 to\n"
            "004 and listed in the book's introduction (\"Where the course comes from\"). Seed 004 is\n"
            "\"深度学习 | DRNN、BRNN、LSTM、GRU\", on deep and bidirectional RNNs, LSTM and GRU;\n"
            f"{arg}")


PARAGRAPHS = {"how-to-work": _how_to_work, "rules": _rules, "graded": _graded,
              "hand-in": _hand_in, "seeds": _seeds}


def fill(text: str, name: str) -> str:
    """`text` (a markdown cell of exercise `name`) with every marked paragraph written in."""
    def one(m: re.Match) -> str:
        key, arg = m.group(1), " ".join((m.group(2) or "").split())
        if key not in PARAGRAPHS:
            raise ValueError(f"{name}: no standard intro paragraph {key!r} (known: {', '.join(PARAGRAPHS)})")
        return PARAGRAPHS[key](name, arg)
    return MARK.sub(one, text)
