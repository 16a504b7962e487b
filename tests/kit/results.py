"""Results as a finished earlier run leaves them (result.json, no sandbox run), and the scores a gradebook holds."""
from __future__ import annotations

import sqlite3
from dataclasses import asdict
from pathlib import Path

import nbformat

from autograde.grading import course, pipeline
from autograde.grading.score import CellScore
from kit.notebooks import student_notebook

ROOT = Path(__file__).resolve().parents[2]
A = "01-rnn-basics"


def finished_run(course_dir: Path, students: dict[str, float]) -> tuple[str, pipeline.Assignment]:
    """A course folder where each student's submission has a saved result (each cell at
    the given fraction of its points), as after an earlier run; returns (db url,
    assignment)."""
    for student in students:
        folder = course_dir / "submitted" / student / A
        folder.mkdir(parents=True)
        nbformat.write(student_notebook(ROOT, A), folder / f"{A}.ipynb")
    db, released = course._prepare_course(ROOT, A, course_dir)
    a = pipeline.Assignment(A, nbformat.read(course_dir / "source" / A / f"{A}.ipynb", 4), nbformat.read(released, 4))
    for student, fraction in students.items():
        save_result(course_dir, a, student, fraction, wall=1.0)
    return f"sqlite:///{db}", a


def save_result(course_dir: Path, a: pipeline.Assignment, student: str, fraction: float, wall: float) -> None:
    key = pipeline.submission_key(course_dir / "submitted" / student / A, a, True)
    cells = [asdict(CellScore(c.metadata.nbgrader["grade_id"], fraction * float(c.metadata.nbgrader["points"]),
                              float(c.metadata.nbgrader["points"]), True, True, "ok")) for c in a.grade_cells]
    pipeline.save(pipeline.Result(student, A, key, cells=cells, seconds={"wall": wall, "kernel_start": 0.5,
                                                                          "cells": 0.2}), None, course_dir)


def gradebook_scores(course_dir: Path, student: str) -> dict[str, float]:
    with sqlite3.connect(course_dir / "gradebook.db") as db:
        return dict(db.execute("select base_cell.name, grade.auto_score from grade join base_cell on "
                               "base_cell.id = grade.cell_id join submitted_notebook on submitted_notebook.id = "
                               "grade.notebook_id join submitted_assignment on submitted_assignment.id = "
                               "submitted_notebook.assignment_id where submitted_assignment.student_id = ?",
                               (student,)).fetchall())
