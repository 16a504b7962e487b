"""What a reader can download from a page, beside the theme's `.md` and `.pdf`:

- every chapter page (book/NN-name): the chapter as a notebook (`.ipynb`, with the
  outputs this build computed, from its jupyter-cache, so it reads as the page and runs
  where the chapter's imports are installed; the book's shared helpers, book/_lib/, are
  copied into the cells that load them) and its exercise notebook, one click away;
- every exercise page (exercises/NN-name/NN-name, already offered as its `.ipynb`): the
  checks' wheel, which the notebook's install cell installs.

They are entries of the page's download menu (sphinx-book-theme's header buttons,
`download-buttons`). The chapter notebooks are written to the site's _notebooks/ folder.
"""
from __future__ import annotations

import re
from pathlib import Path

from sphinx.application import Sphinx

CHAPTER = re.compile(r"^book/(\d\d-[a-z0-9-]+)$")
EXERCISE = re.compile(r"^exercises/(\d\d-[a-z0-9-]+)/\1$")
FOLDER = "_notebooks"


def chapter_notebook(app: Sphinx, pagename: str) -> Path:
    """Write the chapter's notebook into the site: its source as a notebook, with the
    outputs of its execution merged in from the build's jupyter-cache (unexecuted if the
    cache has none). The source is read as MyST-NB reads it to execute it: a cell that
    loads one of the book's shared files (`:load: _lib/checks.py`) holds that file's
    code, so the notebook does not need book/_lib/ beside it."""
    import nbformat
    from jupyter_cache import get_cache
    from myst_nb.core.read import read_myst_markdown_notebook

    name = pagename.split("/")[-1]
    target = Path(app.outdir) / FOLDER / f"{name}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    source = Path(app.srcdir) / f"{pagename}.md"
    nb = read_myst_markdown_notebook(source.read_text(encoding="utf-8"), path=source)
    try:
        _, nb = get_cache(Path(app.srcdir) / app.config.nb_execution_cache_path).merge_match_into_notebook(nb)
    except KeyError:  # not in the cache: the notebook without outputs
        pass
    nb.metadata.pop("jupytext", None)
    for cell in nb.cells:
        cell.metadata.pop("load", None)  # its code is in the cell now
    text = nbformat.writes(nb)
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    return target


def _link(url: str, text: str, tooltip: str, label: str, icon: str = "fas fa-code") -> dict:
    return {"type": "link", "url": url, "text": text, "tooltip": tooltip, "icon": icon, "label": label}


def add_downloads(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    group = next((b for b in context.get("header_buttons", []) if b.get("label") == "download-buttons"), None)
    if group is None:
        return
    pathto = context["pathto"]
    entries = []
    chapter = CHAPTER.match(pagename)
    if chapter:
        name = chapter.group(1)
        entries.append(_link(pathto(f"{FOLDER}/{name}.ipynb", 1), ".ipynb",
                             "Download this chapter as a notebook", "download-chapter-notebook-button"))
        exercise = f"exercises/{name}/{name}"
        if exercise in app.env.found_docs:
            entries.append(_link(pathto(f"_sources/{exercise}.ipynb", 1), "exercise .ipynb",
                                 "Download this chapter's exercise notebook", "download-exercise-notebook-button"))
    if EXERCISE.match(pagename):
        from autograde.grading import wheel

        entries.append(_link(pathto(f"_static/{wheel.wheel_name()}", 1), "checks .whl",
                             "Download the checks this exercise installs", "download-wheel-button",
                             "fas fa-box"))
    group["buttons"][0:0] = entries


def write_notebooks(app: Sphinx):
    """Every build (an incremental one too, which writes only changed pages) writes every
    chapter's notebook; Sphinx's html-collect-pages asks for extra pages: none."""
    for docname in sorted(app.env.found_docs):
        if CHAPTER.match(docname):
            chapter_notebook(app, docname)
    return []


def setup(app: Sphinx) -> dict:
    app.connect("html-collect-pages", write_notebooks)
    # after sphinx-book-theme's own header buttons (priority 501)
    app.connect("html-page-context", add_downloads, priority=502)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
