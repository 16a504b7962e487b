"""`rnn-course`: the instructor's command line.

    rnn-course notebooks              solutions/*/*.md -> the .ipynb nbgrader reads
    rnn-course release [NAME ...]     nbgrader's student version -> exercises/, and the book's
                                      common-mistakes page from the catalogue of known mistakes
    rnn-course references [--check]   public cases and their PyTorch outputs -> autograde/kernel/data/
    rnn-course wheel [--out DIR]      the student's wheel (autograde.kernel alone) -> DIR
                                      (default _build/html/_static, where the book links to it)
    rnn-course collect NAME EXPORT.zip --course-dir DIR
                                      an LMS zip -> submitted/<student>/NAME/ (nbgrader zip_collect)
    rnn-course grade NAME --course-dir DIR [--student ID] [--jobs N] [--no-sandbox]
                     [--scheduler tcp://HOST:PORT] [--lms generic|canvas|moodle]
                                      submitted/<student>/NAME/ -> gradebook, grades.csv, feedback/
                                      (each submission isolated with bubblewrap, graded in parallel
                                      on this machine's cores, or on a Dask cluster's workers)

Grading on a Dask cluster: start a scheduler on one machine and a worker on each grading
machine, then pass the scheduler's address to `grade --scheduler`:

    dask scheduler --host HOST --port 8786
    dask worker tcp://HOST:8786 --nthreads CORES --name NAME

Each worker machine needs bubblewrap, Python 3.11, this course's package (`pip install -e .`
of the same checkout and `make setup`'s sandbox environment .venv/sandbox, or
RNN_COURSE_SANDBOX_PYTHON) and the same dask and distributed (requirements.txt). Workers get
each notebook's bytes and the hidden cases' inputs, never a seed, answer or solution; the
trusted comparison and the gradebook stay in the `grade` process. No shared file system.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import authoring, course, lms
from .coursedir import CourseDir
from .errors import CourseError


def _references(check: bool) -> int:
    from .. import chapters
    from . import references

    status = 0
    for assignment in chapters.assignments():
        if not check:
            print(f"wrote {references.write_public(assignment)}")
            continue
        problems = references.compare_public(assignment)
        print(f"{assignment}: {'agrees with' if not problems else 'DIFFERS from'} PyTorch")
        for p in problems[:20]:
            print(f"  {p}")
        status |= bool(problems)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rnn-course", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"rnn-course {__version__}")
    parser.add_argument("--root", type=Path, default=None,
                        help="the course checkout (default: found from the current folder)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("notebooks", help="make solutions/*/*.ipynb from their jupytext sources")
    p = sub.add_parser("release", help="make the student notebooks in exercises/")
    p.add_argument("assignments", nargs="*")
    p.add_argument("--out", type=Path, default=None, help="folder for the released notebooks")
    p.add_argument("--book-url", default=None,
                   help="the book's address the notebooks link to (default: html.baseurl in _config.yml)")
    p = sub.add_parser("references", help="recompute the public cases with PyTorch")
    p.add_argument("--check", action="store_true", help="only check that the shipped ones agree")
    p = sub.add_parser("wheel", help="build the student's wheel of the checks")
    p.add_argument("--out", type=Path, default=None, help="folder for the wheel (default _build/html/_static)")
    p = sub.add_parser("collect", help="unpack an LMS zip of submissions into submitted/")
    p.add_argument("assignment")
    p.add_argument("archive", type=Path, help="the LMS export (.zip)")
    p.add_argument("--course-dir", type=Path, required=True)
    p.add_argument("--pattern", default=None,
                   help="regular expression with (?P<student_id>...) and (?P<file_id>...) matched against each "
                        "file's path (default: <student_id>_<anything>_<notebook>.ipynb)")
    cluster_help = __doc__[__doc__.index("Grading on a Dask cluster"):]
    p = sub.add_parser("grade", help="autograde submissions with nbgrader", epilog=cluster_help,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("assignment")
    p.add_argument("--course-dir", type=Path, required=True,
                   help="nbgrader course folder holding submitted/<student>/<assignment>/")
    p.add_argument("--student", default=None, help="grade only this student")
    p.add_argument("--jobs", type=int, default=None, help="submissions graded at once (default: all cores)")
    p.add_argument("--no-sandbox", action="store_true",
                   help="grade without bubblewrap isolation (every result is marked unsandboxed)")
    p.add_argument("--cell-timeout", type=int, default=None, help="seconds a cell may run (default 60)")
    p.add_argument("--lms", choices=lms.LMS_FORMATS, default="generic",
                   help="the LMS CSV's columns: generic (student_id, score, points_possible, in "
                        "grades-lms-NAME.csv), or the gradebook import of canvas or moodle "
                        "(grades-canvas-NAME.csv, grades-moodle-NAME.csv)")
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="run the sandboxes on this Dask cluster's workers (`dask scheduler`, then "
                        "`dask worker tcp://HOST:PORT` on each machine; see below); --jobs is "
                        "then the workers' --nthreads")
    args = parser.parse_args(argv)

    if argv is None:
        # The command line: at exit, the interpreter's last garbage collections would walk
        # every object of PyTorch, nbgrader and SQLAlchemy (half a second) only to free
        # memory that the process gives back anyway. Frozen objects are skipped by them;
        # nothing else changes (every file is closed and every commit made by then, and
        # every other exit handler still runs).
        # And while it runs: importing PyTorch, nbgrader and nbconvert allocates millions
        # of objects that live to the end, and the default thresholds (700 allocations)
        # walk them again and again; collecting young objects every 50,000 allocations
        # instead cut the fixed cost of a one-submission run by 0.3 s of about 3 s
        # (benchmarks/grading_throughput.py; eight alternating runs). Garbage is still
        # collected, only in larger batches.
        import atexit
        import gc

        gc.set_threshold(50_000, 20, 100)
        atexit.register(gc.freeze)
    try:
        if args.command == "references":
            return _references(args.check)
        if args.command == "collect":
            got = lms.collect_zip(args.assignment, args.archive, args.course_dir,
                                     args.pattern or lms.ZIP_PATTERN)
            print(f"collected {len(got.students)} students into {CourseDir(args.course_dir).submitted()}")
            for name in got.unmatched:
                print(f"  skipped (no student id in the name): {name}")
            for name, why in got.refused:
                print(f"  refused {name!r}: {why}")
            for group in got.lookalikes:
                print(f"  warning: the student ids {', '.join(map(repr, group))} look alike (case, accents "
                      f"or letters of another script); they were collected as {len(group)} students: check")
            return 0
        root = authoring.find_root(args.root)
        if args.command == "notebooks":
            for src in authoring.assignment_sources(root).values():
                print(f"wrote {authoring.make_notebook(src).relative_to(root)}")
        elif args.command == "wheel":
            from . import wheel

            print(f"wrote {wheel.build(args.out or root / '_build' / 'html' / '_static')}")
        elif args.command == "release":
            for path in authoring.release(root, args.assignments or None, args.out, url=args.book_url):
                print(f"released {path}")
            if not args.out:
                print(f"wrote {authoring.write_mistakes_page(root).relative_to(root)}")
        elif args.command == "grade":
            from . import sandbox

            limits = sandbox.Limits(cell_timeout=args.cell_timeout) if args.cell_timeout else None
            result = course.grade(root, args.assignment, args.course_dir, args.student, jobs=args.jobs,
                                  sandboxed=not args.no_sandbox, limits=limits, scheduler=args.scheduler, lms=args.lms)
            flagged = [r for r in result.results if r.flags]
            n = len(result.results)
            print(f"graded {n} submission{'s' if n != 1 else ''} of {args.assignment}; {len(flagged)} flagged")
            for r in flagged:
                print(f"  {r.student}: {', '.join(r.flags)}")
            print(f"gradebook: {result.gradebook}\ngrades:    {result.grades_csv}\n"
                  f"LMS CSV:   {result.grades_csv.parent / lms.lms_csv_name(args.assignment, args.lms)}\n"
                  f"feedback:  {result.feedback_dir}\n"
                  f"report:    {result.grades_csv.parent / 'reports' / args.assignment / 'index.html'}")
    except CourseError as exc:
        print(f"rnn-course: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
