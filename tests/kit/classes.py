"""A generated class of chapter 1's submissions, graded by tests/test_cluster.py and by
benchmarks/grading_throughput.py (which imports it from here; no test imports a benchmark)."""
from __future__ import annotations

from pathlib import Path

import nbformat

from kit import notebooks

ROOT = Path(__file__).resolve().parents[2]

# A generated class of chapter 1 (tests/test_cluster.py, benchmarks/grading_throughput.py):
# correct, wrong, unanswered, and broken submissions (a crashing kernel, a corrupted file).
CLASS_ASSIGNMENT = "01-rnn-basics"
CLASS_WRONG = {"rnn_cell": "def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):\n"
                           "    return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh + b_hh)\n",
               "rnn_param_count": "def rnn_param_count(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):\n"
                                  "    return hidden_size * (input_size + hidden_size + 2) * num_layers\n"}


def make_class(folder: Path, n: int) -> None:
    """Write `n` submissions of CLASS_ASSIGNMENT into `folder`/submitted, cycling through
    the kinds: correct, wrong, correct, unanswered, wrong2, correct, crash, corrupted."""
    A = CLASS_ASSIGNMENT
    kinds = ["correct", "wrong", "correct", "unanswered", "wrong2", "correct", "crash", "corrupted"]
    for i in range(n):
        kind = kinds[i % len(kinds)]
        target = folder / "submitted" / f"{kind}-{i:03d}" / A
        target.mkdir(parents=True)
        if kind == "unanswered":
            nb = notebooks.student_notebook(ROOT, A, solved=False)
        elif kind == "wrong":
            nb = notebooks.student_notebook(ROOT, A, {"rnn_cell": CLASS_WRONG["rnn_cell"]})
        elif kind == "wrong2":
            nb = notebooks.student_notebook(ROOT, A, {"rnn_param_count": CLASS_WRONG["rnn_param_count"]})
        else:
            nb = notebooks.student_notebook(ROOT, A)
        if kind == "crash":
            nb.cells.insert(len(nb.cells) - 3, nbformat.v4.new_code_cell("import os\nos._exit(1)"))
        text = nbformat.writes(nb)
        (target / f"{A}.ipynb").write_text(text[: len(text) // 2] if kind == "corrupted" else text)
