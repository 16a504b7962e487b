"""The one error an instructor must fix: its message names the file and what is wrong."""
from __future__ import annotations


class CourseError(Exception):
    """A problem the instructor must fix; the message names the file and what is wrong."""
