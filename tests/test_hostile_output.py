"""Output a hostile submission cannot turn against its reader.

One small class is graded by the real command (`course.grade`, bubblewrap, nbgrader's
generate_feedback with our preprocessors). Its feedback pages and the class report are
opened in Debian's chromium (headless, Playwright, as tests/test_browser.py does): a
script planted in a markdown cell, an output or an image payload must not run, no event
handler fire, no javascript: link act. Its CSV files must not start a cell with a
formula. One student whose page nbgrader cannot make costs only that student.
"""
from __future__ import annotations

import csv
import json
import re
import shutil
from urllib.parse import quote

import nbformat
import pytest

import browser_checks as bc
from autograde.grading import course, sandbox
from conftest import ROOT, make_submission

pytestmark = pytest.mark.slow

A = "01-rnn-basics"
LIMITS = sandbox.Limits(cell_timeout=6, wall_seconds=150)
HOSTILE = "alice"  # sorts before LEFTOVER: nbgrader's class run reaches her page before it fails
HOSTILE_ID = "<img src=x onerror=window.pwnedId=1>"
FORMULA_IDS = ["=1+2", "@SUM(1)", "+3"]          # valid ids: graded (missing notebooks)
INVALID_IDS = ["-4+5", "\t=6"]                     # invalid ids: listed, not graded
LEFTOVER = "bad\nid"  # an autograded folder from an older run: nbgrader's class run fails on it

# Every way a submission might reach a script into the page: each sets a flag or the title.
MARKDOWN = """# Notes <script>document.title='pwned'; window.pwnedMarkdown=1</script>
<img src=x onerror="window.pwnedImg=1"> <svg onload="window.pwnedSvgTag=1"></svg>
[a link](javascript:window.pwnedLink=1) <a href="JaVaScRiPt:window.pwnedLink2=1">another</a>
<iframe srcdoc="<script>parent.pwnedIframe=1</script>"></iframe>
<details open ontoggle="window.pwnedToggle=1">x</details>
<meta http-equiv="refresh" content="0;url=javascript:window.pwnedRefresh=1">
<form action="javascript:window.pwnedForm=1"><button id=go>go</button></form>
"""
OUTPUTS = r'''
from IPython.display import display, HTML, Javascript, SVG, Markdown
display(HTML("<script>window.pwnedHtml=1</script><img src=x onerror='window.pwnedHtmlImg=1'>"))
display(Javascript("window.pwnedJs=1; document.title='pwned'"))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" onload="window.pwnedSvg=1">'
            '<script>window.pwnedSvgScript=1</script></svg>'))
display(Markdown("<img src=x onerror='window.pwnedMd=1'> [md](javascript:window.pwnedMdLink=1)"))
display({"image/png": 'AAAA" onerror="window.pwnedPng=1', "text/plain": "png"}, raw=True)
display({"text/html": "<iframe srcdoc='<script>parent.pwnedIframe2=1</script>'></iframe>"},
        metadata={"text/html": {"isolated": True}}, raw=True)
display({"image/png": "iVBORw0KGgo=", "text/plain": "tiny"},
        metadata={"image/png": {"width": "1 onerror=window.pwnedWidth=1"}}, raw=True)
print("<script>window.pwnedStream=1</script>")
'''
FLAGS_JS = "() => Object.keys(window).filter(k => k.startsWith('pwned'))"
# Every live thing on the page: scripts, event-handler attributes, javascript: targets.
ACTIVE_JS = r"""() => {
  const all = [...document.querySelectorAll('*')];
  return {
    scripts: document.scripts.length,
    handlers: all.flatMap(el => [...el.attributes].filter(a => /^on/i.test(a.name))
                                  .map(a => el.tagName + ' ' + a.name)),
    jsUrls: all.flatMap(el => [...el.attributes].filter(a => /^\s*javascript:/i.test(a.value))
                                .map(a => el.tagName + ' ' + a.name)),
    frames: document.querySelectorAll('iframe, object, embed, frame').length,
    csp: [...document.querySelectorAll('meta[http-equiv="Content-Security-Policy" i]')]
           .map(m => m.content),
    text: document.body.innerText,
  };
}"""


def hostile_notebook():
    nb = make_submission(A)
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(MARKDOWN))
    nb.cells.append(nbformat.v4.new_code_cell(OUTPUTS))
    nb.cells.append(nbformat.v4.new_raw_cell("<script>window.pwnedRaw=1</script>"))
    nb.cells[-1].metadata["raw_mimetype"] = "text/html"
    nb.cells[-2].metadata["tags"] = ['x" onmouseover="window.pwnedTag=1']
    return nb


# Issue 23, item 7: five markdown cells of one 4,000-term formula each (took the class's
# feedback step from 53 s to 131 s), and one small formula that is typeset.
BIG_FORMULA = " + ".join(f"x_{{{i}}}" for i in range(4000))


def tex_bomb():
    nb = make_submission(A)
    for _ in range(5):
        nb.cells.insert(1, nbformat.v4.new_markdown_cell(f"$${BIG_FORMULA}$$"))
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("A small one: $h_t = \\tanh(a_t)$."))
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course_dir = tmp_path_factory.mktemp("hostile")
    submitted = course_dir / "submitted"
    for student, nb in {HOSTILE: hostile_notebook(), "zoe": make_submission(A), "tex": tex_bomb()}.items():
        (submitted / student / A).mkdir(parents=True)
        nbformat.write(nb, submitted / student / A / f"{A}.ipynb")
    # A hostile student id whose submission is flagged, with a hostile file name in its message.
    tampered = make_submission(A)
    next(c for c in tampered.cells
         if c.metadata.get("nbgrader", {}).get("grade_id") == "test_rnn_cell_public").source = "pass"
    folder = submitted / HOSTILE_ID / A
    folder.mkdir(parents=True)
    nbformat.write(tampered, folder / f"{A}.ipynb")
    (folder / "<svg onload=window.pwnedFile=1>.txt").write_text("x")
    for student in FORMULA_IDS + INVALID_IDS:
        (submitted / student / A).mkdir(parents=True)
    leftover = course_dir / "autograded" / LEFTOVER / A
    leftover.mkdir(parents=True)
    nbformat.write(make_submission(A), leftover / f"{A}.ipynb")
    result = course.grade(ROOT, A, course_dir, limits=LIMITS, progress=False)
    return course_dir, {r.student: r for r in result.results}




def open_page(browser, folder, relative):
    """Load a page as a student would, click every link and button on it, and return
    what is live on it, the flags a script set, the title and the CSP violations."""
    with bc.serve(folder) as base:
        context = browser.new_context(viewport=bc.VIEWPORT, service_workers="block")
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                      or route.request.url.startswith("data:") else route.abort())
        # Runs before the page's own content (a DevTools script, outside the page's CSP).
        context.add_init_script("window.__violations = []; document.addEventListener("
                                "'securitypolicyviolation', e => __violations.push(e.violatedDirective));")
        page = context.new_page()
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        try:
            url = base + "/".join(quote(part) for part in relative)
            page.goto(url, wait_until="load")
            page.wait_for_timeout(300)
            title = page.title()
            for el in page.locator("a[href], button, details, svg, img").all()[:200]:
                try:
                    el.hover(timeout=500)
                    el.click(timeout=500, no_wait_after=True)
                except Exception:  # hidden or covered: the hover/click is only a provocation
                    pass
                if page.url.split("#")[0] != url:
                    page.goto(url, wait_until="load")
            page.wait_for_timeout(300)
            facts = page.evaluate(ACTIVE_JS)
            facts.update(title=title, flags=page.evaluate(FLAGS_JS), dialogs=dialogs,
                         violations=page.evaluate("() => window.__violations"))
        finally:
            context.close()
    return facts


def feedback_page(course_dir, student):
    return course_dir / "feedback" / student / A / f"{A}.html"


@pytest.mark.parametrize("student", [HOSTILE, HOSTILE_ID, "zoe"])
def test_a_feedback_page_runs_nothing_from_the_submission_in_a_browser(graded, browser, student):
    course_dir, _ = graded
    facts = open_page(browser, course_dir / "feedback", [student, A, f"{A}.html"])
    assert facts["flags"] == [] and facts["dialogs"] == []
    assert "pwned" not in facts["title"]
    assert facts["scripts"] == 0 and facts["handlers"] == [] and facts["jsUrls"] == []
    assert facts["frames"] == 0
    assert len(facts["csp"]) == 1 and "script-src 'none'" in facts["csp"][0]
    assert "Grading notes" in facts["text"]  # nbgrader's full page, not the plain fallback


def test_the_hostile_content_is_shown_as_text_and_safe_outputs_kept(graded):
    course_dir, _ = graded
    page = feedback_page(course_dir, HOSTILE).read_text(encoding="utf-8")
    assert "&lt;script&gt;document.title=" in page  # the student's markdown, readable, inert
    assert "&lt;script&gt;window.pwnedStream=1&lt;/script&gt;" in page  # printed text stays text
    assert "[output not shown in feedback: text/html]" in page  # an output with no plain text
    assert "IPython.core.display.Javascript object" in page  # else its plain text alone
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in page  # a real PNG is kept
    assert not re.search(r"<(script|iframe|svg|object|embed|form|meta http-equiv=\"refresh)", page, re.I)
    assert "cdnjs" not in page and "mathjax" not in page.lower()  # nothing loads from a CDN


def test_the_policy_stops_a_script_that_the_sanitiser_had_missed(graded, browser, tmp_path):
    """The second wall: a page with a script planted after the policy runs none of it."""
    course_dir, _ = graded
    page = feedback_page(course_dir, HOSTILE).read_text(encoding="utf-8")
    planted = page.replace("<body>", "<body><script>window.pwnedPlanted=1</script>"
                                     "<img src=x onerror='window.pwnedPlantedImg=1'>"
                                     "<a id=planted href='javascript:window.pwnedPlantedLink=1'>x</a>", 1)
    assert planted != page
    (tmp_path / "planted.html").write_text(planted, encoding="utf-8")
    facts = open_page(browser, tmp_path, ["planted.html"])
    assert facts["flags"] == []
    assert "script-src-elem" in facts["violations"] or "script-src" in facts["violations"]


def test_the_class_report_escapes_hostile_ids_and_messages_in_a_browser(graded, browser):
    course_dir, results = graded
    assert "suspected tampering" in results[HOSTILE_ID].flags
    assert any("<svg onload=" in m for m in results[HOSTILE_ID].messages)
    facts = open_page(browser, course_dir / "reports" / A, ["index.html"])
    assert facts["flags"] == [] and facts["dialogs"] == []
    assert facts["scripts"] == 0 and facts["handlers"] == [] and facts["jsUrls"] == []
    assert HOSTILE_ID in facts["text"] and "<svg onload=window.pwnedFile=1>.txt" in facts["text"]
    assert len(facts["csp"]) == 1 and "script-src 'none'" in facts["csp"][0]


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_no_csv_cell_starts_a_formula_and_numbers_stay_numbers(graded):
    course_dir, results = graded
    files = {"grades.csv": course_dir / "grades.csv", "lms": course_dir / f"grades-lms-{A}.csv",
             "report.csv": course_dir / "reports" / A / "report.csv"}
    for name, path in files.items():
        table = rows(path)
        ids = [r[0] for r in table[1:]]
        for student in FORMULA_IDS:
            assert "'" + student in ids, (name, ids)
        for row in table:
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (name, row)
        header = table[0]
        for row in table[1:]:
            for column in ("score", "max_score", A, "points_possible"):
                if column in header:
                    float(row[header.index(column)])  # a number, not a quoted text
    graded_ids = [r[0] for r in rows(files["grades.csv"])[1:]]
    for student in INVALID_IDS:  # listed with their reason, neutralised
        assert "'" + student in graded_ids
    assert rows(files["lms"])[1:] and all(float(r[1]) == results[r[0].lstrip("'")].score
                                          for r in rows(files["lms"])[1:] if r[0].lstrip("'") in results)


def test_a_failing_feedback_run_costs_no_other_student_their_page(graded):
    """nbgrader's class run stops at the leftover folder; every student still gets the
    full page (made one by one), the unusable submissions their plain page."""
    course_dir, results = graded
    assert LEFTOVER not in results
    for student in [HOSTILE, "zoe", HOSTILE_ID]:
        page = feedback_page(course_dir, student).read_text(encoding="utf-8")
        assert "Grading notes" in page and "nbgrader_cell" in page, student
    for student in FORMULA_IDS:
        page = feedback_page(course_dir, student).read_text(encoding="utf-8")
        assert "Content-Security-Policy" in page and "no notebook" in page
    assert not (course_dir / "feedback" / f"{A}-failed.json").exists()


def test_a_student_whose_page_cannot_be_made_gets_the_plain_page_and_is_listed(graded, tmp_path, capfd):
    course_dir, _ = graded
    copy = tmp_path / "course"
    shutil.copytree(course_dir, copy, symlinks=True)
    shutil.rmtree(copy / "autograded" / LEFTOVER)
    # zoe's executed notebook is damaged after grading; her result is kept (not regraded).
    (copy / "autograded" / "zoe" / A / f"{A}.ipynb").write_text("{ not json")
    result = course.grade(ROOT, A, copy, limits=LIMITS, progress=False)
    zoe = next(r for r in result.results if r.student == "zoe")
    page = feedback_page(copy, "zoe").read_text(encoding="utf-8")
    assert f"Score: {zoe.score:g} / {zoe.max_score:g}" in page and "could not be made" in page
    assert "Content-Security-Policy" in page
    assert "Grading notes" in feedback_page(copy, HOSTILE).read_text(encoding="utf-8")
    record = json.loads((copy / "feedback" / f"{A}-failed.json").read_text())
    assert list(record) == ["zoe"] and record["zoe"]
    assert "could not make the feedback page of 1 student(s)" in capfd.readouterr().err


def test_grading_one_unusable_student_exits_0_refreshes_grades_and_writes_their_page(graded, tmp_path):
    import subprocess

    from conftest import BIN

    course_dir, _ = graded
    copy = tmp_path / "course"
    shutil.copytree(course_dir, copy, symlinks=True)
    (copy / "submitted" / "newcomer" / A).mkdir(parents=True)
    (copy / "submitted" / "newcomer" / A / f"{A}.ipynb").write_text("{ not json")
    proc = subprocess.run([str(BIN / "rnn-course"), "grade", A, "--course-dir", str(copy), "--student", "newcomer"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "newcomer" in [r[0] for r in rows(copy / "grades.csv")]
    page = feedback_page(copy, "newcomer").read_text(encoding="utf-8")
    assert "is not valid JSON" in page and "Content-Security-Policy" in page


def test_the_checkouts_nbgrader_config_sanitises_feedback_as_the_grader_does():
    """`nbgrader generate_feedback` run by hand from the checkout uses the same preprocessors."""
    from traitlets.config.loader import PyFileConfigLoader

    from autograde.grading import feedback

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert list(config.GenerateFeedback.preprocessors) == feedback.PREPROCESSORS
    assert "autograde.grading.feedback.SanitizeFeedback" in feedback.PREPROCESSORS


def test_feedback_math_is_mathml_drawn_without_any_script():
    """The instructor's TeX reaches the student typeset, with scripts forbidden: MathML."""
    from autograde.grading.feedback import safe_markdown

    html_ = safe_markdown(r"The recurrence $h_t = \tanh(a_t)$, and $$\hat y_t = h_t W_{hy}^\top$$ costs $5.")
    assert html_.count("<math") == 2 and "<msub>" in html_ and "costs $5." in html_


def test_tex_cannot_smuggle_markup_into_feedback():
    from autograde.grading.feedback import safe_markdown

    html_ = safe_markdown(r"$\text{<script>alert(1)</script>}$ and $\text{<img src=x onerror=alert(1)>}$")
    assert "<script" not in html_ and "<img" not in html_ and "&lt;script&gt;" in html_


def test_a_tex_bomb_is_shown_as_text_and_small_formulas_are_still_typeset(graded):
    course_dir, results = graded
    page = feedback_page(course_dir, "tex").read_text(encoding="utf-8")
    assert "shown as TeX, not typeset" in page
    assert page.count("x_{3999}") == 5 and "<math" in page  # the big ones as text, the small one as MathML
    assert results["tex"].score == results["zoe"].score


def test_typesetting_is_bounded_per_formula_cell_and_notebook(monkeypatch):
    import latex2mathml.converter

    from autograde.grading import feedback

    converted = []
    original = latex2mathml.converter.convert
    monkeypatch.setattr(latex2mathml.converter, "convert", lambda tex, **k: converted.append(len(tex)) or
                        original(tex, **k))
    feedback.tex_to_mathml.cache_clear()  # typeset formulas are cached: count real conversions
    budget = [feedback.MAX_TEX_PER_NOTEBOOK, 0]
    feedback.safe_markdown(f"$${BIG_FORMULA}$$", budget)
    assert converted == [] and budget[1] == 1
    for cell in range(40):  # each formula 1,799 characters (under the formula cap), all different
        feedback.safe_markdown(" ".join("$" + "+".join([f"a{cell % 10}{i}"[:1]] * 900) + f"{cell}{i}$"
                                        for i in range(6)), budget)
    assert sum(converted) <= feedback.MAX_TEX_PER_NOTEBOOK
    assert max(converted) <= feedback.MAX_FORMULA and len(converted) >= 4 * 4


def test_a_page_that_never_finishes_costs_only_its_student(graded, tmp_path):
    """Issue 23, item 16: each page is made in its own bounded step. A page whose notebook
    hangs its reader (a named pipe in place of zoe's executed notebook) is stopped after
    the page's time limit; zoe gets the plain page and is listed, the next page is made."""
    import os

    from autograde.grading.pages import Pages, make_feedback

    course_dir, results = graded
    copy = tmp_path / "course"
    shutil.copytree(course_dir, copy, symlinks=True)
    shutil.rmtree(copy / "autograded" / LEFTOVER)
    executed = copy / "autograded" / "zoe" / A / f"{A}.ipynb"
    executed.unlink()
    os.mkfifo(executed)
    pages = Pages(copy, A, copy / "gradebook.db", seconds=5)
    for student in ("zoe", HOSTILE):
        pages.submit(student)
    failed = make_feedback(A, copy, copy / "gradebook.db", None, [results["zoe"], results[HOSTILE]], pages)
    assert failed == ["zoe"] and pages.made == [HOSTILE]
    record = json.loads((copy / "feedback" / f"{A}-failed.json").read_text())
    assert record == {"zoe": "making the page took longer than 5 s; it was stopped"}
    page = feedback_page(copy, "zoe").read_text(encoding="utf-8")
    assert "could not be made" in page and f"Score: {results['zoe'].score:g}" in page
    assert "Grading notes" in feedback_page(copy, HOSTILE).read_text(encoding="utf-8")


def canonical(page: str) -> str:
    """A page as a browser reads it: parsed and written out again (nbconvert's own last
    step), each tag's attributes in one order."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, features="html.parser")
    for tag in soup.find_all(True):
        tag.attrs = dict(sorted(tag.attrs.items()))
    return str(soup)


@pytest.mark.parametrize("student", [HOSTILE, "zoe"])
def test_a_page_is_the_page_nbgrader_generate_feedback_makes(graded, tmp_path, student):
    """Issue 23, item 16: the page maker skips nbconvert's pass over the parsed page and
    reads grades through one kept-open gradebook (pages.py, getgrades.py). Parsed, its page
    is the page `nbgrader generate_feedback` makes with nbgrader's own GetGrades and the
    same template, here with a manual score, a grader's comment and a late penalty in the
    gradebook; every image has alt text (what that pass adds) and no cell is one the pass
    would have marked. The code is coloured by Pygments' palette, whose rules the page
    holds (JupyterLab's theme variables, which a feedback page does not define, left
    code uncoloured)."""
    from bs4 import BeautifulSoup
    from nbgrader.api import Gradebook

    from autograde.grading.gradebook import nbgrader_here
    from autograde.grading.pages import exporter, feedback_settings, make_page

    course_dir, _ = graded
    copy = tmp_path / "course"
    shutil.copytree(course_dir, copy, symlinks=True)
    shutil.rmtree(copy / "autograded" / LEFTOVER)
    db = copy / "gradebook.db"
    solution = next(c.metadata.nbgrader["grade_id"] for c in nbformat.read(copy / "release" / A / f"{A}.ipynb", 4).cells
                    if c.metadata.get("nbgrader", {}).get("solution"))
    with Gradebook(f"sqlite:///{db}") as gb:
        gb.find_grade("test_rnn_forward_hidden", A, A, student).manual_score = 1.5
        gb.find_comment(solution, A, A, student).manual_comment = "See me <b>after</b> class"
        gb.find_submission_notebook(A, A, student).late_submission_penalty = 0.5
        gb.db.commit()
    ours = make_page(exporter(), copy, A, student, f"sqlite:///{db}").read_text(encoding="utf-8")
    feedback_page(copy, student).unlink()
    assert nbgrader_here("GenerateFeedback", A, copy, db, student, feedback_settings())["success"]
    stock = feedback_page(copy, student).read_text(encoding="utf-8")
    assert "nbgrader.preprocessors.GetGrades" in feedback_settings()["GenerateFeedback.preprocessors"]
    assert canonical(ours) == canonical(stock)
    assert "See me &lt;b&gt;after&lt;/b&gt; class" in ours and "Late submission penalty" in ours
    assert "(Score: 1.5 / 3.0)" in ours
    soup = BeautifulSoup(ours, features="html.parser")
    images = soup.find_all("img")
    assert all(img.get("alt") for img in images) and (images or student != HOSTILE)
    assert not soup.select(".jp-Notebook div.jp-Cell-inputWrapper, .jp-Notebook div.jp-OutputArea-output")
    assert ".highlight .k { color: #008000" in ours and "var(--jp-mirror-editor" not in ours
