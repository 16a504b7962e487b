"""Serve MathJax from the site itself, so that the book works offline.

MathJax 3 is installed from the npm registry by `make setup` (`npm ci`, pinned in
package.json and package-lock.json) into node_modules/, which git ignores. When the HTML
builder starts, this extension copies the files a page needs into the site's
_static/mathjax/: the tex-chtml.js component, its woff-v2 fonts (which it loads from
[its own folder]/output/chtml/fonts/woff-v2) and the TeX extensions its autoloader may
fetch for a rarer macro. _config.yml points `mathjax_path` at mathjax/tex-chtml.js
(relative to _static), so no page asks a CDN for anything.

It also adds the book's own stylesheet, book/_static/course.css (how equations and
figures sit on narrow screens and in dark mode), copied into the site's _static/.

It drops repeated <script> tags from each page: sphinx-thebe and
sphinx-togglebutton register their inline configuration again when a build is
incremental, and a second `const THEBE_JS_URL = ...` is a JavaScript error on every page.
"""
from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

# Relative to node_modules/mathjax/es5: what tex-chtml.js loads at run time.
MATHJAX_FILES = ["tex-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions"]


def mathjax_source(app: Sphinx) -> Path:
    return Path(app.confdir) / "node_modules" / "mathjax" / "es5"


def copy_if_changed(src: Path, dst: Path) -> None:
    if src.is_dir():
        for child in src.iterdir():
            copy_if_changed(child, dst / child.name)
    elif not dst.is_file() or not filecmp.cmp(src, dst, shallow=False):
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


def copy_mathjax(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    source = mathjax_source(app)
    if not (source / "tex-chtml.js").is_file():
        raise ExtensionError(
            f"MathJax is not installed ({source} is missing): run `make setup`, "
            "which runs `npm ci` in the repository root")
    target = Path(app.outdir) / "_static" / "mathjax"
    for rel in MATHJAX_FILES:
        copy_if_changed(source / rel, target / rel)


COURSE_CSS = "course.css"


def copy_course_css(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    copy_if_changed(Path(app.confdir) / "book" / "_static" / COURSE_CSS, Path(app.outdir) / "_static" / COURSE_CSS)


def asset_key(asset) -> tuple:
    # The same inline script arrives once with filename None and once with '' (the
    # registry's copy), which Sphinx does not take for the same asset.
    return (asset.filename or "", asset.priority, tuple(sorted(asset.attributes.items())))


def drop_repeated_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    for key in ("script_files", "css_files"):
        if isinstance(context.get(key), list):
            unique = {}
            for asset in context[key]:
                unique.setdefault(asset_key(asset), asset)
            context[key] = list(unique.values())


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", copy_mathjax)
    app.connect("builder-inited", copy_course_css)
    app.add_css_file(COURSE_CSS)
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
