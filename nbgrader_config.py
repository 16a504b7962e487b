# nbgrader settings for an instructor working from a checkout of this repository.
# `rnn-course release` and `rnn-course grade` pass the same settings on the command
# line, so they also work from any other folder.
c = get_config()  # noqa: F821  (nbgrader provides it)
c.CourseDirectory.course_id = "rnn-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# Only notebooks are released: the jupytext sources next to them hold the solutions.
c.CourseDirectory.include = ["*.ipynb"]
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# Feedback as `rnn-course grade` makes it: hidden tests scrubbed and everything from the
# submission made inert (`rnn-course grade` also adds a template whose Content-Security-
# Policy runs no script; it is not set here because nbgrader's formgrader shares the
# HTMLExporter settings).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograde.grading.feedback.ScrubHiddenTests",
    "autograde.grading.feedback.SanitizeFeedback",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
