"""Each chapter's execution time, cell by cell, as the build runs it (printed, not asserted).

    .venv/bin/python benchmarks/chapter_times.py [book/03-lstm.md ...]   (default: every chapter)

A chapter is read as MyST-NB reads it and executed cell by cell in a fresh kernel whose working
folder is book/, as `jupyter-book build` runs it. For each chapter it prints the wall time
and the kernel's CPU time (user + system, its children included), then its slowest cells.
CPU time hardly moves with the machine's load (the chapters run PyTorch on one thread), so
it is the figure to judge the budget by on a busy machine; wall time is what a build on an
idle machine takes.

The budget (COURSE.md, issue 22): a chapter executes in at most 60 s on 2 idle cores (the
capstone 90 s), and no cell comes near the cell timeout (`execute.timeout` in _config.yml):
each cell stays under a fifth of it on an idle machine, so that a machine five times slower
still builds the book.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psutil
import yaml
from myst_nb.core.read import read_myst_markdown_notebook
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
CHAPTER_BUDGET = {"07": 90}  # seconds on 2 idle cores; every other chapter 60


def cell_timeout() -> int:
    return int(yaml.safe_load((ROOT / "_config.yml").read_text())["execute"]["timeout"])


def _cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system + t.children_user + t.children_system


def _first_line(source: str) -> str:
    lines = [line for line in source.splitlines() if line.strip() and not line.startswith(("#", ":"))]
    return lines[0][:60] if lines else ""


def time_chapter(path: Path) -> tuple[float, float, list[tuple[float, float, int, str]]]:
    """(wall s, kernel CPU s, [(cell CPU s, cell wall s, cell index, first line)])."""
    # as MyST-NB reads it: a cell with `:load: _lib/checks.py` runs that file's code
    nb = read_myst_markdown_notebook(path.read_text(encoding="utf-8"), path=path)
    client = NotebookClient(nb, timeout=10 * cell_timeout(), kernel_name="python3",
                            resources={"metadata": {"path": str(path.resolve().parent)}})
    cells = []
    start = time.perf_counter()
    with client.setup_kernel():
        proc = psutil.Process(client.km.provisioner.process.pid)
        cpu0 = _cpu(proc)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            wall, cpu = time.perf_counter(), _cpu(proc)
            client.execute_cell(cell, index)
            cells.append((_cpu(proc) - cpu, time.perf_counter() - wall, index, _first_line(cell.source)))
        cpu_total = _cpu(proc) - cpu0
    return time.perf_counter() - start, cpu_total, cells


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", type=Path)
    parser.add_argument("--cells", type=int, default=5, help="how many of the slowest cells to print")
    args = parser.parse_args(argv)
    paths = args.chapters or sorted((ROOT / "book").glob("[0-9][0-9]-*.md"))
    limit = cell_timeout() / 5
    print(f"cell timeout {cell_timeout()} s (execute.timeout in _config.yml); a cell's budget is a fifth: {limit:.0f} s")
    print(f"{'chapter':28s} {'wall s':>7s} {'CPU s':>7s} {'budget s':>8s}  slowest cell (wall s)")
    for path in paths:
        wall, cpu, cells = time_chapter(path)
        budget = CHAPTER_BUDGET.get(path.name[:2], 60)
        slowest = max(cells)
        verdict = "met" if wall <= budget and slowest[1] <= limit else "MISSED"
        print(f"{path.stem:28s} {wall:7.1f} {cpu:7.1f} {budget:8d}  {slowest[1]:5.1f}  {verdict}")
        for cpu_s, wall_s, index, first in sorted(cells, reverse=True)[:args.cells]:
            print(f"    cell {index:3d}  CPU {cpu_s:5.1f} s  wall {wall_s:5.1f} s  {first}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
