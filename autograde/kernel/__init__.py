"""What runs in the student's kernel: the checks an exercise's test cells call, the
comparison, the recording of outputs for the trusted grader, the shipped public cases
and the titles of the known mistakes. Numpy only; installable alone (the student's
wheel holds this folder and nothing else of the course)."""
from .checks import CheckFailed, check

__all__ = ["CheckFailed", "check"]
