"""The back matter and the book's shared look: glossary from one data file, notation,
references, execution status, one matplotlib style, one check and one set of diagram helpers
(book/_lib/), one order of a chapter's sections, MathJax served by the site itself."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from test_book import toc_files

sys.path.insert(0, str(ROOT / "book" / "_ext"))
import glossary_data  # noqa: E402

GLOSSARY = ROOT / "book" / "_data" / "glossary.yml"
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]-*.md"))
BOOK_PAGES = sorted((ROOT / "book").glob("*.md"))
CJK = re.compile(r"[\u4e00-\u9fff]")


def entries() -> list[dict]:
    return glossary_data.load(GLOSSARY)


def term_roles(text: str) -> list[str]:
    """The targets of the {term} roles in a MyST text: {term}`X` and {term}`shown <X>`."""
    targets = []
    text = re.sub(r"``.+?``", "", text, flags=re.S)  # a role shown as code is not a link
    for m in re.finditer(r"\{term\}`([^`]+)`", text):
        inner = m.group(1)
        shown = re.fullmatch(r"(.*?)\s*<([^<>]+)>", inner, re.S)
        targets.append(" ".join((shown.group(2) if shown else inner).split()))
    return targets


def test_every_glossary_entry_has_a_term_a_chinese_name_and_a_definition():
    seen = {}
    for entry in entries():
        assert entry["term"].strip() and entry["definition"].strip(), entry
        zh = glossary_data.as_list(entry["zh"])
        assert zh and all(CJK.search(z) for z in zh), f"{entry['term']}: zh must be Chinese: {zh}"
        for name in glossary_data.names(entry):
            assert name.lower() not in seen, f"{name!r} names both {seen[name.lower()]!r} and {entry['term']!r}"
            seen[name.lower()] = entry["term"]


def test_the_glossary_is_in_alphabetical_order():
    terms = [e["term"] for e in entries()]
    assert terms == sorted(terms, key=str.lower)


@pytest.mark.parametrize("page", BOOK_PAGES, ids=lambda p: p.name)
def test_every_term_a_page_links_is_in_the_glossary_data(page):
    names = {n.lower() for e in entries() for n in glossary_data.names(e)}
    missing = [t for t in term_roles(page.read_text(encoding="utf-8")) if t.lower() not in names]
    assert missing == [], f"add these to {GLOSSARY.relative_to(ROOT)}: {missing}"


def test_each_entry_names_the_chapter_that_first_links_it():
    first_use = {}
    for chapter in CHAPTERS:
        for target in term_roles(chapter.read_text(encoding="utf-8")):
            first_use.setdefault(target.lower(), chapter.stem)
    for entry in entries():
        uses = [first_use[n.lower()] for n in glossary_data.names(entry) if n.lower() in first_use]
        expected = min(uses) if uses else None
        assert entry.get("chapter") == expected, \
            f"{entry['term']!r}: chapter should be {expected!r} (the first chapter that links it)"
        if expected:
            assert (ROOT / "book" / f"{expected}.md").is_file()


def test_the_term_finder_reads_both_forms_of_the_role():
    assert term_roles("a {term}`hidden state` and {term}`states <hidden\n state>`") == ["hidden state", "hidden state"]
    assert term_roles("link with ``{term}`...` ``") == []


def test_the_forget_gate_is_in_the_glossary():
    assert any(e["term"] == "forget gate" and "遗忘门" in glossary_data.as_list(e["zh"]) for e in entries())


def test_a_bad_glossary_file_is_refused(tmp_path):
    bad = tmp_path / "glossary.yml"
    bad.write_text(yaml.safe_dump([{"term": "x", "definition": "y"}]))
    with pytest.raises(ValueError, match="term, zh and definition"):
        glossary_data.load(bad)
    bad.write_text(yaml.safe_dump([{"term": "x", "zh": "叉", "definition": "y", "chapters": "01"}]))
    with pytest.raises(ValueError, match="unknown fields"):
        glossary_data.load(bad)


def test_the_back_matter_is_in_the_table_of_contents():
    files = toc_files()
    back = files[files.index("book/common-mistakes"):]
    assert back == ["book/common-mistakes", "book/notation", "book/glossary", "book/references", "book/execution"]
    assert "{nb-exec-table}" in (ROOT / "book" / "execution.md").read_text(encoding="utf-8")
    assert "(notation)=" in (ROOT / "book" / "notation.md").read_text(encoding="utf-8")
    assert "```{glossary-data} _data/glossary.yml" in (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")


def test_every_reference_in_the_bibtex_file_is_cited_in_the_book():
    keys = re.findall(r"@\w+\{([^,\s]+),", (ROOT / "book" / "references.bib").read_text(encoding="utf-8"))
    cited = set()
    for page in BOOK_PAGES:
        for m in re.finditer(r"\{cite:\w+\}`([^`]+)`", page.read_text(encoding="utf-8")):
            cited |= {k.strip() for k in m.group(1).split(",")}
    assert cited <= set(keys), f"cited but not in references.bib: {sorted(cited - set(keys))}"
    assert set(keys) - cited == set(), "in references.bib but cited nowhere (the references page would omit them)"


STYLE_CELL = "```{code-cell} ipython3\n:tags: [hide-cell]\n:load: _lib/style.py\n```"


def test_one_matplotlib_style_for_the_whole_book_and_figures_opaque_for_dark_mode():
    """The style is code (book/_lib/style.py), loaded into the cell after each chapter's
    imports: a downloaded chapter notebook holds it, so it runs wherever it is opened
    (a style file beside the chapter would not be there)."""
    import matplotlib.pyplot as plt

    source = (ROOT / "book" / "_lib" / "style.py").read_text(encoding="utf-8")
    space = {"plt": plt}
    with plt.rc_context():
        exec(compile(source, "style.py", "exec"), space)
        assert plt.rcParams["figure.facecolor"] == "white" and plt.rcParams["savefig.facecolor"] == "white"
        assert plt.rcParams["savefig.transparent"] is False
    assert not list((ROOT / "book").rglob("*.mplstyle"))
    for chapter in CHAPTERS:
        text = chapter.read_text(encoding="utf-8")
        if "matplotlib" in text:
            first = text.index("```{code-cell}")
            assert text.index(STYLE_CELL) == text.index("```\n", first + 3) + 5, \
                f"{chapter.name}: the style cell is not the one after the imports"
            assert "plt.style.use(" not in text and "rcParams" not in text, f"{chapter.name} sets another style"
            assert "transparent=True" not in text, chapter.name


# The book's shared code, held once in book/_lib/ and loaded into a chapter's cell with
# `:load: _lib/NAME.py` (the build copies the file into the cell and into the chapter's
# downloaded notebook). A chapter that defined its own copy again would drift from it.
SHARED = {"checks.py": ("check", "number", "sci", "Word", "CHECKS"),
          "diagrams.py": ("diagram", "node", "arrow", "COLORS"), "style.py": ("STYLE",)}


def shared_names(text: str) -> set[str]:
    """The names a file (or a chapter's cells) defines at the top level: def, class, or a
    global in capitals."""
    return ({m.group(1) for m in re.finditer(r"(?m)^(?:def|class) (\w+)", text)}
            | {m.group(1) for m in re.finditer(r"(?m)^([A-Z_]+) = ", text)})


def load_cells(text: str) -> list[str]:
    return re.findall(r"(?m)^```\{code-cell\} ipython3\n(?::tags: \[[^\]]*\]\n)?:load: (\S+)\n```$", text)


def test_the_books_shared_code_is_defined_once_in_book_lib():
    lib = ROOT / "book" / "_lib"
    for file, names in SHARED.items():
        assert set(names) <= shared_names((lib / file).read_text(encoding="utf-8")), file
    for chapter in CHAPTERS:
        text = chapter.read_text(encoding="utf-8")
        defined = shared_names(text)
        for file, names in SHARED.items():
            again = [n for n in names if n in defined]
            assert not again, f"{chapter.name} defines {again} again: load _lib/{file} instead"
        loads = load_cells(text)
        assert "_lib/checks.py" in loads, f"{chapter.name} does not load the book's check"
        assert text.index(":load: _lib/checks.py") < text.index("\n## ", text.index("## Setup")), \
            f"{chapter.name}: the check is loaded in the Setup section"
        if re.search(r"\b(node|arrow|diagram)\(ax", text):
            assert "_lib/diagrams.py" in loads, chapter.name
        for load in loads:
            assert (ROOT / "book" / load).is_file(), f"{chapter.name} loads {load}: no such file"


def test_the_shared_code_fits_a_folded_cell_without_scrolling():
    """Every chapter shows book/_lib's files in a folded cell, whose column holds 75
    characters at 1280 px (test_browser.py measures the built page; this finds it before a
    build)."""
    for file in sorted((ROOT / "book" / "_lib").glob("*.py")):
        long = [(i, len(line)) for i, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1)
                if len(line) > 75]
        assert not long, f"book/_lib/{file.name}: lines over 75 characters (line, length): {long}"


def test_a_chapter_that_defines_the_check_again_is_caught():
    """Planted: chapter 1 with its own copy of `check` in a cell."""
    text = CHAPTERS[0].read_text(encoding="utf-8")
    planted = text.replace("## Sequence data", "```{code-cell} ipython3\ndef check(label, a, b):\n"
                           "    print(label, (a - b).abs().max())\n```\n\n## Sequence data", 1)
    assert "check" not in shared_names(text) and "check" in shared_names(planted)


def test_every_chapter_states_the_tolerances_its_check_uses():
    import ast

    tree = ast.parse((ROOT / "book" / "_lib" / "checks.py").read_text(encoding="utf-8"))
    check = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check")
    defaults = {a.arg: ast.literal_eval(d) for a, d in zip(check.args.args[-len(check.args.defaults):],
                                                          check.args.defaults)}
    stated = f"`rtol={defaults['rtol']:.0e}`, `atol={defaults['atol']:.0e}`".replace("e-0", "e-")
    assert stated == "`rtol=1e-12`, `atol=1e-13`"
    for chapter in CHAPTERS:
        text = chapter.read_text(encoding="utf-8")
        setup = text[text.index("## Setup"):text.index("\n## ", text.index("## Setup") + 1)]
        assert stated in " ".join(setup.split()), f"{chapter.name}'s Setup does not state {stated}"


# Every chapter: Setup first; Summary, Thinking questions and Exercise last, in that order.
FIRST, LAST = ["Setup"], ["Summary", "Thinking questions", "Exercise"]


def test_every_chapter_has_the_same_first_and_last_sections():
    for chapter in CHAPTERS:
        sections = re.findall(r"(?m)^## (.+)$", re.sub(r"(?ms)^```.*?^```", "", chapter.read_text(encoding="utf-8")))
        assert sections[:len(FIRST)] == FIRST and sections[-len(LAST):] == LAST, f"{chapter.name}: {sections}"
        assert len(set(sections)) == len(sections), f"{chapter.name}: a section name twice"


def test_mathjax_is_served_by_the_site_not_a_cdn():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["sphinx"]["config"]["mathjax_path"] == "mathjax/tex-chtml.js"
    assert "offline_assets" in config["sphinx"]["local_extensions"]
    assert '"mathjax": "3.' in (ROOT / "package.json").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_built_back_matter(built_book):
    from kit import leaks

    glossary = leaks.html_text(built_book / "book" / "glossary.html")
    for entry in entries():
        for name in glossary_data.names(entry):
            assert name in glossary, name
    execution = (built_book / "book" / "execution.html").read_text(encoding="utf-8")
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", execution, re.S)
    for chapter in CHAPTERS:
        row = next((r for r in rows if f"book/{chapter.stem}<" in r), None)
        assert row is not None, f"{chapter.stem} is not in the execution table"
        assert "✅" in row, f"{chapter.stem} did not execute cleanly: {row}"
    references = leaks.html_text(built_book / "book" / "references.html")
    assert "Elman" in references and "Werbos" in references
    mathjax = built_book / "_static" / "mathjax"
    assert (mathjax / "tex-chtml.js").is_file()
    assert (mathjax / "output" / "chtml" / "fonts" / "woff-v2" / "MathJax_Main-Regular.woff").is_file()
    for page in built_book.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "cdn.jsdelivr.net" not in text and "mathjax@3" not in text, page


def test_a_downloaded_chapter_notebook_is_told_what_to_install():
    """Each chapter's downloaded notebook opens with the packages its code imports, pinned
    as in requirements.txt (book/_ext/downloads.py); a chapter importing a package the list
    does not know stops the build, naming the chapter."""
    import downloads
    import nbformat
    from myst_nb.core.read import read_myst_markdown_notebook

    from importlib.metadata import metadata

    pins = dict(line.split("#")[0].strip().split("==") for line in (ROOT / "requirements.txt").read_text().splitlines()
                if "==" in line.split("#")[0])
    for chapter in CHAPTERS:
        nb = read_myst_markdown_notebook(chapter.read_text(encoding="utf-8"), path=chapter)
        note = downloads.install_note(nb, chapter.stem)
        installed = re.search(r"pip install ([^\n]+)\n", note).group(1).split()
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        for module, package in {"torch": "torch", "numpy": "numpy", "matplotlib": "matplotlib", "scipy": "scipy",
                                "statsmodels": "statsmodels", "myst_nb": "myst-nb"}.items():
            imported = bool(re.search(rf"(?m)^(import|from) {module}\b", code))
            assert (f"{package}=={pins[package]}" in installed) == imported, (chapter.name, package)
        assert all(p.split("==")[0] in pins for p in installed), (chapter.name, installed)
        # the newest of the packages' oldest supported Pythons (matplotlib 3.11 and numpy 2.4 need 3.11)
        oldest = max(int(re.search(r">=\s*3\.(\d+)", metadata(p.split("==")[0])["Requires-Python"]).group(1))
                     for p in installed)
        assert f"with Python 3.{oldest} or newer" in note, chapter.name
        assert ("chapters 1 to 7 as MyST markdown" in note) == ('glob("0[1-7]-*.md")' in code), chapter.name
    nb.cells.append(nbformat.v4.new_code_cell("import sklearn"))
    with pytest.raises(ValueError, match=rf"book/{chapter.stem}.md imports \['sklearn'\]"):
        downloads.install_note(nb, chapter.stem)
