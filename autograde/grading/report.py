"""Write the class report of one assignment: HTML with figures, and the numbers as JSON and CSV.

    COURSE/reports/<assignment>/index.html   score distribution per question, the most
                                             frequent diagnosed mistakes, flagged
                                             submissions, grading time per submission
    COURSE/reports/<assignment>/report.json  every number on the page
    COURSE/reports/<assignment>/report.csv   one row per student

It is made from the saved results (autograded/<student>/<assignment>/result.json),
which are what the gradebook was given.
"""
from __future__ import annotations

import csv
import json
import statistics
import textwrap
from collections import Counter
from html import escape
from pathlib import Path

from .. import chapters
from . import figures as figures_module
from .coursedir import CourseDir
from .tables import csv_number, csv_text
from .score import function_of

# The report runs no script and loads only its own figures.
REPORT_CSP = ("default-src 'none'; script-src 'none'; object-src 'none'; style-src 'unsafe-inline'; "
              "img-src 'self'; base-uri 'none'; form-action 'none'")


def summarise(results: list, assignment: str) -> dict:
    questions: dict[str, dict] = {}
    for r in results:
        per_fn: dict[str, list[float]] = {}
        for c in r.cells:
            got, most = per_fn.setdefault(function_of(c["grade_id"]), [0.0, 0.0])
            per_fn[function_of(c["grade_id"])] = [got + c["points"], most + c["max_points"]]
        for fn, (got, most) in per_fn.items():
            q = questions.setdefault(fn, {"max_points": most, "scores": []})
            q["scores"].append(got)
    for q in questions.values():
        q["mean"] = statistics.mean(q["scores"]) if q["scores"] else 0.0
        q["distribution"] = {f"{k:g}": v for k, v in sorted(Counter(q["scores"]).items())}
        del q["scores"]
    seen = Counter()
    for r in results:
        for fn, key in {(function_of(c["grade_id"]), c["diagnosis"]) for c in r.cells if c.get("diagnosis")}:
            seen[(fn, key)] += 1
    diagnosed = [{"function": fn, "key": key, "title": chapters.known_mistake(fn, key).title, "students": n}
                 for (fn, key), n in seen.most_common()]
    times = {r.student: r.seconds.get("wall") for r in results if r.seconds}
    wall = [t for t in times.values() if t is not None]
    return {
        "assignment": assignment,
        "submissions": len(results),
        "max_score": max((r.max_score for r in results), default=0.0),
        "mean_score": statistics.mean([r.score for r in results]) if results else 0.0,
        "scores": {r.student: r.score for r in results},
        "questions": questions,
        "mistakes": diagnosed,
        "flagged": [{"student": r.student, "flags": r.flags, "messages": r.messages} for r in results if r.flags],
        "seconds": {"per_student": times, "mean": statistics.mean(wall) if wall else None,
                    "median": statistics.median(wall) if wall else None, "max": max(wall) if wall else None},
    }


def figure_list(summary: dict) -> list[tuple[str, str, str]]:
    """(file, caption, alt text) of each figure the summary has data for."""
    made = []
    if summary["questions"]:
        made.append(("scores.png", "Score distribution per question",
                     "Bar charts, one per graded function, of how many students earned each number of points."))
    if summary["mistakes"]:
        made.append(("mistakes.png", "The most frequent diagnosed mistakes",
                     "Horizontal bars: for each known mistake, how many students made it."))
    if [t for t in summary["seconds"]["per_student"].values() if t is not None]:
        made.append(("time.png", "Grading time per submission",
                     "A histogram of the wall time each submission took to grade."))
    return made


def write(results: list, assignment: str, course_dir: Path) -> Path:
    """The report, figures drawn in this process."""
    return start(results, assignment, course_dir, background=False)()


class Drawer:
    """The process that draws the report's figures (`python -m autograde.grading.figures
    --wait`), started before the report is known, so that its import of matplotlib (most
    of its time) overlaps grading: `warm()` at the start of a run, `draw(folder, names)`
    once, or `stop()` if there is nothing to draw."""

    def __init__(self):
        self.proc = None
        self.drawing = None  # the process told to draw (collected by `start`'s returned function)

    @staticmethod
    def _figures(*args: str, stdin):
        """`python -m autograde.grading.figures ARGS`, its errors kept for the report."""
        import subprocess
        import sys

        return subprocess.Popen([sys.executable, "-m", "autograde.grading.figures", *args], stdin=stdin,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                cwd=str(Path(__file__).resolve().parents[2]))

    def warm(self) -> None:
        import subprocess

        if self.proc is None:
            self.proc = self._figures("--wait", stdin=subprocess.PIPE)

    def draw(self, folder: Path, names: list[str]):
        """The drawing process, told to draw `names` into `folder` (a fresh one if the warm one is gone)."""
        import subprocess

        self.warm()
        proc, self.proc = self.proc, None
        try:
            proc.stdin.write(json.dumps([str(folder), names]).encode() + b"\n")
            proc.stdin.close()
        except OSError:  # it died starting: the figures are drawn by a process started now
            self._end(proc)
            proc = self._figures(str(folder), *names, stdin=subprocess.DEVNULL)
        self.drawing = proc
        return proc

    @staticmethod
    def _end(proc) -> None:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stderr):
            if stream is not None:
                stream.close()

    def stop(self) -> None:
        """Stop the drawer if it was never told to draw, and any drawing nobody collected
        (a run that failed before its report was finished)."""
        for proc in (self.proc, self.drawing):
            if proc is not None:
                self._end(proc)
        self.proc = self.drawing = None


def start(results: list, assignment: str, course_dir: Path, background: bool = True, drawer: Drawer | None = None):
    """Write the report's numbers and page now; its figures are drawn by a process of
    their own (matplotlib's import and drawing cost seconds; `drawer`, if given, was
    started earlier), while the caller goes on with feedback. Returns a function that
    waits for the figures and returns the page; if they could not be drawn, the page is
    written again without them, saying so."""
    import sys

    folder = CourseDir(course_dir).report(assignment)
    folder.mkdir(parents=True, exist_ok=True)
    summary = summarise(results, assignment)
    (folder / "report.json").write_text(json.dumps(summary, indent=1))
    with open(folder / "report.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student_id", "score", "max_score", "flags", "seconds", "diagnosed_mistakes"])
        for r in results:
            diag = sorted({f"{function_of(c['grade_id'])}:{c['diagnosis']}" for c in r.cells if c.get("diagnosis")})
            wall = r.seconds.get("wall") if r.seconds else None
            w.writerow([csv_text(r.student), csv_number(r.score), csv_number(r.max_score), csv_text("; ".join(r.flags)),
                        repr(float(wall)) if isinstance(wall, (int, float)) else "", csv_text("; ".join(diag))])
    figures = figure_list(summary)
    # Each figure shows part of the summary only: a figure standing here that was drawn
    # from the same part (by the same code) is this run's figure too; the others are drawn.
    stamp, keys = folder / ".figures-drawn-from", figures_module.drawn_from(summary)
    try:
        drawn = json.loads(stamp.read_text()) if stamp.is_file() else {}
    except (OSError, ValueError):
        drawn = {}
    drawn = drawn if isinstance(drawn, dict) else {}
    stale = [name for name, _, _ in figures if drawn.get(name) != keys[name] or not (folder / name).is_file()]
    if not stale:
        if drawer is not None:
            drawer.stop()
        page = _page(summary, assignment, folder, figures)
        return lambda: page
    kept = {name: keys[name] for name, _, _ in figures if name not in stale}
    stamp.write_text(json.dumps(kept))
    for name in stale:
        (folder / name).unlink(missing_ok=True)  # never last run's figure beside this run's numbers
    done = {name: keys[name] for name, _, _ in figures}
    if background:
        drawing = (drawer or Drawer()).draw(folder, stale)
    else:
        if drawer is not None:
            drawer.stop()
        drawing = None
        figures_module.draw(summary, folder, stale)
        stamp.write_text(json.dumps(done))
    page = _page(summary, assignment, folder, figures)

    def finished() -> Path:
        if drawing is not None:
            err = drawing.stderr.read()
            drawing.stderr.close()
            drawing.wait()
            if drawing.returncode != 0 or not all((folder / name).is_file() for name, _, _ in figures):
                print(f"rnn-course: the class report's figures could not be drawn: "
                      f"{err.decode(errors='replace')[-500:]}", file=sys.stderr)
                _page(summary, assignment, folder, [])
            else:
                stamp.write_text(json.dumps(done))
        return page

    return finished


def whole_messages(messages: list[str], limit: int = 400) -> str:
    """As many whole messages as fit in about `limit` characters, then how many more
    there are: never a message cut mid-word (a longer first one ends at a word, with …)."""
    shown: list[str] = []
    used = 0
    for m in messages:
        if shown and used + len(m) > limit:
            break
        shown.append(m if len(m) <= limit else textwrap.shorten(m, limit, placeholder=" …"))
        used += len(m) + 3
    rest = len(messages) - len(shown)
    return " | ".join(shown) + (f" | and {rest} more (see the student's feedback)" if rest else "")


def _page(summary: dict, assignment: str, folder: Path, figures: list) -> Path:
    rows = "".join(f"<tr><td>{escape(fn)}</td><td>{q['max_points']:g}</td><td>{q['mean']:.2f}</td>"
                   f"<td>{escape(', '.join(f'{k} pts: {v}' for k, v in q['distribution'].items()))}</td></tr>"
                   for fn, q in summary["questions"].items())
    mistakes_rows = "".join(f"<tr><td>{escape(m['function'])}</td><td>{escape(m['title'])}</td>"
                            f"<td>{m['students']}</td></tr>" for m in summary["mistakes"]) or \
        "<tr><td colspan=3>none diagnosed</td></tr>"
    flagged_rows = "".join(f"<tr><td>{escape(f['student'])}</td><td>{escape(', '.join(f['flags']))}</td>"
                           f"<td>{escape(whole_messages(f['messages']))}</td></tr>" for f in summary["flagged"]) or \
        "<tr><td colspan=3>none</td></tr>"
    figs = "".join(f"<figure><img src='{name}' alt='{escape(alt)}'><figcaption>{escape(caption)}</figcaption></figure>"
                   for name, caption, alt in figures)
    s = summary["seconds"]
    timing = (f"mean {s['mean']:.2f} s, median {s['median']:.2f} s, max {s['max']:.2f} s per submission"
              if s["mean"] is not None else "no submission ran")
    (folder / "index.html").write_text(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{REPORT_CSP}"><title>Class report: {escape(assignment)}</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse;margin:1rem 0}}td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}
img{{max-width:100%}}figcaption{{font-size:.9rem;color:#444}}</style></head><body>
<h1>Class report: {escape(assignment)}</h1>
<p>{summary['submissions']} submissions; mean score {summary['mean_score']:.2f} of {summary['max_score']:g};
grading time {timing}.</p>
{figs}
<h2>Questions</h2><table><tr><th>function</th><th>points</th><th>mean</th><th>distribution</th></tr>{rows}</table>
<h2>Diagnosed mistakes</h2><table><tr><th>function</th><th>mistake</th><th>students</th></tr>{mistakes_rows}</table>
<h2>Flagged submissions</h2><table><tr><th>student</th><th>flags</th><th>messages</th></tr>{flagged_rows}</table>
<p>The same numbers: <a href="report.json">report.json</a>, <a href="report.csv">report.csv</a>.</p>
</body></html>
""", encoding="utf-8")
    return folder / "index.html"

