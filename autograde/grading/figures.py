"""The class report's figures (see `autograde.grading.report`), drawn from its report.json alone.

    python -m autograde.grading.figures FOLDER [FIGURE ...]   FOLDER/report.json -> FOLDER/*.png
    python -m autograde.grading.figures --wait                the same, FOLDER and FIGUREs read from stdin

A module of its own that imports nothing of the course (no nbformat, no chapters), so
the process that draws the figures pays for matplotlib's import and nothing else.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path


def shown_by(summary: dict) -> dict[str, object]:
    """Figure file -> the part of the summary it shows (all that `draw` reads for it)."""
    return {"scores.png": summary["questions"], "mistakes.png": summary["mistakes"][:12],
            "time.png": [t for t in summary["seconds"]["per_student"].values() if t is not None]}


def drawn_from(summary: dict) -> dict[str, str]:
    """Figure file -> a digest of what it shows and of the code that draws it: equal
    digests, equal figures."""
    code = Path(__file__).read_bytes()
    return {name: hashlib.sha256(code + name.encode() + json.dumps(part).encode()).hexdigest()
            for name, part in shown_by(summary).items()}


def draw(summary: dict, folder: Path, only: list[str] | None = None) -> list[tuple[str, str, str]]:
    """Draw the figures the summary has data for (of them, only those named in `only`,
    if given) into `folder`; returns (file, caption, alt text) of each drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    def save(fig, path: Path) -> None:
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)

    made = []
    wanted = shown_by(summary) if only is None else set(only)
    qs = summary["questions"]
    if qs and "scores.png" in wanted:
        fig, axes = plt.subplots(1, len(qs), figsize=(2.6 * len(qs), 2.6), squeeze=False, sharey=True)
        for ax, (fn, q) in zip(axes[0], qs.items()):
            points = [float(k) for k in q["distribution"]]
            ax.bar([f"{p:g}" for p in points], list(q["distribution"].values()), color="#4C72B0")
            ax.set_title(f"{fn}\n(max {q['max_points']:g}, mean {q['mean']:.2f})", fontsize=9)
            ax.set_xlabel("points")
        axes[0][0].set_ylabel("students")
        axes[0][0].yaxis.set_major_locator(MaxNLocator(integer=True))
        save(fig, folder / "scores.png")
        made.append(("scores.png", "Score distribution per question",
                     "Bar charts, one per graded function, of how many students earned each number of points."))
    if summary["mistakes"] and "mistakes.png" in wanted:
        top = summary["mistakes"][:12][::-1]
        fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(top) + 1))
        ax.barh([f"{m['function']}: {m['title']}" for m in top], [m["students"] for m in top], color="#DD8452")
        ax.set_xlabel("students")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        save(fig, folder / "mistakes.png")
        made.append(("mistakes.png", "The most frequent diagnosed mistakes",
                     "Horizontal bars: for each known mistake, how many students made it."))
    wall = [t for t in summary["seconds"]["per_student"].values() if t is not None]
    if wall and "time.png" in wanted:
        fig, ax = plt.subplots(figsize=(5, 2.6))
        ax.hist(wall, bins=min(20, max(5, len(wall) // 2)), color="#55A868")
        ax.set_xlabel("seconds per submission (sandbox, kernel and tests)")
        ax.set_ylabel("submissions")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        save(fig, folder / "time.png")
        made.append(("time.png", "Grading time per submission",
                     "A histogram of the wall time each submission took to grade."))
    return made


def _wait_then_draw() -> None:
    """`--wait`: import matplotlib now, then read one line, a JSON [FOLDER, [FIGURE ...]],
    and draw those figures; at end of input with no line, draw nothing (the report needed
    no new figure). report.Drawer starts this before the report is known."""
    import sys

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401

    line = sys.stdin.readline()
    if line:
        folder, only = json.loads(line)
        draw(json.loads((Path(folder) / "report.json").read_text()), Path(folder), only or None)


if __name__ == "__main__":  # FOLDER [FIGURE ...]: those figures (default all) of FOLDER/report.json
    import sys

    if sys.argv[1:] == ["--wait"]:
        _wait_then_draw()
    else:
        _where = Path(sys.argv[1])
        draw(json.loads((_where / "report.json").read_text()), _where, sys.argv[2:] or None)
