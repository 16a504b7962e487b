"""The preface's list of chapters, made from the table of contents: the directive

    ```{chapter-list}
    ```

becomes a numbered list of every chapter in `_toc.yml` (a `book/NN-name` entry), in its
order, each linked by its own title, followed by its summary: the `summary` of the
chapter's front matter (MyST, one sentence or two). A new chapter is listed the day its
`_toc.yml` lines are added; nothing else names it.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

CHAPTER = re.compile(r"^book/\d\d-[a-z0-9]+(-[a-z0-9]+)*$")


def _files(entries) -> list[str]:
    found = []
    for entry in entries or ():
        if isinstance(entry, dict):
            if "file" in entry:
                found.append(str(entry["file"]))
            for key in ("parts", "chapters", "sections"):
                found += _files(entry.get(key))
    return found


def front_matter(source: Path) -> dict:
    """The YAML front matter of a MyST-Markdown file ({} if it has none)."""
    text = source.read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    return (yaml.safe_load(match.group(1)) or {}) if match else {}


def chapters(root: Path) -> list[tuple[str, str]]:
    """(docname, summary) of every chapter the table of contents lists, in its order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    out = []
    for docname in _files([toc]):
        if CHAPTER.match(docname):
            summary = front_matter(root / f"{docname}.md").get("summary")
            if not summary:
                raise ValueError(f"{docname}.md: its front matter has no `summary:` for the preface's "
                                 f"list of chapters")
            out.append((docname, " ".join(str(summary).split())))
    return out


def markdown(root: Path) -> str:
    """The list as MyST: `1. {doc}` + the chapter's summary, one item per chapter."""
    return "\n".join(f"{i}. {{doc}}`/{docname}`: {summary}"
                     for i, (docname, summary) in enumerate(chapters(root), 1)) + "\n"


class ChapterList(SphinxDirective):
    has_content = False

    def run(self):
        root = Path(self.env.srcdir)
        self.env.note_dependency(str(root / "_toc.yml"))
        for docname, _ in chapters(root):
            self.env.note_dependency(str(root / f"{docname}.md"))
        container = nodes.container()
        self.state.nested_parse(StringList(markdown(root).splitlines(), source="_toc.yml"),
                                self.content_offset, container)
        return list(container.children)


def setup(app: Sphinx) -> dict:
    app.add_directive("chapter-list", ChapterList)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
