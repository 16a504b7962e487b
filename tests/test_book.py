"""The published book: built strictly, every page present, nothing secret on any page."""
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from autograde import chapters
from kit import leaks
from conftest import ASSIGNMENTS, BIN, ROOT, solution_path

pytestmark = pytest.mark.slow


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for e in entries:
            if "file" in e:
                files.append(e["file"])
            walk(e.get("sections", []))
            walk(e.get("chapters", []))
    for part in toc.get("parts", []):
        walk(part["chapters"])
    walk(toc.get("chapters", []))
    return files


CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("[0-9][0-9]-*.md"))


def test_every_chapter_and_its_exercise_is_in_the_table_of_contents():
    files = toc_files()
    for chapter in CHAPTERS:
        assert f"book/{chapter}" in files
        assert f"exercises/{chapter}/{chapter}" in files
    assert sorted(CHAPTERS) == ASSIGNMENTS


def test_the_preface_lists_every_chapter_of_the_toc_linked_by_its_title(built_book):
    """The preface's list of chapters is made from _toc.yml (book/_ext/chapter_list.py):
    every chapter, in the toc's order, linked by its title, with its summary."""
    from bs4 import BeautifulSoup

    page = BeautifulSoup((built_book / "book" / "intro.html").read_text(encoding="utf-8"), "html.parser")
    chapters_in_toc = [f[len("book/"):] for f in toc_files() if re.fullmatch(r"book/\d\d-[a-z0-9-]+", f)]
    assert chapters_in_toc == CHAPTERS
    items = [li for ol in page.find_all("ol") for li in ol.find_all("li", recursive=False)
             if li.find("a", href=re.compile(r"^\d\d-[a-z0-9-]+\.html$"))]
    assert [li.find("a")["href"] for li in items] == [f"{c}.html" for c in chapters_in_toc]
    for chapter, li in zip(chapters_in_toc, items):
        source = (ROOT / "book" / f"{chapter}.md").read_text(encoding="utf-8")
        title = re.search(r"^# (.+)$", source, re.M).group(1)
        summary = " ".join(yaml.safe_load(source.split("---\n")[1])["summary"].replace("`", "").split())
        assert " ".join(li.find("a").get_text().split()) == title, chapter
        assert " ".join(li.get_text().replace("\u2019", "'").split()) == f"{title}: {summary}", chapter


@pytest.mark.parametrize("page", toc_files())
def test_every_page_in_the_toc_is_built(built_book, page):
    assert (built_book / f"{page}.html").is_file()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_page_of_the_book_contains_solution_or_hidden_test_code(built_book, assignment):
    secrets = leaks.secret_lines(solution_path(assignment))
    pages = list(built_book.rglob("*.html"))
    assert len(pages) >= len(toc_files())
    for page in pages:
        assert leaks.find_leaks(leaks.html_text(page), secrets) == [], page
    for source in built_book.rglob("*"):  # downloads, page sources, the search index
        if source.suffix in {".ipynb", ".md", ".txt", ".js", ".json"} and source.is_file():
            assert leaks.find_leaks(source.read_text(encoding="utf-8", errors="replace"), secrets) == [], source


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_leak_finder_catches_a_solution_line_highlighted_on_a_page(built_book, assignment, tmp_path):
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    secrets = leaks.secret_lines(solution_path(assignment))
    line = next(s for s, kind in secrets.items() if kind == "solution")
    page = (built_book / "book" / f"{assignment}.html").read_text(encoding="utf-8")
    planted = tmp_path / "page.html"
    planted.write_text(page.replace("</main>", highlight("    " + line, PythonLexer(), HtmlFormatter()) + "</main>"))
    assert leaks.find_leaks(leaks.html_text(planted), secrets) == [f"solution: {line}"]


def test_no_solution_notebook_or_gradebook_reaches_the_site(built_book):
    assert not list(built_book.rglob("solutions"))
    assert not list(built_book.rglob("*.db"))
    for page in built_book.rglob("*.html"):
        assert "### BEGIN SOLUTION" not in page.read_text(encoding="utf-8")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_exercise_page_shows_the_stubs_unexecuted_and_offers_the_notebook(built_book, assignment):
    page = built_book / "exercises" / assignment / f"{assignment}.html"
    text = leaks.html_text(page)
    assert "raise NotImplementedError()" in text
    assert "not implemented yet" not in text  # not executed: no check output on the page
    html = page.read_text(encoding="utf-8")
    assert re.search(rf'href="[^"]*{re.escape(assignment)}\.ipynb"', html), "no .ipynb download link"
    chapter = (built_book / "book" / f"{assignment}.html").read_text(encoding="utf-8")
    assert re.search(rf'href="[^"]*_downloads/[^"]*/{re.escape(assignment)}\.ipynb"', chapter), \
        "the chapter does not offer the exercise notebook for download"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_no_chapter_defines_a_graded_function(chapter):
    source = (ROOT / "book" / f"{chapter}.md").read_text(encoding="utf-8")
    for assignment in ASSIGNMENTS:
        for fn in chapters.assignments()[assignment]:
            assert not re.search(rf"\bdef {fn.name}\s*\(", source), f"{chapter} defines {fn.name}"


def output_lines(page_html: str) -> list[str]:
    """The lines the chapter's cells printed (the outputs' text, not the code or prose)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page_html, "html.parser")
    return [line for block in soup.select("div.cell_output") for line in block.get_text("").splitlines()]


def failed_checks(lines: list[str]) -> list[str]:
    """The printed lines of an equation check that did not pass: a verdict False on a line
    that reports a max |diff| (`label  False  max |diff| 3.1e-03`, `allclose: False`), or a
    bare False. A comparison that shows a difference on purpose prints `False (expected)`;
    one that was meant to differ and did not prints `True (expected False)`."""
    return [line for line in lines
            if line.strip() == "False"
            or ("max |diff|" in line and (re.search(r"\bFalse\b(?! \(expected\))", line) or "(expected False)" in line))]


def passed_checks(lines: list[str]) -> list[str]:
    return [line for line in lines if re.search(r"\bTrue\s+max \|diff\|", line)]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_equation_check_in_a_chapter_prints_true(built_book, chapter):
    page = (built_book / "book" / f"{chapter}.html").read_text(encoding="utf-8")
    assert "Traceback" not in leaks.html_text(built_book / "book" / f"{chapter}.html")
    source = (ROOT / "book" / f"{chapter}.md").read_text(encoding="utf-8")
    assert "allclose" in source, "a chapter checks its equations against PyTorch with allclose"
    lines = output_lines(page)
    shown = passed_checks(lines)
    assert len(shown) >= 3, f"a chapter shows its equation checks passing, with max |diff|: {len(shown)}"
    assert not failed_checks(lines), f"{chapter}: an equation check printed False: {failed_checks(lines)}"


def test_a_check_that_prints_false_fails_the_chapter(built_book):
    """Planted: one passing check line of a built chapter turned into a failing one."""
    page = (built_book / "book" / f"{CHAPTERS[0]}.html").read_text(encoding="utf-8")
    assert not failed_checks(output_lines(page))
    planted = re.sub(r"True(\s+max \|diff\|) [^<\n]*", r"False\1 3.1e-03", page, count=1)
    assert planted != page
    assert failed_checks(output_lines(planted)) == [
        next(line for line in output_lines(planted) if "3.1e-03" in line)]
    for line in ("x_t W_ih^T + b_ih      False  max |diff| 3.1e-03", "allclose: False  max |diff| = 0.5", "False",
                 "the bug   True (expected False)  max |diff| 0", "False (expected) and False  max |diff| 1e-3"):
        assert failed_checks([line]) == [line]
    for line in ("x_t W_ih^T + b_ih      True   max |diff| 1.1e-16", "max |diff|, as i, f, o, g (CS231n): 0.512",
                 "the bug           False (expected)  max |diff| 1.7"):
        assert failed_checks([line]) == []


def test_the_common_mistakes_page_names_every_known_mistake(built_book):
    from autograde.grading.mathtext import typeset


    # Sphinx prints straight quotes as typographic ones.
    text = leaks.html_text(built_book / "book" / "common-mistakes.html").replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    for assignment in ASSIGNMENTS:
        for fn in chapters.assignments()[assignment]:
            for m in chapters.mistakes_for(fn.name):
                # the words before the first equation (which the page typesets)
                words = typeset(m.explanation).split("$")[0][:60]
                assert m.title[1:] in text and words in text, m.key


TINY_CHAPTER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
# A chapter

```{{code-cell}} ipython3
x = 1
```

```{{code-cell}} ipython3
{body}
```
"""


@pytest.mark.parametrize("body, said", [
    ("import time\ntime.sleep(30)",
     "book/ch.md: the cell at line 18 (`import time`) ran past the cell timeout of 3 s (`execute.timeout` in _config.yml); cut the cell's work"),
    ("y = x + 1\nraise ValueError('no data for this chapter')",
     "book/ch.md: the cell at line 18 (`y = x + 1`) raised ValueError: no data for this chapter"),
])
@pytest.mark.book  # builds a one-chapter book
def test_a_failing_cell_names_its_chapter_line_and_what_to_change(tmp_path, body, said):
    """The book's execution_report extension, in a one-chapter book built as `make book` builds."""
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "ch.md").write_text(TINY_CHAPTER.format(body=body))
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/ch\n")
    (tmp_path / "_config.yml").write_text(yaml.safe_dump({
        "title": "tiny",
        "execute": {"execute_notebooks": "cache", "timeout": 3, "raise_on_error": True},
        "sphinx": {"local_extensions": {"execution_report": str(ROOT / "book" / "_ext")}},
    }))
    proc = subprocess.run([str(BIN / "jupyter-book"), "build", ".", "-W", "-n", "--keep-going"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    out = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    assert said in out, out[-3000:]


def test_a_downloaded_chapter_notebook_says_what_to_install_and_runs_in_an_empty_folder(built_book, tmp_path):
    """A reader downloads chapter 1 as a notebook (`_notebooks/01-rnn-basics.ipynb`) and
    runs it anywhere: its first cell says what to install (its imports' packages, pinned
    as in requirements.txt), and it runs in an empty folder: its plot style, check and
    diagrams are in its cells, no file of the book's is needed beside it."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(built_book / "_notebooks" / "01-rnn-basics.ipynb", as_version=4)
    note = nb.cells[0].source
    pins = dict(line.split("#")[0].strip().split("==") for line in (ROOT / "requirements.txt").read_text().splitlines()
                if "==" in line.split("#")[0])
    assert note.startswith("**Running this notebook.**")
    assert re.search(r"pip install (\S+==\S+ ?)+\n", note).group(0).split()[2:] == \
        [f"{p}=={pins[p]}" for p in ("matplotlib", "myst-nb", "torch")]
    folder = tmp_path / "anywhere"
    folder.mkdir()
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == [], errors[:1]
    assert any("True" in o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert list(folder.iterdir()) == []
