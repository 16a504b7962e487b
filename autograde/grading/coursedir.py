"""Name the course folder's paths, in one place: where nbgrader and the grader keep each file.

    COURSE/source/<assignment>/<assignment>.ipynb        the instructor notebook nbgrader registers
    COURSE/release/<assignment>/<assignment>.ipynb       nbgrader's release of it
    COURSE/submitted/<student>/<assignment>/             what a student handed in
    COURSE/downloaded/<assignment>/                      an LMS export being collected
    COURSE/autograded/<student>/<assignment>/            the executed notebook and result.json
    COURSE/feedback/<student>/<assignment>/<assignment>.html   the student's feedback page
    COURSE/gradebook.db                                  nbgrader's gradebook
    COURSE/grades.csv, COURSE/reports/<assignment>/      the class's grades and report

nbgrader's own `CourseDirectory` says the same with its defaults; this is the grader's
side of it, so that no other module spells a folder's name.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

RESULT = "result.json"  # the grader's result, beside the executed notebook


@dataclass(frozen=True)
class CourseDir:
    root: Path

    def submitted(self, student: str | None = None, assignment: str | None = None) -> Path:
        """submitted/, a student's folder in it, or their folder of one assignment."""
        path = self.root / "submitted"
        if student is not None:
            path = path / student
            if assignment is not None:
                path = path / assignment
        return path

    def autograded(self, student: str | None = None, assignment: str | None = None) -> Path:
        """autograded/, or a student's folder of one assignment in it."""
        path = self.root / "autograded"
        return path if student is None else path / student / assignment

    def executed(self, student: str, assignment: str) -> Path:
        """The executed notebook the grader saved (grading notes on top)."""
        return self.autograded(student, assignment) / f"{assignment}.ipynb"

    def result(self, student: str, assignment: str) -> Path:
        return self.autograded(student, assignment) / RESULT

    @property
    def feedback(self) -> Path:
        return self.root / "feedback"

    def feedback_page(self, student: str, assignment: str) -> Path:
        return self.feedback / student / assignment / f"{assignment}.html"

    @property
    def gradebook(self) -> Path:
        return self.root / "gradebook.db"

    @property
    def gradebook_url(self) -> str:
        return f"sqlite:///{self.gradebook}"

    def source(self, assignment: str) -> Path:
        return self.root / "source" / assignment

    def released(self, assignment: str) -> Path:
        return self.root / "release" / assignment / f"{assignment}.ipynb"

    def downloaded(self, assignment: str) -> Path:
        return self.root / "downloaded" / assignment

    @property
    def grades_csv(self) -> Path:
        return self.root / "grades.csv"

    def report(self, assignment: str) -> Path:
        return self.root / "reports" / assignment
