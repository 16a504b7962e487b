"""The published book in a real browser, as a reader sees it.

Debian's chromium (headless, driven by Playwright; never `playwright install`) opens
every page of _toc.yml from the strictly built site, served on 127.0.0.1. A page must
load with no console error, no failed request and no request outside the site (it must
work offline), every equation typeset by MathJax, every image loaded with real alt text
and readable in dark mode (no white or grey plate around it), every internal link and
anchor resolving, the sidebar reaching every page, a copy button on every code block,
each hide-input cell a closed toggle, no solution or hidden test code in its text; every
display equation lies inside the text column at 1280 px and at a phone's 390 px, and no
chapter's code block or output scrolls sideways at 1280 px; exercise pages show the
stubs and offer the notebook; the search page finds "forget gate". A full-page
screenshot of each page (and one in dark mode) is written to _build/html/_screenshots/
for a person to look at. The second half serves deliberately broken pages the same way
and shows that each check catches them.
"""
from __future__ import annotations

import json
import re
import shutil
import struct
import zlib
from pathlib import Path

import pytest

import browser_checks as bc
from conftest import ASSIGNMENTS, ROOT, solution_path
from test_book import toc_files

pytestmark = pytest.mark.slow

PAGES = toc_files()
EXERCISES = [f"exercises/{a}/{a}" for a in ASSIGNMENTS]
CHAPTERS = [p for p in PAGES if re.fullmatch(r"book/\d\d-[^/]+", p)]
WIDTHS = [bc.VIEWPORT["width"], bc.PHONE_WIDTH]  # a laptop's window and a phone's




@pytest.fixture(scope="session")
def site(built_book):
    with bc.serve(built_book) as base:
        yield base


@pytest.fixture(scope="session")
def screenshots(built_book) -> Path:
    folder = built_book / "_screenshots"
    shutil.rmtree(folder, ignore_errors=True)
    return folder


@pytest.fixture(scope="session")
def facts(browser, site, screenshots):
    """Each page of the book visited once (with its screenshots); its facts are shared by the checks."""
    seen: dict[str, bc.Facts] = {}

    def of(page: str) -> bc.Facts:
        if page not in seen:
            seen[page] = bc.visit(browser, site + page + ".html",
                                  screenshot=screenshots / f"{page}.png",
                                  dark_screenshot=screenshots / f"{page}.dark.png")
        return seen[page]
    return of


@pytest.fixture(scope="session")
def layouts(browser, site):
    """Each page's layout at a window width, measured once."""
    seen: dict[tuple[str, int], dict] = {}

    def of(page: str, width: int) -> dict:
        if (page, width) not in seen:
            seen[page, width] = bc.layout(browser, site + page + ".html", width)
        return seen[page, width]
    return of


@pytest.fixture(scope="session")
def links():
    return bc.LinkChecker()


@pytest.fixture(scope="session")
def secrets():
    from kit import leaks

    return {a: leaks.secret_lines(solution_path(a)) for a in ASSIGNMENTS}


def source_of(page: str) -> Path:
    return next(p for p in (ROOT / f"{page}.md", ROOT / f"{page}.ipynb") if p.is_file())


def hide_input_cells(page: str) -> int:
    """How many code cells of the page's source are tagged hide-input."""
    source = source_of(page)
    if source.suffix == ".ipynb":
        nb = json.loads(source.read_text(encoding="utf-8"))
        return sum("hide-input" in c.get("metadata", {}).get("tags", []) for c in nb["cells"])
    return len(re.findall(r"(?m)^:?tags:\s*\[[^\]]*\bhide-input\b", source.read_text(encoding="utf-8")))


# ------------------------------------------------------------------ the book

@pytest.mark.parametrize("page", PAGES)
def test_the_page_loads_offline_with_no_console_error_or_failed_request(facts, page):
    assert bc.loading_problems(facts(page)) == []


@pytest.mark.parametrize("page", PAGES)
def test_every_equation_is_typeset_by_mathjax(facts, page):
    f = facts(page)
    assert bc.math_problems(f) == []
    if "$" in source_of(page).read_text(encoding="utf-8"):
        assert f["mjx"] > 0, "the source has math, the page shows none"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page", PAGES)
def test_every_display_equation_fits_its_column(layouts, page, width):
    assert bc.equation_overflow_problems(layouts(page, width)) == []


@pytest.mark.parametrize("page", CHAPTERS)
def test_no_code_block_or_output_of_a_chapter_scrolls_sideways(layouts, page):
    f = layouts(page, bc.VIEWPORT["width"])
    assert f["code"], "a chapter without code blocks: nothing was measured"
    assert bc.code_scroll_problems(f) == []


@pytest.mark.parametrize("page", PAGES)
def test_every_image_loads_and_has_alt_text(facts, page):
    assert bc.image_problems(facts(page)) == []


@pytest.mark.parametrize("page", PAGES)
def test_figures_stay_readable_in_dark_mode(facts, page):
    assert bc.dark_mode_problems(facts(page)) == []
    assert bc.dark_plate_problems(facts(page)) == []


@pytest.mark.parametrize("page", PAGES)
def test_every_internal_link_and_anchor_resolves(facts, links, page):
    f = facts(page)
    assert f["links"], "a page with no links at all: the sidebar is missing"
    assert links.problems(f) == []


@pytest.mark.parametrize("page", PAGES)
def test_the_sidebar_reaches_every_chapter_and_exercise(facts, site, page):
    assert bc.sidebar_problems(facts(page), site, PAGES) == []


@pytest.mark.parametrize("page", PAGES)
def test_code_has_copy_buttons_and_long_plotting_code_is_folded(facts, page):
    f = facts(page)
    assert bc.copy_button_problems(f) == []
    assert bc.hide_input_problems(f, hide_input_cells(page)) == []


def _repository_url() -> str:
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return str((config.get("repository") or {}).get("url") or "")


@pytest.mark.parametrize("page", PAGES)
def test_the_download_button_is_there_and_a_repository_button_only_with_a_repository(facts, page):
    """Issue 24, item 8: no placeholder repository button; one search control, not two."""
    f = facts(page)
    assert f["downloads"], "no download button"
    url = _repository_url()
    assert bool(f["repositoryButtons"]) == bool(url), (url, f["repositoryButtons"])
    assert len(f["searchControls"]) == 1, f["searchControls"]


@pytest.mark.parametrize("page", CHAPTERS)
def test_every_chapter_offers_itself_and_its_exercise_as_notebooks(facts, page):
    """Issue 24, item 5: the chapter as a runnable .ipynb and its exercise notebook, from
    the page's download menu."""
    assert bc.chapter_download_problems(facts(page), page.split("/")[-1]) == []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_exercise_page_offers_the_checks_wheel(facts, assignment):
    from autograde.grading import wheel

    f = facts(f"exercises/{assignment}/{assignment}")
    links = [h for h in f["downloads"] if h.endswith(f"/_static/{wheel.wheel_name()}")]
    assert links, f["downloads"]
    assert bc.fetch(links[0])[:2] == b"PK"  # a wheel is a zip


@pytest.mark.parametrize("page", PAGES)
def test_no_page_shows_solution_or_hidden_test_code(facts, secrets, page):
    f = facts(page)
    for assignment in ASSIGNMENTS:
        assert bc.leak_problems(f, secrets[assignment]) == [], assignment


@pytest.mark.parametrize("page", PAGES)
def test_a_screenshot_of_the_page_is_in_the_build_folder(facts, screenshots, page):
    facts(page)
    assert bc.screenshot_problems(screenshots / f"{page}.png") == []
    assert bc.screenshot_problems(screenshots / f"{page}.dark.png") == []


def test_every_chapter_and_exercise_is_a_page_of_the_toc():
    chapters = sorted(p.stem for p in (ROOT / "book").glob("[0-9][0-9]-*.md"))
    for chapter in chapters:
        assert f"book/{chapter}" in PAGES and f"exercises/{chapter}/{chapter}" in PAGES


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_exercise_page_shows_the_stubs_and_offers_the_notebook(facts, assignment):
    f = facts(f"exercises/{assignment}/{assignment}")
    assert "raise NotImplementedError()" in f["visibleText"]
    assert bc.notebook_download_problems(f, assignment) == []


def test_the_search_page_finds_forget_gate(browser, site, screenshots):
    titles, problems = bc.search_results(browser, site, "forget gate", screenshots / "search-forget-gate.png")
    assert problems == []
    assert "Glossary" in titles, titles
    assert bc.screenshot_problems(screenshots / "search-forget-gate.png") == []


# ------------------------------------------- each check catches a broken page

def png(width: int, height: int, transparent: bool) -> bytes:
    """A PNG with a black diagonal on a transparent or an opaque white background."""
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter: none
        for x in range(width):
            ink = abs(x * height - y * width) < width * 2
            row += bytes([0, 0, 0, 255]) if ink else bytes([255, 255, 255, 0 if transparent else 255])
        rows.append(bytes(row))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


MATHJAX = ('<script>window.MathJax = {"options": {"processHtmlClass": "tex2jax_process|mathjax_process|math"}}'
           '</script><script defer src="_static/mathjax/tex-chtml.js"></script>')


def terms(n: int) -> str:
    return " + ".join(f"x_{{{i}}}" for i in range(1, n + 1))


# A column at most 700 px wide: an equation that fits, one that fits a laptop's window but
# not a phone's, one too wide for any window, one cut off by a box narrower than itself,
# one with its number on top of it; a short code line, a long one and a long one folded
# in a closed toggle (the check opens it).
LAYOUT_PAGE = (
    '<article class="bd-article" style="max-width: 700px; margin: 0 auto; padding: 0 16px">'
    '<div class="math">\\[h_t\\]</div>'
    f'<div class="math" id="phone">\\[{terms(14)}\\]</div>'
    f'<div class="math" id="wide">\\[{terms(30)}\\]</div>'
    f'<div style="overflow: hidden; width: 100px"><div class="math" id="boxed">\\[{terms(4)}\\]</div></div>'
    f'<div class="math" id="numbered" style="position: relative"><span class="eqno" '
    f'style="position: absolute; left: 45%; top: 0">(1.1)</span>\\[{terms(6)}\\]</div>'
    '<div class="highlight"><pre>x = 1</pre></div>'
    f'<div class="highlight"><pre>x = {" + ".join(["1"] * 80)}</pre></div>'
    f'<details><summary>show code</summary><pre>y = {" + ".join(["2"] * 80)}</pre></details>'
    '</article>')


def html(body: str, head: str = "") -> str:
    return f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>broken</title>{head}</head>' \
           f'<body class="tex2jax_ignore mathjax_ignore">{body}</body></html>'


@pytest.fixture(scope="module")
def broken(tmp_path_factory, built_book, secrets):
    """Deliberately broken pages, served the same way (with the book's _static)."""
    folder = tmp_path_factory.mktemp("broken-site")
    (folder / "_static").symlink_to(built_book / "_static", target_is_directory=True)
    (folder / "opaque.png").write_bytes(png(60, 40, transparent=False))
    (folder / "transparent.png").write_bytes(png(60, 40, transparent=True))
    line = next(s for s, kind in secrets[ASSIGNMENTS[0]].items() if kind == "solution")
    stubless = {"cells": [{"cell_type": "code", "source": ["x = 1\n"], "metadata": {}, "outputs": [],
                           "execution_count": None}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (folder / "stubless.ipynb").write_text(json.dumps(stubless))
    pages = {
        "math.html": html('<p>Rendered <span class="math notranslate nohighlight">\\(h_t\\)</span>, '
                          'a raw $x_t$ left by the author, and a typo '
                          '<span class="math notranslate nohighlight">\\(x^2^3\\)</span>.</p>', MATHJAX),
        "no-mathjax.html": html('<p>Math <span class="math notranslate nohighlight">\\(h_t\\)</span> '
                                'with no MathJax on the page.</p>'),
        "images.html": html('<p id="top"><img src="opaque.png" alt="A black diagonal line.">'
                            '<img src="missing.png" alt="A figure that is not there.">'
                            '<img src="opaque.png"><img src="opaque.png" alt="opaque.png"></p>'),
        "dark.html": html('<img src="opaque.png" alt="Opaque figure."><img src="transparent.png" alt="Transparent.">'),
        "errors.html": html('<script>console.error("boom")</script><script>no_such_function()</script>'
                            '<script src="missing.js"></script><img src="https://example.invalid/logo.png" alt="x">'),
        "links.html": html('<p id="here"><a href="images.html">fine</a> <a href="images.html#top">fine</a> '
                           '<a href="#here">fine</a> <a href="nowhere.html">gone</a> '
                           '<a href="images.html#no-such-id">no anchor</a> <a href="#missing">no anchor</a> '
                           '<a href="https://example.invalid/">elsewhere, not checked</a></p>'),
        "code.html": html('<nav class="bd-docs-nav"><a href="images.html">Images</a>'
                          '<a href="links.html" style="display:none">Links</a></nav>'
                          '<div class="highlight"><pre>print(1)</pre></div>'
                          '<div class="cell tag_hide-input"><div class="cell_input"><pre>plt.plot()</pre></div></div>'),
        "leak.html": html(f'<pre>{line}</pre>'),
        "layout.html": html(LAYOUT_PAGE, MATHJAX),
        "plate.html": html('<article class="bd-article" style="background: #121212">'
                           '<img src="opaque.png" alt="A plain white figure.">'
                           '<div class="bd-content"><div class="cell_output">'
                           '<img src="opaque.png" alt="The figure in a cell output."></div></div></article>',
                           '<link rel="stylesheet" href="_static/course.css">'),
        "exercise.html": html('<div class="dropdown-download-buttons"><a href="stubless.ipynb">Download</a></div>'),
    }
    for name, text in pages.items():
        (folder / name).write_text(text, encoding="utf-8")
    with bc.serve(folder) as base:
        yield base


def test_a_console_error_a_failed_request_and_a_request_outside_the_site_are_caught(browser, broken):
    problems = bc.loading_problems(bc.visit(browser, broken + "errors.html"))
    assert any("console error: boom" in p for p in problems), problems
    assert any("page error:" in p and "no_such_function" in p for p in problems), problems
    assert any("HTTP 404" in p and "missing.js" in p for p in problems), problems
    assert any("outside the site" in p and "example.invalid" in p for p in problems), problems


def test_raw_tex_and_a_tex_error_are_caught(browser, broken):
    f = bc.visit(browser, broken + "math.html")
    problems = bc.math_problems(f)
    assert f["mjx"] >= 1  # the good one was typeset
    assert any("raw TeX" in p and "$x_t$" in p for p in problems), problems
    assert any("MathJax error" in p for p in problems), problems
    problems = bc.math_problems(bc.visit(browser, broken + "no-mathjax.html"))
    assert any("not typeset" in p for p in problems) and any("raw TeX" in p for p in problems), problems


def test_a_missing_image_and_missing_or_useless_alt_text_are_caught(browser, broken):
    problems = bc.image_problems(bc.visit(browser, broken + "images.html"))
    assert len(problems) == 3, problems
    assert any("does not load" in p and "missing.png" in p for p in problems)
    assert any("without alt text" in p for p in problems)
    assert any("only a file name" in p for p in problems)


def test_a_transparent_figure_on_a_dark_page_is_caught(browser, broken):
    problems = bc.dark_mode_problems(bc.visit(browser, broken + "dark.html"))
    assert len(problems) == 1 and "transparent.png" in problems[0], problems


def test_a_figure_on_a_white_plate_in_dark_mode_is_caught(browser, broken):
    """The same white figure, without the book's stylesheet (a white plate on the dark
    page) and with it, in a cell output as the book puts it (inverted: no plate)."""
    problems = bc.dark_plate_problems(bc.visit(browser, broken + "plate.html"))
    assert len(problems) == 1 and "plate" in problems[0], problems
    assert [img["src"] for img in bc.visit(browser, broken + "plate.html")["darkPlates"]] == \
        ["opaque.png", "opaque.png"]


def test_a_broken_link_and_missing_anchors_are_caught(browser, broken):
    problems = bc.LinkChecker().problems(bc.visit(browser, broken + "links.html"))
    assert len(problems) == 3, problems
    assert any("broken link" in p and "nowhere.html" in p for p in problems)
    assert any("no-such-id" in p for p in problems) and any("'missing'" in p for p in problems)


def test_a_sidebar_missing_a_page_a_code_block_without_copy_button_and_an_unfolded_input_are_caught(browser, broken):
    f = bc.visit(browser, broken + "code.html")
    problems = bc.sidebar_problems(f, broken, ["images", "links", "dark"])
    assert problems == ["the sidebar's link to links cannot be seen, even with every section expanded",
                        "the sidebar does not link dark"], problems
    assert bc.copy_button_problems(f) == ["1 of 1 code blocks have no copy button"]
    assert len(bc.hide_input_problems(f, 1)) == 1
    assert len(bc.hide_input_problems(f, 2)) == 2
    assert not f["repositoryButtons"]


def test_an_equation_too_wide_cut_off_or_under_its_number_and_sideways_scrolling_code_are_caught(browser, broken):
    laptop = bc.layout(browser, broken + "layout.html", bc.VIEWPORT["width"])
    problems = bc.equation_overflow_problems(laptop)
    assert len(laptop["equations"]) == 5, laptop["equations"]
    assert len(problems) == 3, problems
    assert any("wider than the column" in p and "wide" in p for p in problems), problems
    assert any("cut off" in p and "boxed" in p for p in problems), problems
    assert any("number on top" in p and "numbered" in p for p in problems), problems
    phone = bc.layout(browser, broken + "layout.html", bc.PHONE_WIDTH)
    problems = bc.equation_overflow_problems(phone)
    assert len(problems) == 4 and any("wider than the column" in p and "phone" in p for p in problems), problems
    problems = bc.code_scroll_problems(laptop)
    assert len(laptop["code"]) == 3 and len(problems) == 2, problems
    assert any("'x = 1 + 1" in p for p in problems) and any("'y = 2 + 2" in p for p in problems), problems


def test_solution_code_in_the_page_text_is_caught(browser, broken, secrets):
    f = bc.visit(browser, broken + "leak.html")
    assert len(bc.leak_problems(f, secrets[ASSIGNMENTS[0]])) == 1


def test_an_exercise_page_without_the_notebook_or_with_a_notebook_without_stubs_is_caught(browser, broken):
    f = bc.visit(browser, broken + "exercise.html")
    assert bc.notebook_download_problems(f, "stubless") == ["the downloaded stubless.ipynb has no student stubs"]
    assert "no download of 01-rnn-basics.ipynb" in bc.notebook_download_problems(f, "01-rnn-basics")[0]


def test_a_search_that_finds_nothing_is_told_apart(browser, site):
    titles, problems = bc.search_results(browser, site, "zqxjv")
    assert titles == [] and problems == []


def test_a_missing_or_empty_screenshot_is_caught(tmp_path):
    assert bc.screenshot_problems(tmp_path / "none.png")
    (tmp_path / "empty.png").write_bytes(b"")
    assert bc.screenshot_problems(tmp_path / "empty.png")
    (tmp_path / "tiny.png").write_bytes(png(10, 10, transparent=False))
    assert bc.screenshot_problems(tmp_path / "tiny.png")


def test_the_common_mistakes_page_is_short_typeset_and_links_each_function_to_its_exercise(browser, site):
    """Issue 24, item 6: was 39,000 px of plain text. Each mistake is a closed entry under
    its function's heading; a list of chapters leads to one section per chapter; each
    function links to its exercise; the equations are typeset."""
    from autograde import chapters

    context = browser.new_context(viewport=bc.VIEWPORT)
    page = context.new_page()
    page.goto(site + "book/common-mistakes.html", wait_until="load")
    page.evaluate(bc.READY_JS)
    got = page.evaluate("""() => ({
        height: document.documentElement.scrollHeight,
        entries: document.querySelectorAll('.admonition.dropdown').length,
        open: [...document.querySelectorAll('.admonition.dropdown')].filter(a => !a.classList.contains('toggle-hidden')
              && a.querySelector('.admonition-title + *') && a.querySelector('.admonition-title + *').offsetHeight > 0).length,
        math: [...document.querySelectorAll('.admonition mjx-container')].length,
        sections: [...document.querySelectorAll('section > h2')].map(h => h.closest('section').id),
        contents: [...document.querySelectorAll('article li > p > a[href^="#"], article li > a[href^="#"]')].map(a => a.getAttribute('href')),
        exerciseLinks: [...document.querySelectorAll('section section')].filter(s => s.querySelector(':scope > h3 code'))
            .map(s => [s.querySelector(':scope > h3').textContent.replace('#', '').trim(),
                       [...s.querySelectorAll(':scope > p a[href]')].map(a => a.getAttribute('href'))]),
    })""")
    context.close()
    known = sum(len(chapters.mistakes_for(fn.name)) for fns in chapters.assignments().values() for fn in fns)
    assert got["entries"] == known and got["open"] == 0, got["entries"]
    # closed entries: under 90 px a mistake (12,359 px for 156; the open page was 285 a mistake)
    assert got["height"] < 90 * known, (got["height"], known)
    assert got["math"] > 30, got["math"]
    assert len(got["contents"]) == len(chapters.assignments()) and all(got["contents"]), got["contents"]
    assert len(got["exerciseLinks"]) == sum(1 for fns in chapters.assignments().values() for fn in fns
                                            if chapters.mistakes_for(fn.name))
    for name, hrefs in got["exerciseLinks"]:
        assert any("exercises/" in h and h.split("#")[0].endswith(".html") for h in hrefs), (name, hrefs)
