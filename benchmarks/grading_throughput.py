"""Grading throughput, ours against stock nbgrader, side by side in one run: `make bench`.

The same generated class (default 40 submissions: correct, wrong, unanswered, and
broken ones: a crashing kernel, a corrupted file) is graded:
  stock     `nbgrader autograde` (serial, no isolation), then feedback;
  ours      `rnn-course grade`'s pipeline on this machine (bubblewrap, parallel), each
            student's feedback page made while the class is graded;
  cluster   the same through a local Dask cluster (`dask scheduler` and 1, then 2
            `dask worker` processes of one thread each on 127.0.0.1).
Printed: wall time and submissions per minute of each, ours against stock (the
grading step alone, and with feedback); our per-submission overhead (sandbox, runner
and kernel start: wall minus the notebook's own cell time) beside the cell time; the
fixed cost of a run (`rnn-course grade --student LATE` for one late submission, minus
that submission's own sandbox time, and a run with nothing new to grade); the
cluster's overhead per submission; and the coordinator's own cost per submission
(form checks, hidden inputs, trusted re-comparison with the references computed,
result saved) and its page maker's (gradebook record, feedback page), each of which
bounds how many submissions per second one coordinator can feed, however many workers.
Targets on 2 cores (issue 23, item 16): with feedback >= 12x stock, overhead <= 0.25 s
per submission, fixed cost <= 2 s for one late submission.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from autograde.grading import course, gradebook, pipeline  # noqa: E402
from autograde.grading.cluster import Cluster  # noqa: E402
from autograde.grading.execute import Given, Isolation, Slot, run_sandboxed  # noqa: E402
from autograde.grading.pages import Pages, make_feedback  # noqa: E402
from kit import notebooks  # noqa: E402  (the tests' kit: solved and wrong student notebooks)
from kit.classes import make_class  # noqa: E402  (the class tests/test_cluster.py grades too)

A = "01-rnn-basics"


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def assignment_of(course_dir: Path):
    db, released = course._prepare_course(ROOT, A, course_dir)
    return db, pipeline.Assignment(A, nbformat.read(course_dir / "source" / A / f"{A}.ipynb", 4),
                                   nbformat.read(released, 4))


class LocalCluster:
    """`dask scheduler` and `dask worker` processes on 127.0.0.1, each in its own session."""

    def __init__(self, folder: Path):
        self.folder, self.procs = folder, []
        folder.mkdir(parents=True)
        file = folder / "scheduler.json"
        self._start([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(file)])
        while not file.exists():
            time.sleep(0.1)
        time.sleep(0.2)
        self.address = json.loads(file.read_text())["address"]

    def _start(self, cmd):
        log = open(self.folder / f"{len(self.procs)}.log", "w")
        self.procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True, cwd=self.folder))

    def add_worker(self, name: str) -> None:
        self._start([str(BIN / "dask"), "worker", self.address, "--name", name, "--nthreads", "1", "--no-nanny",
                     "--no-dashboard", "--local-directory", str(self.folder / name)])

    def wait(self, n: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=60, set_as_default=False) as c:
            c.wait_for_workers(n, timeout=120)
            c.run(lambda: __import__("autograde.grading.cluster"))  # warm each worker's imports

    def stop(self) -> None:
        for proc in self.procs[::-1]:  # workers first, then the scheduler
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def coordinator_cost(course_dir: Path) -> tuple[float, dict, float]:
    """The coordinator's own seconds per submission, one submission at a time: form checks,
    the hidden inputs, then (the sandbox run itself not counted) the references computed
    afresh, the trusted re-comparison and the result saved; and the page maker's seconds
    per submission (its gradebook record and feedback page, as `rnn-course grade`'s page
    maker makes them: one gradebook kept open, the exporter warmed)."""
    from autograde.grading import cluster, references, sandbox
    from autograde.grading.pages import exporter, make_page, warm

    db, a = assignment_of(course_dir)
    limits = sandbox.Limits()
    references.trusted_hidden(*next(iter(a.seeds_for("warm-up").items())))  # torch imported once, not counted
    parts = {"form + hidden inputs": 0.0, "references + re-comparison": 0.0, "result saved": 0.0}
    students = sorted(p.name for p in (course_dir / "submitted").iterdir())
    with sandbox.Scratch() as scratch, sandbox.UidClaim(1) as (uid,):
        site = sandbox.stage_site(scratch / "site")
        for student in students:
            folder = course_dir / "submitted" / student / A
            t0 = time.perf_counter()
            key = pipeline.submission_key(folder, a, True)
            result, prepared = pipeline.prepare(folder, student, key, a, True)
            task = cluster.make_task(student, prepared, a, limits, True) if prepared else None
            t1 = time.perf_counter()
            executed = None
            if prepared:
                ran = run_sandboxed(prepared.notebook, Slot(scratch / f"w-{student}", uid, site),
                                    Isolation(limits, True), Given(task.hidden_inputs, dict(task.functions)))
                sandbox.release_mounts(scratch / f"w-{student}")
                shutil.rmtree(scratch / f"w-{student}", ignore_errors=True)
                references.trusted_hidden.cache_clear()
                references.hidden_mistakes.cache_clear()
                t2 = time.perf_counter()
                result, executed = pipeline.finish(result, prepared, ran, a, limits)
            else:
                t2 = time.perf_counter()
            t3 = time.perf_counter()
            pipeline.save(result, executed, course_dir)
            t4 = time.perf_counter()
            parts["form + hidden inputs"] += t1 - t0
            parts["references + re-comparison"] += t3 - t2
            parts["result saved"] += t4 - t3
    url, html = f"sqlite:///{db}", exporter()
    warm(html, course_dir, A)
    t0 = time.perf_counter()
    for student in students:
        gradebook.record_in_gradebook(url, pipeline.load(course_dir, student, A), gradebook.kept_open(url))
        if (course_dir / "autograded" / student / A / f"{A}.ipynb").is_file():
            make_page(html, course_dir, A, student, url)
    maker = (time.perf_counter() - t0) / len(students)
    n = len(students)
    return sum(parts.values()) / n, {k: v / n for k, v in parts.items()}, maker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--skip-stock", action="store_true", help="no stock nbgrader run (no ratio)")
    parser.add_argument("--skip-cluster", action="store_true", help="no Dask cluster runs")
    args = parser.parse_args()
    n = args.submissions
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="rnn-throughput-") as tmp:
        tmp = Path(tmp)
        make_class(tmp / "class", n)

        def copy_of(name: str) -> Path:
            shutil.copytree(tmp / "class" / "submitted", tmp / name / "submitted")
            return tmp / name

        if not args.skip_stock:  # stock nbgrader: the same steps, its grading step timed alone too
            stock_dir = copy_of("stock")
            db, _ = course._prepare_course(ROOT, A, stock_dir)
            _, stock_grade = timed(gradebook.nbgrader, "autograde", A, "--create", "--force", root=stock_dir, db=db,
                                   check=False)
            _, stock_rest = timed(make_feedback, A, stock_dir, db, None)
            stock_total = stock_grade + stock_rest

        ours_dir = copy_of("ours")
        db, a = assignment_of(ours_dir)
        # as `rnn-course grade` does: each result is recorded in the gradebook and its page
        # made by the page maker while the class is graded (autograde.grading.pages); the
        # grading step's time includes the part of that work done by then
        pages = Pages(ours_dir, A, db)
        results, ours_grade = timed(pipeline.grade_all, ours_dir, a, pipeline.LocalPool(args.jobs),
                                    progress=False, recorder=pages)
        _, ours_rest = timed(make_feedback, A, ours_dir, db, None, results, pages)
        ours_total = ours_grade + ours_rest
        assert not pages.failed and not pages.unrecorded and len(pages.made) == len(pages.submitted), pages.failed

        # Fixed cost: the whole command for one late submission, minus its own sandbox time;
        # then the same command with nothing new to grade.
        # Three late submissions, one run each (the median is printed: one run is noisy).
        cli = [str(BIN / "rnn-course"), "grade", A, "--course-dir", str(ours_dir)]
        lates = []
        for i in range(3):
            late = ours_dir / "submitted" / f"late{i}" / A
            late.mkdir(parents=True)
            nbformat.write(notebooks.student_notebook(ROOT, A), late / f"{A}.ipynb")
            _, seconds = timed(subprocess.run, cli + ["--student", f"late{i}"], cwd=ROOT, check=True,
                               capture_output=True)
            lates.append((seconds - pipeline.load(ours_dir, f"late{i}", A).seconds["wall"], seconds))
        _, nothing_new = timed(subprocess.run, cli, cwd=ROOT, check=True, capture_output=True)

        clusters = {}
        if not args.skip_cluster:
            for workers in (1, 2):
                c = LocalCluster(tmp / f"dask-{workers}")
                try:
                    for i in range(workers):
                        c.add_worker(f"w{i}")
                    c.wait(workers)
                    there = copy_of(f"cluster-{workers}")
                    db2, a2 = assignment_of(there)
                    got, seconds = timed(pipeline.grade_all, there, a2, Cluster(c.address), progress=False)
                    same = [(r.student, r.score, r.flags) for r in got] == \
                        [(r.student, r.score, r.flags) for r in results]
                    clusters[workers] = seconds, same
                finally:
                    c.stop()
        small = tmp / "coordinator"
        make_class(small, 8)
        cost, parts, maker = coordinator_cost(small)

    ran = [r for r in results if r.seconds]
    overhead = [r.seconds["wall"] - r.seconds["cells"] for r in ran]
    cells = [r.seconds["cells"] for r in ran]
    kernel = [r.seconds["kernel_start"] for r in ran]
    jobs = args.jobs or os.cpu_count()
    print(f"{n} submissions (correct, wrong, unanswered, crashing, corrupted), {os.cpu_count()} cores, "
          f"load average {load:.1f} at the start (other work on the machine slows every figure)")
    if not args.skip_stock:
        print(f"  grading step   stock nbgrader autograde {stock_grade:6.1f} s = {60 * n / stock_grade:5.1f}/min   "
              f"ours (isolated, parallel) {ours_grade:6.1f} s = {60 * n / ours_grade:5.1f}/min   "
              f"ratio {stock_grade / ours_grade:.2f}x")
        print(f"  with feedback  stock {stock_total:6.1f} s = {60 * n / stock_total:5.1f}/min   "
              f"ours {ours_total:6.1f} s = {60 * n / ours_total:5.1f}/min   ratio {stock_total / ours_total:.2f}x")
    else:
        print(f"  grading step   ours {ours_grade:6.1f} s = {60 * n / ours_grade:5.1f}/min; "
              f"with feedback {ours_total:6.1f} s = {60 * n / ours_total:5.1f}/min")
    print(f"  ours per submission: overhead (sandbox + runner + kernel start) mean {statistics.mean(overhead):.2f} s, "
          f"max {max(overhead):.2f} s; of it kernel start {statistics.mean(kernel):.2f} s; "
          f"notebook cells {statistics.mean(cells):.2f} s")
    fixed, whole = statistics.median(f for f, _ in lates), statistics.median(w for _, w in lates)
    print(f"  fixed cost per run: one late submission {whole:.1f} s end to end, minus its own sandbox: "
          f"{fixed:.1f} s fixed (median of {len(lates)}: " + ", ".join(f"{f:.1f}" for f, _ in lates)
          + f" s); a run with nothing new to grade {nothing_new:.1f} s")
    for workers, (seconds, same) in clusters.items():
        extra = (seconds - ours_grade * jobs / workers) * workers / n if workers <= jobs else float("nan")
        print(f"  Dask cluster, {workers} worker(s) x 1 thread: {seconds:6.1f} s = {60 * n / seconds:5.1f}/min "
              f"(here with {jobs} jobs: {60 * n / ours_grade:5.1f}/min); cluster overhead per submission "
              f"{extra:+.2f} s of a worker's time; same grades and flags as here: {same}")
    print(f"  coordinator's own cost per submission {cost:.3f} s ("
          + ", ".join(f"{k} {v:.3f} s" for k, v in parts.items())
          + f"): one coordinator feeds at most {1 / cost:.1f} submissions/s "
          f"({60 / cost:.0f}/min), however many workers; its page maker's cost per submission (gradebook "
          f"record and feedback page) {maker:.3f} s: at most {1 / maker:.1f} submissions/s")
    flagged = sum(1 for r in results if r.flags)
    print(f"  ours: {sum(r.score for r in results):g} points in all, {flagged} submissions flagged")


if __name__ == "__main__":
    main()
