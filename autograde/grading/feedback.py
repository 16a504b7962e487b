"""Feedback that never shows a hidden test.

Stock `nbgrader generate_feedback` renders the autograded notebook, in which the hidden
tests were put back: their source, and the traceback lines that quote it, reach the
student (nbgrader issues #917, #1363). `ScrubHiddenTests` runs before the HTML export
and, in every cell that held a hidden region, removes that region and reduces an error
to its message (our checks' messages name the case and the error, never a hidden
case's reference values); a failed check anywhere is also shown as its message alone.
"""
from __future__ import annotations

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


def strip_hidden(source: str) -> tuple[str, bool]:
    """Return `source` without its hidden-test regions, and whether it had any."""
    kept, inside, found = [], False, False
    for line in source.split("\n"):
        if BEGIN in line:
            inside, found = True, True
        elif END in line:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept), found


class ScrubHiddenTests(Preprocessor):
    enabled = Bool(True).tag(config=True)  # nbconvert skips a preprocessor that is not enabled

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        cell.source, had_hidden = strip_hidden(cell.source)
        for output in cell.get("outputs", []):
            # A failed check's message says all; its traceback shows only our internals.
            if output.output_type == "error" and (had_hidden or output.ename == "CheckFailed"):
                output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
