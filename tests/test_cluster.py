"""Grading on a Dask cluster: real `dask scheduler` and `dask worker` processes on
127.0.0.1, started here, grade the same class as this machine does, with the same
grades, flags and diagnoses; a worker killed mid-task costs nothing; a worker without
bubblewrap refuses, naming itself; no task carries a seed, an answer or a solution.
"""
from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograde.grading import cluster, course, pipeline, references
from kit import leaks
from conftest import BIN, ROOT, make_submission
from kit.classes import make_class  # the class benchmarks/grading_throughput.py grades too

pytestmark = pytest.mark.slow

A = "01-rnn-basics"
FULL = 11.0


class Cluster:
    """A scheduler and workers, each a process of its own (its own session, so that a
    kill reaches only it)."""

    def __init__(self, folder: Path):
        self.folder, self.workers = folder, {}
        folder.mkdir(parents=True, exist_ok=True)
        file = folder / "scheduler.json"
        self.scheduler = self._start("scheduler", [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port",
                                                   "0", "--no-dashboard", "--scheduler-file", str(file)])
        deadline = time.time() + 60
        while time.time() < deadline and not file.exists():
            time.sleep(0.1)
        time.sleep(0.2)
        self.address = json.loads(file.read_text())["address"]

    def _start(self, name: str, cmd: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "w")
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.folder,
                                env=env)

    def add_worker(self, name: str, env: dict | None = None) -> subprocess.Popen:
        (self.folder / name).mkdir(exist_ok=True)
        proc = self._start(name, [str(BIN / "dask"), "worker", self.address, "--name", name, "--nthreads", "1",
                                  "--no-nanny", "--no-dashboard", "--local-directory", str(self.folder / name)],
                           env=env)
        self.workers[name] = proc
        self.wait_for(lambda info: name in {w["name"] for w in info["workers"].values()}, f"worker {name}")
        return proc

    def client(self):
        from distributed import Client

        return Client(self.address, timeout=30, set_as_default=False)

    def wait_for(self, condition, what: str, timeout: float = 90) -> None:
        with self.client() as c:
            deadline = time.time() + timeout
            while time.time() < deadline:
                if condition(c.scheduler_info()):
                    return
                time.sleep(0.2)
        raise AssertionError(f"{what} did not join the scheduler at {self.address}: "
                             + "".join((self.folder / f).read_text()[-2000:] for f in os.listdir(self.folder)
                                       if f.endswith(".log")))

    def stop(self) -> None:
        for proc in [*self.workers.values(), self.scheduler]:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in [*self.workers.values(), self.scheduler]:
            try:  # a worker whose scheduler went first may wait on it: not for long
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        c.add_worker("w1")
        c.add_worker("w2")
        yield c
    finally:
        c.stop()


def write_class(course_dir: Path, n: int) -> None:
    make_class(course_dir, n)
    # and one that fools its kernel, for the tampering flag
    nb = make_submission(A, {"rnn_cell": "def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):\n"
                                         "    return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T)\n"})
    nb.cells.insert(2, nbformat.v4.new_code_cell("import autograde.kernel.checks\n"
                                                 "autograde.kernel.checks.compare_outputs = lambda *a, **k: None"))
    folder = course_dir / "submitted" / "tamperer" / A
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{A}.ipynb")


def outcome(r) -> dict:
    """Everything a grade is: points, verdicts, messages, diagnoses and flags (no timings)."""
    return {"score": r.score, "max": r.max_score, "flags": r.flags, "messages": r.messages, "key": r.key,
            "sandboxed": r.sandboxed, "cells": r.cells}


def gradebook(course_dir: Path) -> list[tuple]:
    with sqlite3.connect(course_dir / "gradebook.db") as db:
        return sorted(db.execute(
            "select student.id, base_cell.name, grade.auto_score from grade "
            "join base_cell on grade.cell_id = base_cell.id "
            "join submitted_notebook on grade.notebook_id = submitted_notebook.id "
            "join submitted_assignment on submitted_notebook.assignment_id = submitted_assignment.id "
            "join student on submitted_assignment.student_id = student.id").fetchall())


def test_the_class_graded_on_the_cluster_gets_the_same_grades_flags_and_diagnoses_as_here(two_workers, tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    write_class(here, 8)
    import shutil
    shutil.copytree(here / "submitted", there / "submitted")
    local = {r.student: r for r in course.grade(ROOT, A, here, progress=False).results}
    remote = {r.student: r for r in course.grade(ROOT, A, there, progress=False,
                                                 scheduler=two_workers.address).results}
    assert sorted(remote) == sorted(local) and len(local) == 9
    for student in local:
        assert outcome(remote[student]) == outcome(local[student]), student
    # the class really shows what there is to agree on
    flags = {f for r in local.values() for f in r.flags}
    assert {"crash", "unreadable notebook", "suspected tampering"} <= flags
    assert any(c.get("diagnosis") for r in local.values() for c in r.cells)
    assert {r.score for r in local.values()} >= {0.0, FULL}
    assert gradebook(there) == gradebook(here)
    def printed(path):
        return ["".join(o.get("text", "") + o.get("ename", "") for o in c.get("outputs", []))
                for c in nbformat.read(path, 4).cells if c.cell_type == "code"]

    for student in local:  # the executed notebooks came back: the same outputs
        mine, theirs = (d / "autograded" / student / A / f"{A}.ipynb" for d in (here, there))
        assert mine.exists() == theirs.exists()
        if mine.exists():
            assert printed(mine) == printed(theirs), student


def test_a_worker_killed_mid_task_costs_nothing_each_submission_is_graded_once(two_workers, tmp_path):
    course_dir = tmp_path / "course"
    n = 6
    for i in range(n):
        folder = course_dir / "submitted" / f"s{i}" / A
        folder.mkdir(parents=True)
        nb = make_submission(A, solved=i % 2 == 0)
        nb.cells.append(nbformat.v4.new_code_cell("import time\ntime.sleep(4)"))  # a task lasts long enough
        nbformat.write(nb, folder / f"{A}.ipynb")                                # to be killed in the middle
    victim = two_workers.add_worker("victim")
    cmd = [str(BIN / "rnn-course"), "grade", A, "--course-dir", str(course_dir), "--scheduler", two_workers.address]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    held = []
    with two_workers.client() as c:
        deadline = time.time() + 120
        while time.time() < deadline and not held:
            address = next((a for a, w in c.scheduler_info()["workers"].items() if w["name"] == "victim"), None)
            held = list(c.processing().get(address, ())) if address else []
            time.sleep(0.1)
        assert held, "the victim never got a task"
        time.sleep(1.5)  # its sandbox is running the notebook
        still = list(c.processing().get(address, ()))
        os.kill(victim.pid, signal.SIGKILL)
    assert still, "the victim finished before it was killed"
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, out + err
    assert victim.wait(timeout=10) == -signal.SIGKILL
    results = {p.parts[-3]: json.loads(p.read_text()) for p in (course_dir / "autograded").glob(f"*/{A}/result.json")}
    assert sorted(results) == [f"s{i}" for i in range(n)]
    for s, r in results.items():
        assert sum(c["points"] for c in r["cells"]) == (FULL if int(s[1:]) % 2 == 0 else 0), (s, r["messages"])
        assert "grading error" not in r["flags"]
    # one line per result taken (after the 0/n line that names the stage)
    progress = [line for line in err.splitlines() if re.match(r"\[#* *\] [1-9]\d*/%d " % n, line)]
    assert len(progress) == n and progress[-1].startswith(f"[{'#' * 24}] {n}/{n}")  # each result taken once
    with sqlite3.connect(course_dir / "gradebook.db") as db:
        assert db.execute("select count(*) from submitted_assignment").fetchone() == (n,)
        assert db.execute("select count(*) from grade").fetchone() == (n * 10,)
    rows = gradebook(course_dir)
    assert len(rows) == len(set(rows)) == n * 10


def _path_without_bwrap(folder: Path) -> str:
    """A PATH with the tools grading uses on a machine, except bubblewrap."""
    folder.mkdir()
    for tool in ("prlimit", "env", "setpriv", "mount", "umount"):
        found = subprocess.run(["which", tool], capture_output=True, text=True).stdout.strip()
        if found:
            (folder / tool).symlink_to(found)
    return str(folder)


def refused_alone(c: Cluster, tmp_path: Path, worker: str, why: str) -> tuple[Path, list[str]]:
    """Grade one correct submission on a cluster whose only worker is `worker`: the run
    stops with that worker's refusal (`why`, a pattern), naming it, and grades nothing.
    Returns the course folder and the command."""
    course_dir = tmp_path / "course"
    folder = course_dir / "submitted" / "s0" / A
    folder.mkdir(parents=True)
    nbformat.write(make_submission(A), folder / f"{A}.ipynb")
    cmd = [str(BIN / "rnn-course"), "grade", A, "--course-dir", str(course_dir), "--scheduler", c.address]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert re.search(rf"worker '{worker}' at tcp://127\.0\.0\.1:\d+ \(host [^)]+\) refuses submissions: {why}",
                     proc.stderr), proc.stderr
    assert not (course_dir / "autograded" / "s0" / A / "result.json").exists()
    return course_dir, cmd


@pytest.mark.cluster
def test_a_worker_without_bubblewrap_refuses_naming_itself(tmp_path):
    c = Cluster(tmp_path / "lonely")
    try:
        env = dict(os.environ, PATH=_path_without_bwrap(tmp_path / "bin"))
        c.add_worker("no-bwrap-here", env=env)
        course_dir, cmd = refused_alone(c, tmp_path, "no-bwrap-here", r"bubblewrap \(bwrap\) is not installed there")
        proc = subprocess.run(cmd + ["--no-sandbox"], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        r = pipeline.load(course_dir, "s0", A)
        assert r.score == FULL and r.flags == ["unsandboxed"]
        # With a worker that can isolate beside it, the refusing one's tasks go there:
        # every submission is graded in a sandbox, and the refusal is still named.
        c.add_worker("can-isolate")
        mixed = tmp_path / "mixed"
        for i in range(6):
            folder = mixed / "submitted" / f"m{i}" / A
            folder.mkdir(parents=True)
            nbformat.write(make_submission(A, solved=i % 2 == 0), folder / f"{A}.ipynb")
        cmd = [str(BIN / "rnn-course"), "grade", A, "--course-dir", str(mixed), "--scheduler", c.address]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "worker 'no-bwrap-here'" in proc.stderr and "refuses submissions" in proc.stderr
        for i in range(6):
            r = pipeline.load(mixed, f"m{i}", A)
            assert (r.score, r.flags, r.sandboxed) == (FULL if i % 2 == 0 else 0.0, [], True), r.messages
    finally:
        c.stop()


def test_a_task_carries_no_seed_no_answer_and_no_solution(tmp_path):
    """What the coordinator sends (the task function and its argument, pickled as Dask
    does) holds the notebook and the hidden inputs, and nothing a student must not see."""
    from distributed.protocol import pickle as dask_pickle

    from autograde.grading import sandbox

    course_dir = tmp_path / "course"
    folder = course_dir / "submitted" / "stub" / A
    folder.mkdir(parents=True)
    nbformat.write(make_submission(A, solved=False), folder / f"{A}.ipynb")
    _, released = course._prepare_course(ROOT, A, course_dir)
    a = pipeline.Assignment(A, nbformat.read(course_dir / "source" / A / f"{A}.ipynb", 4), nbformat.read(released, 4))
    key = pipeline.submission_key(folder, a, True)
    result, prepared = pipeline.prepare(folder, "stub", key, a, True)
    task = cluster.make_task("stub", prepared, a, sandbox.Limits(), True)
    sent = dask_pickle.dumps((cluster.run_task, (task,)))
    text = sent.decode("latin-1")
    assert "hidden_seed" not in text
    import pickle
    for seed in a.hidden_checks().values():  # the instructor's seeds, as text
        assert f"={seed})" not in text
    for seed in prepared.seeds.values():  # this submission's seeds, as text or as pickled ints
        assert seed > 1 << 32 and f"{seed}" not in text and pickle.encode_long(seed) not in sent
    secrets = leaks.secret_lines(ROOT / "solutions" / A / f"{A}.ipynb")
    solution = [line for line, kind in secrets.items() if kind == "solution"]
    assert solution and not [line for line in solution if line in text]
    for module in ("autograde.chapters", "autograde.grading.references", "torch"):
        assert module.encode() not in sent
    inputs = np.load(__import__("io").BytesIO(task.hidden_inputs))
    assert inputs.files and all("/in/" in k for k in inputs.files)  # inputs, and only inputs
    for name, seed in prepared.seeds.items():
        for expected in references.trusted_hidden(name, seed):
            for out in expected:
                raw = np.ascontiguousarray(np.asarray(out, dtype=np.float64)).tobytes()
                if len(raw) >= 16:  # an answer's bytes are nowhere in the task
                    assert raw not in sent, name


def test_grading_here_imports_no_dask():
    code = ("import sys\nfrom autograde.grading import cli, course, pipeline\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.cluster
def test_a_worker_with_other_checks_than_the_coordinator_refuses_naming_itself(tmp_path):
    """A worker whose course package stages other checks or another runner could grade
    the same notebook differently: it refuses, and says why."""
    import shutil

    other = tmp_path / "other-checkout"
    shutil.copytree(ROOT / "autograde", other / "autograde", ignore=shutil.ignore_patterns("__pycache__"))
    with open(other / "autograde" / "kernel" / "compare.py", "a") as f:
        f.write("\n# an older or edited copy of the checks\n")
    c = Cluster(tmp_path / "versions")
    try:
        c.add_worker("other-version", env=dict(os.environ, PYTHONPATH=str(other)))
        refused_alone(c, tmp_path, "other-version", r"its course package differs from the coordinator's")
    finally:
        c.stop()
