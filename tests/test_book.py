"""The published book: built strictly, every page present, nothing secret on any page."""
import re
from pathlib import Path

import pytest
import yaml

from autograde import chapters
from autograde.grading import leaks
from conftest import ASSIGNMENTS, ROOT, solution_path

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


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_equation_check_in_a_chapter_prints_true(built_book, chapter):
    text = leaks.html_text(built_book / "book" / f"{chapter}.html")
    assert "Traceback" not in text
    source = (ROOT / "book" / f"{chapter}.md").read_text(encoding="utf-8")
    assert "allclose" in source, "a chapter checks its equations against PyTorch with allclose"
    shown = re.findall(r"True\s+max \|diff\|", text)
    assert len(shown) >= 3, f"a chapter shows its equation checks passing, with max |diff|: {len(shown)}"
    assert not re.search(r"(?m)^False$", text)


def test_the_common_mistakes_page_names_every_known_mistake(built_book):


    # Sphinx prints straight quotes as typographic ones.
    text = leaks.html_text(built_book / "book" / "common-mistakes.html").replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    for assignment in ASSIGNMENTS:
        for fn in chapters.assignments()[assignment]:
            for m in chapters.mistakes_for(fn.name):
                assert m.title[1:] in text and m.explanation[:60] in text, m.key
