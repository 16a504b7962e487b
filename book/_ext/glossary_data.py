"""The glossary from one data file: book/_data/glossary.yml.

`glossary.md` holds

    ```{glossary-data} _data/glossary.yml
    ```

and this directive turns every entry of the file into an entry of Sphinx's {glossary}:
the English term, its Chinese name(s) and other names as the entry's terms (so that
{term}`hidden state`, {term}`隐藏状态` and {term}`RNN` all resolve), the definition, and a
link to the chapter that first uses it. The chapters link their terms with {term}`...`,
which a strict build (`-n`) refuses when the term is not in the file. Editing the file
rebuilds the glossary page (it is a noted dependency).
"""
from __future__ import annotations

from pathlib import Path

import yaml
from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

FIELDS = {"term", "zh", "also", "chapter", "definition"}


def as_list(value) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def load(path: Path) -> list[dict]:
    """The entries, checked: each has a term, a Chinese name and a definition."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a list of entries")
    for entry in entries:
        if not isinstance(entry, dict) or not {"term", "zh", "definition"} <= entry.keys():
            raise ValueError(f"{path}: every entry needs term, zh and definition: {entry!r}")
        if entry.keys() - FIELDS:
            raise ValueError(f"{path}: unknown fields {sorted(entry.keys() - FIELDS)} in {entry['term']!r}")
    return entries


def names(entry: dict) -> list[str]:
    """Every name a {term} role may use for this entry."""
    return [str(entry["term"]), *as_list(entry.get("zh")), *as_list(entry.get("also"))]


def glossary_markdown(entries: list[dict], chapter_prefix: str = "") -> list[str]:
    lines = ["```{glossary}"]
    for entry in entries:
        lines += names(entry)
        definition = " ".join(str(entry["definition"]).split())
        if entry.get("chapter"):
            definition += f" First used in {{doc}}`{chapter_prefix}{entry['chapter']}`."
        lines += ["  " + definition, ""]
    lines.append("```")
    return lines


class GlossaryData(SphinxDirective):
    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        rel, path = self.env.relfn2path(self.arguments[0], self.env.docname)
        self.env.note_dependency(rel)
        try:
            entries = load(Path(path))
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise self.error(f"glossary-data: {exc}") from exc
        container = nodes.container()
        self.state.nested_parse(StringList(glossary_markdown(entries), source=path), self.content_offset, container)
        return container.children


def setup(app: Sphinx) -> dict:
    app.add_directive("glossary-data", GlossaryData)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
