"""nbgrader's GetGrades (a page's grades) reading through one gradebook kept open for the process.

nbgrader's GetGrades opens a gradebook for each notebook and closes it after, so every
page compiles its dozens of queries afresh (23 ms of a page's 60 on the benchmark's
class). `KeptOpenGetGrades` does what nbgrader 0.9's `GetGrades.preprocess` does, line
for line, through `gradebook.kept_open` and ends its read transaction after each page;
the per-cell work is nbgrader's own (inherited). tests/test_hostile_output.py compares a
page made with it against one `nbgrader generate_feedback` makes with nbgrader's.
"""
from __future__ import annotations

from nbgrader.preprocessors import GetGrades

from .gradebook import kept_open


class KeptOpenGetGrades(GetGrades):
    def preprocess(self, nb, resources):
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.student_id = resources["nbgrader"]["student"]
        self.db_url = resources["nbgrader"]["db_url"]
        self.gradebook = kept_open(self.db_url)
        try:
            nb, resources = super(GetGrades, self).preprocess(nb, resources)  # each cell: GetGrades.
            notebook = self.gradebook.find_submission_notebook(self.notebook_id, self.assignment_id,
                                                               self.student_id)
            late_penalty = notebook.late_submission_penalty
            if late_penalty is None:
                late_penalty = 0
            else:
                self.log.warning("Late submission penalty: {}".format(late_penalty))
            resources["nbgrader"]["score"] = notebook.score - late_penalty
            resources["nbgrader"]["max_score"] = notebook.max_score
            resources["nbgrader"]["late_penalty"] = late_penalty
        finally:
            self.gradebook.db.rollback()  # nothing written: the read transaction ends, no lock is held
        return nb, resources
