"""Write the grades as CSV tables a spreadsheet opens safely (no cell runs as a formula)."""
from __future__ import annotations

import os
from pathlib import Path


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV
# injection"): such a text cell is written with a leading single quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_text(value) -> str:
    """A text cell of a CSV that a spreadsheet shows as text, never runs as a formula."""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_number(value: float) -> str:
    """A numeric cell: the number itself (from the grader, never from a submission)."""
    return f"{float(value):g}"


def write_grades_csv(path: Path, results: list) -> Path:
    """One row per student: total, each test's points, flags and the messages. Text cells
    that a spreadsheet would run as a formula are neutralised (see `csv_text`)."""
    import csv

    cells = list(dict.fromkeys(c["grade_id"] for r in results for c in r.cells))
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student_id", "assignment", "score", "max_score", *map(csv_text, cells), "flags", "messages"])
        for r in results:
            points = {c["grade_id"]: c["points"] for c in r.cells}
            w.writerow([csv_text(r.student), csv_text(r.assignment), csv_number(r.score), csv_number(r.max_score),
                        *(csv_number(points.get(c, 0)) for c in cells), csv_text("; ".join(r.flags)),
                        csv_text(" | ".join(r.messages))])
    os.replace(tmp, path)
    return path
