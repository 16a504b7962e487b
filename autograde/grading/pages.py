"""nbgrader's side of a grading run, in a page maker process: each result recorded, then its page.

Stock nbgrader makes the class's feedback in one `generate_feedback` call after grading,
so one notebook that is slow to render (a TeX bomb: issue 23, item 7) holds back every
page, and the class waits for all of grading before the first page exists. Here a page
maker process starts when grading starts (its imports and a warm-up page overlap the
first sandboxes); each result is handed to it as soon as it is saved: it records the
result in the gradebook (so the grader's own process need not import nbgrader to
grade: it does only to register a new or changed assignment, or to record a result
the maker did not), then makes the student's page. It renders what
`nbgrader generate_feedback` renders, with nbconvert's HTML exporter, the same
template and the same preprocessors
(`feedback.PREPROCESSORS`: grades from the gradebook, hidden tests scrubbed, the
submission made inert), one notebook at a time. The differences: the grades are read
through one gradebook kept open (getgrades.py), and the exporter's last pass over the
parsed page is skipped, its one effect on a feedback page (alt text for images) made
beforehand (`FeedbackExporter`). Parsed, a page equals stock's, styles included
(tests/test_hostile_output.py). A page that takes longer than `PAGE_SECONDS`
(or a page maker that dies) costs that student only: the maker is killed and a fresh
one makes the next page; the caller writes that student a plain page of the grading
notes and lists them.
"""
from __future__ import annotations

import os
import queue
import threading
from pathlib import Path

from .coursedir import CourseDir

PAGE_SECONDS = 30.0  # one page; the largest notebook the grader accepts renders in about 1 s
START_SECONDS = 120.0  # the page maker's imports, on a busy machine
MEMORY_BYTES = 4 << 30  # the page maker's address space: a page that needs more fails alone


def page_path(course_dir: Path, student: str, assignment: str) -> Path:
    return CourseDir(course_dir).feedback_page(student, assignment)


def exporter():
    """nbconvert's HTML exporter as `nbgrader generate_feedback` configures it, with our
    template (no script may run) and preprocessors, without the pass over the parsed page
    that nbconvert's exporter ends with (`FeedbackExporter`)."""
    import nbgrader
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
    from traitlets.config import Config
    from traitlets.utils.importstring import import_item

    from . import feedback

    class FeedbackExporter(HTMLExporter):
        """HTMLExporter (nbconvert 7.17) up to its template, then not its last step: a
        BeautifulSoup parse and re-serialisation of the whole page (half of a page's
        time), which gives every image without alt text nbconvert's alt text and marks the
        JupyterLab template's cells focusable. On a feedback page the first is done before
        the export (feedback.SanitizeFeedback: every image has alt text) and the second
        has nothing to mark (the classic template has no such cells).
        tests/test_hostile_output.py compares a page with `nbgrader generate_feedback`'s."""

        def from_notebook_node(self, nb, resources=None, **kw):
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    formgrader = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    config = Config()
    config.HTMLExporter.template_name = feedback.TEMPLATE_NAME
    config.HTMLExporter.template_file = feedback.TEMPLATE_FILE
    config.HTMLExporter.extra_template_basedirs = [str(feedback.TEMPLATE_DIR), str(formgrader / "templates")]
    config.HTMLExporter.extra_template_paths = [str(formgrader / "static" / "node_modules" / "bootstrap" /
                                                    "dist" / "css")]
    config.HTMLExporter.sanitize_html = True
    config.CSSHTMLHeaderPreprocessor.style = "default"  # Pygments' palette, as stock pages have
    html = FeedbackExporter(config=config)
    # nbgrader's GetGrades reading through the gradebook the maker keeps open (getgrades.py)
    names = ["autograde.grading.getgrades.KeptOpenGetGrades" if name == "nbgrader.preprocessors.GetGrades"
             else name for name in feedback.PREPROCESSORS]
    html.steps = [import_item(name)(config=config) for name in names]
    for step in html.steps:
        html.register_preprocessor(step, enabled=True)
    return html


def warm(html, course_dir: Path, assignment: str) -> None:
    """Make a page of the released notebook and throw it away: the template is compiled,
    and the instructor's markdown and formulas (the same on every page: cached, see
    feedback.py) rendered, before the maker says it is ready, not in the first student's
    page (what a late submission waits for). No gradebook is read: every graded cell
    shows a score of 0."""
    import nbformat
    from nbgrader.preprocessors import GetGrades

    nb = nbformat.read(CourseDir(course_dir).released(assignment), as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if isinstance(meta, dict):
            meta.setdefault("score", 0.0)
            meta.setdefault("comment", None)
    grades = [step for step in html.steps if isinstance(step, GetGrades)]
    for step in grades:
        step.enabled = False
    try:
        html.from_notebook_node(nb, resources={"nbgrader": {"notebook": assignment, "score": 0.0, "max_score": 0.0,
                                                            "late_penalty": 0.0}})
    finally:
        for step in grades:
            step.enabled = True


def make_page(html, course_dir: Path, assignment: str, student: str, db_url: str) -> Path:
    """Render one student's autograded notebook into their feedback page."""
    import nbformat

    notebook = CourseDir(course_dir).executed(student, assignment)
    nb = nbformat.read(notebook, as_version=4)
    resources = {"unique_key": assignment, "output_files_dir": f"{assignment}_files",
                 "nbgrader": {"student": student, "assignment": assignment, "notebook": assignment,
                              "db_url": db_url}}
    body, _ = html.from_notebook_node(nb, resources=resources)
    target = page_path(course_dir, student, assignment)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.write_text(body, encoding="utf-8")
    partial.chmod(0o644)
    os.replace(partial, target)
    return target


def _maker(course_dir: str, assignment: str, db_url: str) -> None:
    """The page maker's loop (`python -m autograde.grading.pages`): one JSON request per
    line in, ["page", student] or ["record", {"student", "assignment", "cells"}], and per
    request one JSON [student, null or the error] line out. Whatever else writes to its
    stdout (a library's print) goes to stderr, never into the replies."""
    import json
    import resource
    import sys
    from types import SimpleNamespace

    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    from .gradebook import kept_open, record_in_gradebook

    html = exporter()
    try:
        warm(html, Path(course_dir), assignment)
    except Exception:  # noqa: BLE001 - only a head start: the first page then does this work
        pass

    def reply(*message) -> None:
        replies.write(json.dumps(message) + "\n")
        replies.flush()

    reply("ready", None)
    for line in sys.stdin:
        kind, what = json.loads(line)
        student = what["student"] if kind == "record" else what
        try:
            if kind == "record":
                record_in_gradebook(db_url, SimpleNamespace(**what), kept_open(db_url))
            else:
                make_page(html, Path(course_dir), assignment, student, db_url)
            reply(student, None)
        except BaseException as exc:  # noqa: BLE001 - one request's failure is reported, the loop goes on
            reply(student, f"{type(exc).__name__}: {str(exc)[:300]}")
    # Every page and record is made (each page written atomically, each record committed,
    # before its reply) and every reply flushed: the interpreter's own shutdown (a quarter
    # of a second of collecting nbconvert's objects) would only keep the grader waiting.
    os._exit(0)


class Pages:
    """nbgrader's side of a grading run, in a process of its own (the page maker), which
    imports nbgrader and nbconvert so that the grader's process need not:
    `record(result)` as each result is saved: the maker records it in the gradebook, then
    makes the student's page, which reads its grades from there; `submit(student)`: a page
    alone (its result already recorded); `finish()` waits for both and returns {student:
    why their page could not be made}. A record the maker could not make (it died, hung
    or failed) is made in this process instead; one that fails here too is kept in
    `unrecorded` (the caller says so: the next run records it from result.json)."""

    def __init__(self, course_dir: Path, assignment: str, db: Path, seconds: float | None = None):
        self.course_dir, self.assignment, self.db_url = course_dir, assignment, f"sqlite:///{db}"
        self.seconds = seconds or PAGE_SECONDS
        self.failed: dict[str, str] = {}
        self.unrecorded: dict[str, str] = {}
        self.made: list[str] = []
        self.submitted: list[str] = []
        self.recorded: list[str] = []  # by the maker (the others were recorded here)
        self._todo: queue.Queue = queue.Queue()
        self._worker = None
        self._thread: threading.Thread | None = None
        self._starting = None  # the maker being started (killed by finish if nothing is asked of it)
        self._asked = False

    def warm(self) -> None:
        """Start the page maker now, so that its imports overlap the grader's own start and
        grading. If nothing is asked of it, `finish` stops it without waiting for it."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="feedback-pages", daemon=True)
            self._thread.start()

    start = warm  # as pipeline.grade_all's recorder: called before grading starts

    def record(self, result) -> None:
        """Record a saved result in the gradebook, then make its page (if its notebook ran)."""
        self.warm()
        self._asked = True
        self._todo.put(("record", result))
        if CourseDir(self.course_dir).executed(result.student, self.assignment).is_file():
            self.submit(result.student)

    def submit(self, student: str) -> None:
        self.warm()
        self._asked = True
        self.submitted.append(student)
        self._todo.put(("page", student))

    def finish(self) -> dict[str, str]:
        if self._thread is not None:
            if not self._asked and self._starting is not None:
                self._starting.kill()  # warmed for nothing: nothing to wait for
            self._todo.put(None)
            self._thread.join()
        return self.failed

    def _start(self):
        """A fresh page maker: its own Python (imports nbconvert and nbgrader once)."""
        import subprocess
        import sys

        proc = subprocess.Popen([sys.executable, "-m", "autograde.grading.pages", str(self.course_dir),
                                 self.assignment, self.db_url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, encoding="utf-8", bufsize=1,
                                cwd=str(Path(__file__).resolve().parents[2]))
        self._starting = proc
        if self._reply(proc, START_SECONDS) is None:
            self._stop(proc)
            raise RuntimeError(f"the page maker did not start within {START_SECONDS:g} s")
        return proc

    @staticmethod
    def _reply(proc, seconds: float):
        """The maker's next reply, or None if none came within `seconds` (or it died)."""
        import json
        import select

        ready, _, _ = select.select([proc.stdout], [], [], seconds)
        if not ready:
            return None
        try:
            line = proc.stdout.readline()
            return json.loads(line) if line else None
        except ValueError:  # not UTF-8, or not JSON
            return None

    @staticmethod
    def _stop(proc) -> None:
        proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def _ask(self, request: list, student: str, seconds: float) -> tuple[bool, str | None]:
        """Send the maker one request and wait for its reply: (whether the maker answered,
        its error or None if it did what was asked; if it did not answer: "died" or
        "slow"). A maker that does not answer within `seconds`, dies, or answers with
        anything but the reply asked for is stopped: a fresh one takes the next request."""
        import json

        proc = self._worker
        try:
            proc.stdin.write(json.dumps(request) + "\n")
            proc.stdin.flush()
            reply = self._reply(proc, seconds)
        except (OSError, ValueError):  # a closed pipe, or a reply that is not text
            reply = None
        if isinstance(reply, list) and len(reply) == 2 and reply[0] == student:
            return True, (None if reply[1] is None else str(reply[1]))
        died = proc.poll() is not None
        self._stop(proc)
        self._worker = None
        return False, ("died" if died else "slow")

    def _record_here(self, result, why: str) -> None:
        """The record the maker could not make (`why`), made in this process."""
        from .gradebook import record_in_gradebook

        try:
            record_in_gradebook(self.db_url, result)
        except Exception as exc:  # noqa: BLE001 - kept and reported by the caller; the run goes on
            self.unrecorded[result.student] = f"{type(exc).__name__}: {exc} (page maker: {why})"

    def _record(self, result, start_error: str | None) -> None:
        answered, why = False, start_error or "the page maker could not start"
        if self._worker is not None:
            cells = [{"grade_id": c["grade_id"], "points": c["points"]} for c in result.cells]
            answered, why = self._ask(["record", {"student": result.student, "assignment": result.assignment,
                                                  "cells": cells}], result.student, self.seconds)
        if answered and why is None:
            self.recorded.append(result.student)
        else:
            self._record_here(result, why if answered else {"died": "it died", "slow": f"no answer within "
                                                            f"{self.seconds:g} s"}.get(why, why))

    def _page(self, student: str, start_error: str | None) -> None:
        if student in self.unrecorded:  # the gradebook holds no (or an older) grade to show
            self.failed[student] = "its result could not be recorded in the gradebook"
            return
        if self._worker is None:
            self.failed[student] = start_error or "the page maker could not start"
            return
        answered, why = self._ask(["page", student], student, self.seconds)
        if answered and why is None:
            self.made.append(student)
        elif answered:
            self.failed[student] = why
        elif why == "died":
            self.failed[student] = "the page maker stopped while making this page (e.g. out of memory)"
        else:
            self.failed[student] = f"making the page took longer than {self.seconds:g} s; it was stopped"

    def _run(self) -> None:
        start_error = None
        try:
            self._worker = self._start()  # at once: its imports overlap grading
        except (RuntimeError, OSError) as exc:
            start_error = str(exc)
        while (item := self._todo.get()) is not None:
            kind, what = item
            if self._worker is None and start_error is None:
                try:
                    self._worker = self._start()
                except (RuntimeError, OSError) as exc:
                    start_error = str(exc)
            try:
                if kind == "record":
                    self._record(what, start_error)
                else:
                    self._page(what, start_error)
            except Exception as exc:  # noqa: BLE001 - a defect here costs this item only, loudly
                why = f"{type(exc).__name__}: {exc}"
                if kind == "record":
                    self._record_here(what, why)
                else:
                    self.failed[what] = why
        if self._worker is not None:
            proc, self._worker = self._worker, None
            try:
                proc.stdin.close()
                proc.wait(5)
                proc.stdout.close()
            except Exception:  # noqa: BLE001 - a maker that does not end is killed
                self._stop(proc)
        self._starting = None



# nbgrader's own feedback preprocessors, with hidden tests scrubbed and everything from the
# submission made inert before export, in a template whose Content-Security-Policy runs
# no script (autograde.grading.feedback).
def feedback_settings() -> dict:
    import nbgrader

    from . import feedback

    stock = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"
    return {"GenerateFeedback.preprocessors": list(feedback.PREPROCESSORS),
            "HTMLExporter.template_name": feedback.TEMPLATE_NAME,
            "HTMLExporter.template_file": feedback.TEMPLATE_FILE,
            "HTMLExporter.extra_template_basedirs": [str(feedback.TEMPLATE_DIR), str(stock)],
            "HTMLExporter.sanitize_html": True}


def make_feedback(assignment: str, course_dir: Path, db: Path, students: list[str] | None, results=(),
              pages=None) -> list[str]:
    """nbgrader's feedback page for every executed notebook; a plain page of the grading
    notes for a student whose submission could not be run at all or whose page could not
    be made. With `pages` (autograde.grading.pages.Pages, fed while grading ran), each
    page is made in its own bounded step and one bad student costs only that student;
    without (no `results`: the stock path the benchmark times), nbgrader's one class run.
    Returns the students whose page failed (also listed in
    feedback/<assignment>-failed.json and on stderr)."""
    import glob
    import json
    import sys
    from html import escape

    from .form import invalid_student_id
    from .gradebook import nbgrader_here

    course = CourseDir(course_dir)

    valid = [r for r in results if not invalid_student_id(r.student)]

    def page(student: str) -> Path:
        return course.feedback_page(student, assignment)

    def executed(student: str) -> bool:
        return course.executed(student, assignment).is_file()

    def fresh(student: str) -> bool:  # made after what it shows (a result reused, not regraded)
        try:
            made = page(student).stat().st_mtime_ns
            shown = [course.result(student, assignment)] + [course.executed(student, assignment)] * executed(student)
            return all(made >= p.stat().st_mtime_ns for p in shown)
        except OSError:
            return False

    pending = set(pages.submitted) if pages is not None else set()
    remake = [r for r in valid if r.student in pending or not fresh(r.student)] if valid else []
    for r in remake:  # never leave last run's page standing for this run's grade
        if r.student not in pending:
            page(r.student).unlink(missing_ok=True)
    # The student id is a glob pattern to nbgrader: a student id is matched as itself.
    only = glob.escape(students[0]) if students and len(students) == 1 else None
    failed: dict[str, str] = {}
    if pages is not None:
        for r in remake:
            if r.student not in pending and executed(r.student):
                pages.submit(r.student)
        failed = dict(pages.finish())
        for student in failed:
            page(student).unlink(missing_ok=True)
        whole = {"success": True}
    elif valid and not remake:
        whole = {"success": True}  # every page is as fresh as its result: nothing to remake
    elif valid and len(remake) < len(valid) and only is None:
        whole = {"success": False}  # a few late or changed submissions: their pages alone, below
    else:
        whole = nbgrader_here("GenerateFeedback", assignment, course_dir, db, only, feedback_settings())
    if not whole["success"]:
        settings = feedback_settings()  # nbgrader is imported only when a page is made
        for r in remake:
            if page(r.student).exists() or not executed(r.student):
                continue
            one = nbgrader_here("GenerateFeedback", assignment, course_dir, db, glob.escape(r.student), settings)
            if not one["success"] or not page(r.student).exists():
                text = (one.get("log") or "") + (one.get("error") or "")
                lines = [ln for ln in text.splitlines() if "ERROR" in ln or "Error" in ln]
                failed[r.student] = (lines[-1] if lines else "nbgrader failed").strip()[:300]
    for r in valid:
        # nbgrader copies every other file of autograded/ (our result.json) beside the page:
        # a student's feedback is the page alone.
        folder = page(r.student).parent
        for extra in folder.iterdir() if folder.is_dir() and not folder.is_symlink() else ():
            if extra.name != page(r.student).name and (extra.is_file() or extra.is_symlink()):
                extra.unlink()
        if page(r.student).exists():
            continue
        from . import feedback  # nbconvert's import: only when a plain page is written

        page(r.student).parent.mkdir(parents=True, exist_ok=True)
        items = "".join(f"<li>{escape(m)}</li>" for m in r.messages)
        if r.student in failed:
            items += "<li>The full feedback page (your notebook with its outputs) could not be made.</li>"
        page(r.student).write_text(
            f"<!DOCTYPE html><html><head><meta charset='utf-8'>{feedback.CSP_META}<title>{escape(assignment)}: "
            f"{escape(r.student)}</title></head><body><h1>{escape(assignment)}</h1>"
            f"<p>Score: {r.score:g} / {r.max_score:g}</p><ul>{items}</ul></body></html>", encoding="utf-8")
    # The record of whose nbgrader page failed, with nbgrader's reason: the students whose
    # page was remade replace their entries (a class run drops those no longer in the class).
    record = course.feedback / f"{assignment}-failed.json"
    known = {}
    if record.is_file():
        remade, present = {r.student for r in remake}, {r.student for r in valid}
        try:
            known = {k: v for k, v in json.loads(record.read_text(encoding="utf-8")).items()
                     if k not in remade and (students or k in present)}
        except (OSError, ValueError, AttributeError):
            known = {}
    known.update(failed)
    if known:
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(dict(sorted(known.items())), indent=1), encoding="utf-8")
    else:
        record.unlink(missing_ok=True)
    if failed:
        print(f"rnn-course: nbgrader could not make the feedback page of {len(failed)} student(s); they got "
              f"a plain page instead (listed in {record}): {', '.join(map(repr, sorted(failed)))}",
              file=sys.stderr)
    return sorted(failed)


if __name__ == "__main__":
    import sys as _sys

    _maker(*_sys.argv[1:4])
