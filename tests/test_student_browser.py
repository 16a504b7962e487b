"""The student's path in a real JupyterLab, as a student sees it (issue 11).

The student's kernel is a fresh venv with numpy and ipykernel only; JupyterLab (pinned
in requirements.txt) serves, on 127.0.0.1 with a token, the notebook released with a
book address (a local stand-in site holding the wheel at _static/), alone in a folder
away from the book; Debian's chromium, driven by Playwright as in test_browser.py, opens
it and, like a student, follows the intro's link (its text is the wheel's address) by
running the notebook's own install cell, then the imports, a correct `rnn_cell` and its check, and a `jordan_step` with a known
mistake and its check. The page must show the `ok` line, the diagnosis, no traceback
into the package, and the message's lines unbroken by the browser (so no word is cut).
A screenshot goes to _build/student-path.png for a person to look at.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

import browser_checks as bc
from autograde.grading import authoring, course, wheel
from conftest import ROOT, solution_sources
from wrong_implementations import WRONG

pytestmark = pytest.mark.slow

ASSIGNMENT = "01-rnn-basics"
MISTAKE = "tanh-on-output"  # a known mistake of jordan_step
# JupyterLab renders only the cells in view unless told otherwise; the test needs all.
SETTINGS = {"@jupyterlab/notebook-extension/tracker.jupyterlab-settings": '{"windowingMode": "none"}',
            "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
                '{"fetchNews": "false", "checkForUpdates": false}'}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory):
    """A student's fresh venv before the checks are installed: numpy (as the grading
    sandbox pins it) and a kernel (ipykernel as the course pins it), nothing of the
    course. Returns the folder for JUPYTER_PATH holding its kernel "student"."""
    folder = tmp_path_factory.mktemp("bare-venv")
    pins = [line.split("#")[0].strip() for name in ("requirements-sandbox.txt", "requirements.txt")
            for line in (ROOT / name).read_text().splitlines()
            if line.split("#")[0].strip().startswith(("numpy==", "ipykernel=="))]
    subprocess.run([sys.executable, "-m", "venv", str(folder / "venv")], check=True)
    python = folder / "venv" / "bin" / "python"
    proc = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *pins], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    subprocess.run([str(python), "-m", "ipykernel", "install", "--prefix", str(folder / "kernels"),
                    "--name", "student"], check=True, capture_output=True)
    return folder / "kernels" / "share" / "jupyter"


@pytest.fixture(scope="module")
def book_site(tmp_path_factory):
    """The book's site as the notebook's link finds it: the wheel at <book>/_static/,
    served on 127.0.0.1 (a stand-in for the published address in _config.yml)."""
    site = tmp_path_factory.mktemp("book-site")
    wheel.build(site / "_static")
    with bc.serve(site) as base:
        yield base.rstrip("/")


@pytest.fixture(scope="module")
def lab(bare_venv, book_site, tmp_path_factory):
    """JupyterLab on 127.0.0.1 with a token, its kernels from a student's bare venv only;
    the notebook released with the book's address (with a correct rnn_cell and a wrong
    jordan_step) in a folder of its own, away from the book and with no wheel beside it,
    as a student who got it from an LMS would have it. Yields (base URL, token, nb, book)."""
    kernels = bare_venv
    home = tmp_path_factory.mktemp("lab")
    work, settings = home / "work", home / "settings"
    work.mkdir()
    for name, text in SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(text)
    (released,) = authoring.release(ROOT, [ASSIGNMENT], out_dir=home / "released", url=book_site)
    nb = nbformat.read(released, as_version=4)
    answers = {"rnn_cell": solution_sources(ASSIGNMENT)["rnn_cell"],
               "jordan_step": WRONG[ASSIGNMENT]["jordan_step"][MISTAKE]}
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    nb.metadata["kernelspec"] = {"name": "student", "display_name": "student", "language": "python"}
    nbformat.write(nb, work / f"{ASSIGNMENT}.ipynb")
    assert not list(work.glob("*.whl"))
    token, port = secrets.token_hex(16), free_port()
    env = {**os.environ, "JUPYTER_PATH": str(kernels), "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_DATA_DIR": str(home / "data"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(settings), "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces")}
    log = open(home / "lab.log", "w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "jupyter-lab"), "--no-browser", "--allow-root", "--ip=127.0.0.1",
         f"--port={port}", "--LabApp.extension_manager=readonly",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
         "--KernelSpecManager.ensure_native_kernel=False", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
         "jupyterlab.NeverCheckForUpdate"],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"JupyterLab exited:\n{(home / 'lab.log').read_text()[-3000:]}")
                time.sleep(0.5)
        else:
            pytest.fail(f"JupyterLab did not start:\n{(home / 'lab.log').read_text()[-3000:]}")
        yield base, token, nb, book_site
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def cell_index(nb, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


# How many lines the browser draws for an output, against how many lines its text has:
# more drawn lines means the browser wrapped a line itself (and may have cut a word).
DRAWN_JS = r"""
(el) => {
  const pre = el.querySelector('pre') || el;
  const style = getComputedStyle(pre);
  const lineHeight = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.2;
  return {text: pre.innerText, textLines: pre.innerText.replace(/\n$/, '').split('\n').length,
          drawnLines: Math.round(pre.getBoundingClientRect().height / lineHeight),
          overflow: pre.scrollWidth > pre.clientWidth + 1, wordBreak: style.wordBreak,
          whiteSpace: style.whiteSpace};
}
"""


def test_a_student_runs_the_checks_in_jupyterlab(browser, lab):
    base, token, nb, book = lab
    context = browser.new_context(viewport=bc.VIEWPORT)
    outside = []
    context.route("**/*", offline_route(base, outside))
    page = context.new_page()
    page.goto(f"{base}/lab/tree/{ASSIGNMENT}.ipynb?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60000)
    cells = page.locator(".jp-Notebook .jp-Cell")
    page.wait_for_function(f"document.querySelectorAll('.jp-Notebook .jp-Cell').length == {len(nb.cells)}",
                           timeout=30000)

    def run(index: int, timeout: float = 120) -> str:
        cell = cells.nth(index)
        cell.scroll_into_view_if_needed()
        cell.locator(".jp-InputArea-prompt").click()
        page.keyboard.press("Shift+Enter")
        prompt = cell.locator(".jp-InputArea-prompt")
        for _ in range(50):  # on a busy machine a click can come before the cell takes it
            if prompt.inner_text().strip() != "[ ]:":
                break
            time.sleep(0.2)
        else:
            cell.locator(".jp-InputArea-prompt").click()
            page.keyboard.press("Shift+Enter")
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = prompt.inner_text()
            if "[" in text and "*" not in text and text.strip() != "[ ]:":
                return cell.locator(".jp-OutputArea").inner_text()
            time.sleep(0.2)
        raise AssertionError(f"cell {index} did not finish: {prompt.inner_text()}")

    # Issue 24, item 1: the intro's link, as JupyterLab renders it, is the wheel's address
    # in the book (its text is the address itself), and the install cell installs from it.
    cells.nth(0).locator(".jp-MarkdownOutput a[href$='.whl']").first.wait_for(timeout=30000)
    links = cells.nth(0).locator(".jp-MarkdownOutput a").evaluate_all(
        "els => els.map(a => [a.textContent.trim(), a.getAttribute('href')])")
    wheels = [(text, href) for text, href in links if text.endswith(".whl")]
    assert wheels == [(f"{book}/_static/{wheel.wheel_name()}",) * 2], links
    link_text = wheels[0][0]
    imports = cell_index(nb, "imports")
    assert nb.cells[imports - 1].source.endswith(f"%pip install {link_text}")
    installed = run(imports - 1, timeout=180)
    assert "Successfully installed rnn-course-checks" in installed, installed
    assert run(imports).strip() == ""  # from autograde.kernel import check
    run(cell_index(nb, "rnn_cell"))
    ok = run(cell_index(nb, "test_rnn_cell_public"))
    assert "ok: rnn_cell matches nn.RNN (one time step) on all 3 public cases" in ok, ok
    run(cell_index(nb, "jordan_step"))
    check_cell = cells.nth(cell_index(nb, "test_jordan_step_public"))
    shown = run(cell_index(nb, "test_jordan_step_public"))
    page.screenshot(path=str(ROOT / "_build" / "student-path.png"), full_page=False)
    assert 'This looks like a known mistake, "tanh applied to the output"' in " ".join(shown.split()), shown
    assert "jordan_step, public case 0" in shown and "CheckFailed" in shown
    for internal in ("Traceback", "site-packages", "checks.py", "autograde/kernel", "File "):
        assert internal not in shown, internal
    error = check_cell.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    drawn = error.first.evaluate(DRAWN_JS)
    assert not drawn["overflow"], drawn
    assert drawn["drawnLines"] == drawn["textLines"], drawn  # the browser broke no line: no word cut
    assert outside == [], outside
    context.close()




def offline_route(base: str, outside: list):
    """A route handler that lets requests to `base` through and aborts (and notes) the rest."""
    def route(r):
        if r.request.url.startswith(base):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()
    return route


MATH_JS = """() => [...document.querySelectorAll('math')].filter(m => {
    const r = m.getBoundingClientRect(); return r.width > 0 && r.height > 0; }).length"""


def test_the_feedback_page_typesets_its_math_with_no_script(browser, tmp_path):
    """Item 9: stock feedback asks a CDN for MathJax, so offline it shows raw LaTeX. Ours
    carries the math as MathML (drawn by the browser, under a policy that forbids every
    script) and loads nothing from outside."""
    from conftest import make_submission

    course_dir = tmp_path / "course"
    folder = course_dir / "submitted" / "s1" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(make_submission(ASSIGNMENT), folder / f"{ASSIGNMENT}.ipynb")
    course.grade(ROOT, ASSIGNMENT, course_dir, progress=False)
    page_path = course_dir / "feedback" / "s1" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    html = page_path.read_text(encoding="utf-8")
    assert "mathjax" not in html.lower() and "<math" in html
    with bc.serve(page_path.parent) as base:
        context = browser.new_context(viewport=bc.VIEWPORT)
        outside = []
        context.route("**/*", offline_route(base, outside))
        page = context.new_page()
        page.goto(f"{base}{page_path.name}")
        page.wait_for_timeout(500)
        drawn = page.evaluate(MATH_JS)
        raw = page.evaluate("() => document.body.innerText.includes('\\\\tanh')")
        context.close()
    assert outside == [], outside
    assert drawn >= 5 and not raw  # the intro's and the tasks' equations, none left as TeX


FEEDBACK_LAYOUT_JS = r"""() => {
  const doc = document.documentElement;
  const table = document.querySelector('table');
  const heads = table ? [...table.querySelectorAll('th')] : [];
  const rect = el => el.getBoundingClientRect();
  // the gap between a header's text and the next header's text
  const textRect = el => { const r = document.createRange(); r.selectNodeContents(el); return r.getBoundingClientRect(); };
  const gaps = heads.slice(1).map((th, i) => textRect(th).left - textRect(heads[i]).right);
  const result = heads.length ? heads[heads.length - 1] : null;
  const cells = table ? [...table.querySelectorAll('tbody tr')].map(tr => tr.lastElementChild) : [];
  return {scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth,
          headers: heads.map(th => th.textContent.trim()), gaps,
          resultWidth: result ? rect(result).width : 0,
          resultCells: cells.map(td => rect(td).width),
          tableRight: table ? rect(table).right : 0};
}"""


@pytest.fixture(scope="module")
def feedback_page(tmp_path_factory):
    """One real feedback page: a submission with a wrong rnn_cell (a long diagnosis) graded
    by `rnn-course grade`'s pipeline."""
    from conftest import make_submission

    course_dir = tmp_path_factory.mktemp("feedback") / "course"
    folder = course_dir / "submitted" / "s1" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(make_submission(ASSIGNMENT, {"rnn_cell": WRONG[ASSIGNMENT]["rnn_cell"]["b_hh-missing"]}),
                   folder / f"{ASSIGNMENT}.ipynb")
    course.grade(ROOT, ASSIGNMENT, course_dir, progress=False)
    return course_dir / "feedback" / "s1" / ASSIGNMENT / f"{ASSIGNMENT}.html"


@pytest.mark.parametrize("width", [bc.VIEWPORT["width"], bc.PHONE_WIDTH])
def test_the_feedback_page_reads_on_a_desktop_and_a_phone(browser, feedback_page, width):
    """Issue 24, item 4: at 1280 px and a phone's 390 px the page never scrolls sideways,
    the grading notes' columns have space between them ("points" and "result" never
    touch) and the result column keeps a readable width."""
    with bc.serve(feedback_page.parent) as base:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto(f"{base}{feedback_page.name}")
        page.wait_for_timeout(300)
        got = page.evaluate(FEEDBACK_LAYOUT_JS)
        page.screenshot(path=str(ROOT / "_build" / f"feedback-{width}.png"), full_page=False)
        context.close()
    assert got["headers"] == ["test", "points", "result"], got
    assert got["scrollWidth"] <= got["innerWidth"] + 1, got  # no sideways scroll
    assert min(got["gaps"]) >= 8, got  # "pointsresult" no more
    assert got["resultWidth"] >= 0.45 * min(width, 900) - 40, got  # not a sliver
    assert got["tableRight"] <= width + 1, got
