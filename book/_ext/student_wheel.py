"""Build the student's wheel (the checks alone; see autograde/grading/wheel.py) into the
site's _static/ folder, so every exercise page can link to it and a student can
`%pip install` it next to the downloaded notebook."""
from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx


def build_wheel(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    from autograde.grading import wheel

    wheel.build(Path(app.outdir) / "_static")


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", build_wheel)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
