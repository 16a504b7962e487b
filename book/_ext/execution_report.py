"""Name the cell that stopped a chapter's execution, and the setting that governs it.

When a cell raises or runs past the cell timeout, MyST-NB only logs "Executing notebook
failed: CellTimeoutError" and stops the build with the chapter's path. This extension wraps
the execution MyST-NB calls (jupyter-cache's `single_nb_execution`) and, when it fails,
logs one error that says which chapter, which line of its source the cell starts on, the
cell's first line, and what to do: for a timeout, the limit (`execute.timeout` in
_config.yml) and the budget to cut the cell to (benchmarks/chapter_times.py measures it);
for an exception, its type and message.
"""
from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

ADVICE = ("cut the cell's work (fewer updates, seeds or units) rather than raising the limit: "
          "a cell stays under a fifth of it on an idle machine, so that a busy one still builds "
          "(`python benchmarks/chapter_times.py {path}` prints each cell's time)")


def failing_cell(nb, message: str):
    """(index, cell) of the code cell the error message quotes, or (None, None)."""
    for index, cell in reversed(list(enumerate(nb.cells))):
        if cell.cell_type != "code":
            continue
        lines = [line for line in cell.source.splitlines() if line.strip()]
        if lines and all(line in message for line in lines[:2]):
            return index, cell
    return None, None


def source_line(path: Path, cell) -> int | None:
    """The line of the chapter's source where the cell's code starts (1-based)."""
    first = next((line for line in cell.source.splitlines() if line.strip()), None)
    if first is None or not path.is_file():
        return None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line == first:
            return number
    return None


def describe(path: Path, nb, timeout, err) -> str:
    message = str(err)
    index, cell = failing_cell(nb, message)
    where = "a cell"
    if cell is not None:
        line = source_line(path, cell)
        first = next(line for line in cell.source.splitlines() if line.strip())
        where = f"the cell at line {line}" if line else f"cell {index}"
        where += f" (`{first.strip()[:60]}`)"
    if type(err).__name__ == "CellTimeoutError":
        return (f"{path}: {where} ran past the cell timeout of {timeout} s "
                f"(`execute.timeout` in _config.yml); " + ADVICE.format(path=path))
    ename = getattr(err, "ename", type(err).__name__)
    evalue = getattr(err, "evalue", "")
    return f"{path}: {where} raised {ename}: {evalue}".rstrip(": ")


def setup(app: Sphinx):
    from myst_nb.core.execute import cache

    original = cache.single_nb_execution
    if not getattr(original, "names_the_cell", False):
        def single_nb_execution(nb, *args, **kwargs):
            result = original(nb, *args, **kwargs)
            if result.err is not None:
                docname = app.env.temp_data.get("docname") if app.env else None
                path = Path(app.env.doc2path(docname)) if docname else Path(kwargs.get("cwd") or ".")
                try:
                    path = path.relative_to(Path(app.srcdir))
                except ValueError:
                    pass
                logger.error(describe(path, nb, kwargs.get("timeout"), result.err))
            return result

        single_nb_execution.names_the_cell = True
        cache.single_nb_execution = single_nb_execution
    return {"parallel_read_safe": True, "parallel_write_safe": True}
