"""What a reader can download from a page, beside the theme's `.md` and `.pdf`:

- every chapter page (book/NN-name): the chapter as a notebook (`.ipynb`, with the
  outputs this build computed, from its jupyter-cache, so it reads as the page; the
  book's shared helpers, book/_lib/, are copied into the cells that load them, and a
  first cell says what to install to run it, pinned as in requirements.txt) and its
  exercise notebook, one click away;
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
ROOT = Path(__file__).resolve().parents[2]
# What a chapter's import needs installed: its package on PyPI (pinned as in
# requirements.txt), or None when another package brings it (cycler comes with
# matplotlib; IPython with Jupyter, where the notebook runs).
PACKAGES = {"torch": "torch", "numpy": "numpy", "matplotlib": "matplotlib", "myst_nb": "myst-nb",
            "statsmodels": "statsmodels", "scipy": "scipy", "cycler": None, "IPython": None}
EXERCISE = re.compile(r"^exercises/(\d\d-[a-z0-9-]+)/\1$")
FOLDER = "_notebooks"


def oldest_python(packages: list[str]) -> str:
    """The oldest Python 3 that every one of `packages` (as installed here, at the pinned
    versions) declares it supports: its Requires-Python."""
    from importlib.metadata import metadata

    from packaging.specifiers import SpecifierSet

    specs = [SpecifierSet(metadata(p).get("Requires-Python") or "") for p in packages]
    for minor in range(8, 30):
        if all(f"3.{minor}" in spec for spec in specs):
            return f"3.{minor}"
    raise ValueError(f"no Python 3 satisfies the Requires-Python of {packages}")


def install_note(nb, name: str) -> str:
    """The first cell of a downloaded chapter notebook: what to install to run it (the
    packages its code cells import, pinned as the book was built), and, for a chapter
    that reads the other chapters' text, which files it needs beside it."""
    import sys

    modules = set()
    for cell in nb.cells:
        if cell.cell_type == "code":
            modules |= set(re.findall(r"(?m)^\s*(?:import|from)\s+([A-Za-z_]\w*)", cell.source))
    third = sorted(m for m in modules if m not in sys.stdlib_module_names)
    unknown = [m for m in third if m not in PACKAGES]
    if unknown:
        raise ValueError(f"book/{name}.md imports {unknown}: add them to PACKAGES in book/_ext/downloads.py")
    pins = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        spec = line.split("#")[0].strip()
        if "==" in spec:
            pins[spec.split("==")[0].lower()] = spec
    wanted = sorted({PACKAGES[m] for m in third if PACKAGES[m]})
    missing = [w for w in wanted if w not in pins]
    if missing:
        raise ValueError(f"{missing}: imported by book/{name}.md but not pinned in requirements.txt")
    text = ("**Running this notebook.** It is the chapter as the book ran it. To run it yourself, in "
            f"Jupyter with Python {oldest_python(wanted)} or newer, install what it imports, at the versions "
            f"the book was built with:\n\n```\npip install {' '.join(pins[w] for w in wanted)}\n```\n\n"
            "The book's shared helpers are in its cells, so it needs no other file")
    if re.search(r"glob\(\"0\[1-7\]-\*\.md\"\)", "\n".join(c.source for c in nb.cells if c.cell_type == "code")):
        text += (", except the text it learns from: chapters 1 to 7 as MyST markdown (the `.md` download "
                 "of each chapter's page), in the folder it runs in")
    return text + "."


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
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(install_note(nb, name), id="running-this-notebook"))
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
