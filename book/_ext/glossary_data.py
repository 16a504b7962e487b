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


class _StrictLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping (PyYAML keeps the
    last silently, so a merge that doubles a field would lose one unseen)."""


def _mapping_without_repeats(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ValueError(
                f"line {key_node.start_mark.line + 1}: the key {key!r} is given twice"
            )
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_repeats
)


def load(path: Path) -> list[dict]:
    """The entries, checked: each has a term, a Chinese name and a definition, and no
    entry gives a field twice."""
    try:
        entries = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
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
