"""What diagnosis costs, printed (not asserted): `make bench`.

  1. A public check as the student runs it in JupyterLab: a fresh Python imports the
     checks (first check) and runs each graded function's check with a wrong answer
     that is a known mistake, so the diagnosis runs too. Target: under 0.5 s per check.
  2. The extra grading time per submission that diagnosis adds: the same checks with
     and without the catalogue, in the kernel (public and hidden cases), and the
     trusted re-scoring of one submission's records with and without it.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

STUDENT_KERNEL = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from autograde.kernel.checks import check, CheckFailed
imported = time.perf_counter() - t0
timings = {}
for name, source in json.loads(sys.argv[1]).items():
    ns = {"np": np}
    exec(source, ns)
    t = time.perf_counter()
    try:
        check(name, ns[name])
    except CheckFailed as exc:
        assert "known mistake" in str(exc), exc
    timings[name] = time.perf_counter() - t
print(json.dumps({"import": imported, "checks": timings}))
"""


def wrong_answers() -> dict[str, str]:
    from wrong_implementations import WRONG

    from autograde import chapters

    chosen = {}
    for assignment, functions in WRONG.items():
        for fn in chapters.assignments().get(assignment, []):
            keys = {m.key for m in chapters.mistakes_for(fn.name)}
            key = next((k for k in functions.get(fn.name, {}) if k in keys), None)
            if key:
                # A self-contained cell: the solution of what it calls, then the mistake.
                from kit import notebooks

                solution = notebooks.solution_code(ROOT, assignment)
                helpers = "\n".join(src for gid, src in solution.items() if gid != fn.name)
                chosen[fn.name] = helpers + "\n" + functions[fn.name][key]
    return chosen


def kernel_figures(answers: dict[str, str]) -> None:
    out = subprocess.run([sys.executable, "-c", STUDENT_KERNEL, json.dumps(answers)], capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"}).stdout
    data = json.loads(out.strip().splitlines()[-1])
    times = data["checks"]
    print(f"public check in a fresh kernel (wrong answer, diagnosed): import {data['import']:.3f} s, then")
    for name, seconds in times.items():
        print(f"  {name:20s} {seconds * 1000:7.1f} ms")
    print(f"  mean {statistics.mean(times.values()) * 1000:.1f} ms, max {max(times.values()) * 1000:.1f} ms per check "
          f"(first check including the import: {(data['import'] + next(iter(times.values()))):.3f} s)")


def grading_figures(answers: dict[str, str]) -> None:
    import numpy as np

    from autograde import chapters
    from autograde.grading import records, references, trusted
    from kit import notebooks
    from autograde.kernel import cases, checks, record

    seeds = {name: 1000 + i for i, name in enumerate(answers)}
    known = {fn.name: len(fn.outputs) for fns in chapters.assignments().values() for fn in fns}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ[cases.HIDDEN_ENV] = str(notebooks.write_hidden_inputs(Path(tmp) / "h.npz", seeds))

        def run_all(folder):
            os.environ[record.ENV] = str(folder)
            start = time.perf_counter()
            for name, source in answers.items():
                ns = {"np": np}
                exec(source, ns)
                for hidden in (False, True):
                    try:
                        checks.check(name, ns[name], hidden=hidden)
                    except checks.CheckFailed:
                        pass
            return time.perf_counter() - start

        def rescore(folder):
            start = time.perf_counter()
            trusted.rescore(records.read(folder, known).records, seeds)
            return time.perf_counter() - start

        for name, seed in seeds.items():  # computed while the sandbox runs, not counted here
            references.trusted_hidden(name, seed)
        with_diag = min(run_all(Path(tmp) / f"with{i}") for i in range(3))
        rescore_with = rescore(Path(tmp) / "with0")
        real = checks.diagnose, trusted.diagnose
        checks.diagnose = trusted.diagnose = lambda spec, failures: None
        try:
            without = min(run_all(Path(tmp) / f"without{i}") for i in range(3))
            rescore_without = rescore(Path(tmp) / "without0")
        finally:
            checks.diagnose, trusted.diagnose = real
    print(f"one wrong submission's {2 * len(answers)} checks in the kernel: {with_diag:.3f} s with diagnosis, "
          f"{without:.3f} s without: +{with_diag - without:.3f} s")
    print(f"trusted re-scoring of its records: {rescore_with:.3f} s with diagnosis, {rescore_without:.3f} s "
          f"without: +{rescore_with - rescore_without:.3f} s")
    print(f"extra grading time per submission from diagnosis: about "
          f"{(with_diag - without) + (rescore_with - rescore_without):.3f} s")


def main() -> None:
    answers = wrong_answers()
    kernel_figures(answers)
    grading_figures(answers)


if __name__ == "__main__":
    main()
