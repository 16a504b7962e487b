"""Grading throughput, ours against stock nbgrader, side by side in one run: `make bench`.

The same generated class (default 40 submissions: correct, wrong, unanswered, and
broken ones: a crashing kernel, a corrupted file) is graded twice:
  stock  `nbgrader autograde` (serial, no isolation), then feedback and CSV export;
  ours   `rnn-course grade` (bubblewrap isolation, parallel), then feedback and CSV.
Printed: wall time and submissions per minute of each (the grading step alone, and
end to end), their ratio, and our per-submission overhead (sandbox, runner and
kernel start: wall minus the notebook's own cell time) beside the cell time.
Targets on 2 cores: ours at least 1.6x stock's throughput; overhead under 1.5 s.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograde.grading import course, pipeline  # noqa: E402

A = "01-rnn-basics"
WRONG = {"rnn_cell": "def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):\n"
                     "    return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh + b_hh)\n",
         "rnn_param_count": "def rnn_param_count(input_size, hidden_size, num_layers=1, bidirectional=False, bias=True):\n"
                            "    return hidden_size * (input_size + hidden_size + 2) * num_layers\n"}


def make_class(folder: Path, n: int) -> None:
    kinds = ["correct", "wrong", "correct", "unanswered", "wrong2", "correct", "crash", "corrupted"]
    for i in range(n):
        kind = kinds[i % len(kinds)]
        target = folder / "submitted" / f"{kind}-{i:03d}" / A
        target.mkdir(parents=True)
        if kind == "unanswered":
            nb = course.student_notebook(ROOT, A, solved=False)
        elif kind == "wrong":
            nb = course.student_notebook(ROOT, A, {"rnn_cell": WRONG["rnn_cell"]})
        elif kind == "wrong2":
            nb = course.student_notebook(ROOT, A, {"rnn_param_count": WRONG["rnn_param_count"]})
        else:
            nb = course.student_notebook(ROOT, A)
        if kind == "crash":
            nb.cells.insert(len(nb.cells) - 3, nbformat.v4.new_code_cell("import os\nos._exit(1)"))
        text = nbformat.writes(nb)
        (target / f"{A}.ipynb").write_text(text[: len(text) // 2] if kind == "corrupted" else text)


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    n = args.submissions
    with tempfile.TemporaryDirectory(prefix="rnn-throughput-") as tmp:
        stock_dir, ours_dir = Path(tmp) / "stock", Path(tmp) / "ours"
        make_class(stock_dir, n)
        shutil.copytree(stock_dir / "submitted", ours_dir / "submitted")

        # Stock nbgrader: the same steps, its grading step timed alone too.
        db, _ = course._prepare_course(ROOT, A, stock_dir)
        _, stock_grade = timed(course.nbgrader, "autograde", A, "--create", "--force", root=stock_dir, db=db,
                               check=False)
        _, stock_rest = timed(course._feedback, A, stock_dir, db, None)
        stock_total = stock_grade + stock_rest

        db, released = course._prepare_course(ROOT, A, ours_dir)
        a = pipeline.Assignment(A, nbformat.read(ours_dir / "source" / A / f"{A}.ipynb", 4), nbformat.read(released, 4))
        results, ours_grade = timed(pipeline.grade_all, ours_dir, a, f"sqlite:///{db}", jobs=args.jobs,
                                    progress=False)
        _, ours_rest = timed(course._feedback, A, ours_dir, db, None)
        ours_total = ours_grade + ours_rest

    ran = [r for r in results if r.seconds]
    overhead = [r.seconds["wall"] - r.seconds["cells"] for r in ran]
    cells = [r.seconds["cells"] for r in ran]
    kernel = [r.seconds["kernel_start"] for r in ran]
    print(f"{n} submissions (correct, wrong, unanswered, crashing, corrupted), 2 cores")
    print(f"  grading step   stock nbgrader autograde {stock_grade:6.1f} s = {60 * n / stock_grade:5.1f}/min   "
          f"ours (isolated, parallel) {ours_grade:6.1f} s = {60 * n / ours_grade:5.1f}/min   "
          f"ratio {stock_grade / ours_grade:.2f}x")
    print(f"  with feedback  stock {stock_total:6.1f} s = {60 * n / stock_total:5.1f}/min   "
          f"ours {ours_total:6.1f} s = {60 * n / ours_total:5.1f}/min   ratio {stock_total / ours_total:.2f}x")
    print(f"  ours per submission: overhead (sandbox + runner + kernel start) mean {statistics.mean(overhead):.2f} s, "
          f"max {max(overhead):.2f} s; of it kernel start {statistics.mean(kernel):.2f} s; "
          f"notebook cells {statistics.mean(cells):.2f} s")
    flagged = sum(1 for r in results if r.flags)
    print(f"  ours: {sum(r.score for r in results):g} points in all, {flagged} submissions flagged")


if __name__ == "__main__":
    main()
