"""The instructor's round trip through real nbgrader: submissions in, gradebook,
grades CSV and feedback HTML out; right answers score, wrong ones lose points."""
import csv
import re
import html
import json

import nbformat
import pytest

import numpy as np

from autograde import chapters
from autograde.kernel import cases
from autograde.grading.score import function_of
from kit import leaks, notebooks
from conftest import ASSIGNMENTS, ROOT, grade_class, make_submission, solution_path
from wrong_implementations import DEPENDS, cases as wrong_cases

pytestmark = pytest.mark.slow

WRONG = wrong_cases()


def _student(i):
    return f"wrong{i:02d}"


class _GradedCourses(dict):
    """One course folder per assignment: the solution, the untouched release, and one
    submission per wrong implementation, graded by one `rnn-course grade` call, made the
    first time a test asks for that assignment (so `-k 07-capstone` grades only it)."""

    def __init__(self, factory):
        super().__init__()
        self.factory = factory

    def __missing__(self, assignment):
        course_dir = self.factory.mktemp(assignment)
        subs = {"solution": make_submission(assignment), "stub": make_submission(assignment, solved=False)}
        for i, (a, fn, _, source) in enumerate(WRONG):
            if a == assignment:
                subs[_student(i)] = make_submission(assignment, {fn: source})
        for student, replace in HONEST.get(assignment, {}).items():
            subs[student] = make_submission(assignment, replace)
        scores = grade_class(course_dir, assignment, subs)
        self[assignment] = course_dir, scores
        return self[assignment]


def _in_place_steps():
    """Chapter 6's solution with every step updating theta in place (`theta -= ...`), as
    torch.optim does: right, and it must score as right (issue 23, item 3)."""
    code = notebooks.solution_code(ROOT, "06-optimizers")
    steps = {gid: re.sub(r"(?m)^(\s*)return theta - (.*), (state|\{.*\})$", r"\1theta -= \2\n\1return theta, \3", src)
             for gid, src in code.items() if gid.endswith("_step")}
    assert steps and all("theta -= " in src for src in steps.values()), steps
    return steps


# Chapter 8's sampler and chunker written with loops: a running sum instead of np.cumsum
# (other roundings: the hidden draws keep 1e-9 away from every cumulative value), a
# top-k by argsort, chunks filled index by index; the cross-entropy row by row.
LOOPS_08 = {
    "sample_next": '''
def sample_next(logits, temperature, top_k, u):
    z = np.array(logits, dtype=np.float64) / temperature
    if top_k > 0:
        keep = np.argsort(z)[-top_k:]
        z = np.where(np.isin(np.arange(len(z)), keep), z, -np.inf)
    p = np.exp(z - np.max(z))
    p = p / np.sum(p)
    total = 0.0
    for i in range(len(p)):
        total += p[i]
        if total > u:
            return i
    return int(np.flatnonzero(p)[-1])
''',
    "tbptt_chunks": '''
def tbptt_chunks(ids, B, K):
    L = (len(ids) - 1) // B
    M = L // K
    X = np.zeros((M, K, B), dtype=np.int64)
    Y = np.zeros((M, K, B), dtype=np.int64)
    for m in range(M):
        for t in range(K):
            for b in range(B):
                X[m, t, b] = ids[b * L + m * K + t]
                Y[m, t, b] = ids[b * L + m * K + t + 1]
    return X, Y
''',
    "sequence_cross_entropy": '''
def sequence_cross_entropy(logits, targets):
    T, B, V = logits.shape
    loss, dlogits = 0.0, np.zeros_like(logits)
    for t in range(T):
        for b in range(B):
            z = logits[t, b] - np.max(logits[t, b])
            log_z = np.log(np.sum(np.exp(z)))
            loss -= z[targets[t, b]] - log_z
            dlogits[t, b] = np.exp(z - log_z)
            dlogits[t, b, targets[t, b]] -= 1.0
    return loss / (T * B), dlogits / (T * B)
''',
}

# Right answers written another way than the solution: each must score full marks.
HONEST = {"06-optimizers": {"honest_in_place": _in_place_steps()},
          "08-char-lm": {"honest_loops": LOOPS_08}}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return _GradedCourses(tmp_path_factory)


def _function_points(scores, name):
    got = sum(s for gid, (s, m) in scores.items() if function_of(gid) == name)
    most = sum(m for gid, (s, m) in scores.items() if function_of(gid) == name)
    return got, most


@pytest.mark.parametrize("assignment, student", [(a, st) for a, subs in HONEST.items() for st in subs])
def test_a_right_answer_written_another_way_scores_full_marks(graded, assignment, student):
    _, scores = graded[assignment]
    assert all(s == m for s, m in scores[student].values()), scores[student]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_solution_scores_full_marks(graded, assignment):
    _, scores = graded[assignment]
    assert all(s == m for s, m in scores["solution"].values()), scores["solution"]
    assert sum(s for s, _ in scores["solution"].values()) > 0
    # Points ride on the hidden cases; the public checks' answers ship, so they earn nothing.
    assert all(m == 0 for gid, (_, m) in scores["solution"].items() if gid.endswith("_public"))
    assert all(m > 0 for gid, (_, m) in scores["solution"].items() if gid.endswith("_hidden"))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_released_stubs_score_zero(graded, assignment):
    _, scores = graded[assignment]
    assert sum(s for s, _ in scores["stub"].values()) == 0


@pytest.mark.parametrize("i,assignment,name,mistake", [(i, a, f, m) for i, (a, f, m, _) in enumerate(WRONG)],
                         ids=[f"{a} {f}: {m}" for a, f, m, _ in WRONG])
def test_a_wrong_implementation_loses_that_functions_points_and_only_those(graded, i, assignment, name, mistake):
    _, scores = graded[assignment]
    student = scores[_student(i)]
    assert _function_points(student, name)[0] == 0, f"{mistake!r} kept points: {student}"
    for fn in chapters.assignments()[assignment]:
        if fn.name != name and name not in DEPENDS.get(fn.name, ()):
            got, most = _function_points(student, fn.name)
            assert got == most, f"{mistake!r} in {name} cost {fn.name} points"


@pytest.mark.parametrize("i,assignment,name,mistake", [(i, a, f, m) for i, (a, f, m, _) in enumerate(WRONG)],
                         ids=[f"{a} {f}: {m}" for a, f, m, _ in WRONG])
def test_a_failing_hidden_case_names_its_inputs(graded, i, assignment, name, mistake):
    """Issue 23, item 12: "count is 18216 and differs from the reference" alone does not say
    which case; its inputs' shapes and settings do (safe: each submission has its own seed)."""
    course_dir, _ = graded[assignment]
    result = json.loads((course_dir / "autograded" / _student(i) / assignment / "result.json").read_text())
    hidden = [c["message"] for c in result["cells"] if function_of(c["grade_id"]) == name
              and not c["trusted_passed"] and ", hidden case " in c["message"]]
    assert hidden, [c["message"] for c in result["cells"] if function_of(c["grade_id"]) == name]
    first = chapters.get(name).inputs[0]
    public = cases.public_cases(name)[0].inputs
    settings = [k for k, v in public.items() if not (isinstance(v, np.ndarray) and v.ndim)]
    for message in hidden:
        assert re.search(rf"hidden case \d+:? \({first}[:=]", message), message
        for k in settings:  # a setting by its value (mode='LSTM'), never as a shape "()"
            assert re.search(rf"\b{k}=[^,)]", message), (k, message)
        assert not re.search(r"expected -?\d+\.\d", message), message  # never a hidden reference value


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_cascade_is_noted_once_and_names_one_place_to_start(graded, assignment):
    """Issue 23, item 13: the check's "Note: ... uses ..." and the grader's "(note: ...)"
    never both; a note that says "fix X first" never stands beside "start from the first
    differing index above"."""
    course_dir, scores = graded[assignment]
    for student in scores:
        result = json.loads((course_dir / "autograded" / student / assignment / "result.json").read_text())
        for c in result["cells"]:
            m = c["message"]
            assert not ("Note: " in m and "(note: " in m), m
            assert not ("first, then run this check again" in m and "start from the first differing index" in m), m


@pytest.mark.parametrize("i,assignment,name,mistake", [(i, a, f, m) for i, (a, f, m, _) in enumerate(WRONG)],
                         ids=[f"{a} {f}: {m}" for a, f, m, _ in WRONG])
def test_a_catalogued_mistake_is_diagnosed_as_itself_in_results_and_feedback(graded, i, assignment, name, mistake):
    course_dir, _ = graded[assignment]
    result = json.loads((course_dir / "autograded" / _student(i) / assignment / "result.json").read_text())
    failed = [c for c in result["cells"] if function_of(c["grade_id"]) == name and not c["trusted_passed"]]
    assert failed
    catalogue = {m.key: m for m in chapters.mistakes_for(name)}
    feedback = (course_dir / "feedback" / _student(i) / assignment / f"{assignment}.html").read_text()
    if mistake in catalogue:
        assert {c["diagnosis"] for c in failed} == {mistake}
        assert html.escape(catalogue[mistake].title, quote=False) in feedback
    else:
        assert {c["diagnosis"] for c in failed} == {None}
    others = [m.title for k, m in catalogue.items() if k != mistake]
    assert not any(html.escape(t, quote=False) in feedback for t in others)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_grades_csv_has_every_student_with_the_gradebook_score(graded, assignment):
    course_dir, scores = graded[assignment]
    rows = {r["student_id"]: r for r in csv.DictReader(open(course_dir / "grades.csv"))}
    assert set(rows) == set(scores)
    for student, cells in scores.items():
        assert float(rows[student]["score"]) == sum(s for s, _ in cells.values())
        assert float(rows[student]["max_score"]) == sum(m for _, m in cells.values())


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_html_exists_for_everyone_and_shows_no_hidden_test(graded, assignment):
    course_dir, scores = graded[assignment]
    secrets = {line: kind for line, kind in leaks.secret_lines(solution_path(assignment)).items()
               if kind == "hidden test"}
    for student in scores:
        page = course_dir / "feedback" / student / assignment / f"{assignment}.html"
        text = page.read_text(encoding="utf-8")
        assert leaks.find_leaks(leaks.html_text(page), secrets) == [], page
        assert "HIDDEN TESTS" not in text
    stub_page = (course_dir / "feedback" / "stub" / assignment / f"{assignment}.html").read_text()
    assert "is not implemented yet" in stub_page


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_unscrubbed_feedback_would_be_caught_leaking_hidden_tests(graded, assignment, tmp_path):
    """Stock nbgrader autogrades the instructor's notebook, hidden tests and seeds included,
    and its feedback shows them; the check above would catch that. Ours runs the notebook
    without its seeds, so the autograded notebook holds none to leak."""
    from nbconvert import HTMLExporter

    course_dir, _ = graded[assignment]
    ours = (course_dir / "autograded" / "stub" / assignment / f"{assignment}.ipynb").read_text()
    assert not re.search(r"hidden_seed\s*=\s*\d", ours)
    nb = nbformat.read(course_dir / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    page = tmp_path / "stock.html"
    page.write_text(HTMLExporter().from_notebook_node(nb)[0], encoding="utf-8")
    secrets = {line: kind for line, kind in leaks.secret_lines(solution_path(assignment)).items()
               if kind == "hidden test"}
    assert len(leaks.find_leaks(leaks.html_text(page), secrets)) == len(secrets) > 0


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_class_report_matches_the_gradebook(graded, assignment):
    course_dir, scores = graded[assignment]
    folder = course_dir / "reports" / assignment
    report = json.loads((folder / "report.json").read_text())
    assert report["submissions"] == len(scores)
    for student, cells in scores.items():
        assert report["scores"][student] == sum(s for s, _ in cells.values())
    for fn in chapters.assignments()[assignment]:
        per_student = [sum(s for gid, (s, _) in cells.items() if function_of(gid) == fn.name)
                       for cells in scores.values()]
        q = report["questions"][fn.name]
        assert q["mean"] == pytest.approx(sum(per_student) / len(per_student))
        assert sum(q["distribution"].values()) == len(scores)
    counted = {(m["function"], m["key"]): m["students"] for m in report["mistakes"]}
    from collections import Counter
    from_results = Counter()
    for student in scores:
        result = json.loads((course_dir / "autograded" / student / assignment / "result.json").read_text())
        from_results.update({(function_of(c["grade_id"]), c["diagnosis"])
                             for c in result["cells"] if c["diagnosis"]})
    assert counted == dict(from_results)
    expected = {}  # every planted catalogued mistake is counted (a mistake upstream may add more)
    for a, name, mistake, _ in WRONG:
        if a == assignment and mistake in {m.key for m in chapters.mistakes_for(name)}:
            expected[(name, mistake)] = expected.get((name, mistake), 0) + 1
    assert all(counted.get(k, 0) >= n for k, n in expected.items())
    page = (folder / "index.html").read_text()
    for image in ("scores.png", "time.png") + (("mistakes.png",) if expected else ()):
        assert (folder / image).stat().st_size > 1000
        assert re.search(rf"<img src='{image}' alt='[^']+'>", page)
    rows = list(csv.DictReader(open(folder / "report.csv")))
    assert {r["student_id"]: float(r["score"]) for r in rows} == report["scores"]


CASCADES = [(i, a, f, m) for i, (a, f, m, _) in enumerate(WRONG)
            if any(f in DEPENDS.get(fn.name, ()) for fn in chapters.assignments()[a])]


@pytest.mark.parametrize("i,assignment,name,mistake", CASCADES, ids=[f"{a} {f}: {m}" for _, a, f, m in CASCADES])
def test_a_cascade_is_named_in_the_downstream_functions_message_and_feedback(graded, i, assignment, name,
                                                                            mistake):
    """Each function is scored on its own outputs (README: cascades); when a function that
    uses `name` fails too, its message says that `name` fails its own check."""
    from autograde.grading.score import upstream_of

    course_dir, _ = graded[assignment]
    result = json.loads((course_dir / "autograded" / _student(i) / assignment / "result.json").read_text())
    feedback = html.unescape((course_dir / "feedback" / _student(i) / assignment / f"{assignment}.html").read_text())
    for c in result["cells"]:
        fn = function_of(c["grade_id"])
        if name in upstream_of(fn) and not (c["kernel_passed"] and c["trusted_passed"]):
            # the check's own "Note: ..." or, where the check gave none, the grader's "(note: ...)"
            note = c["message"].partition("Note: ")[2] or c["message"].partition("(note: ")[2]
            assert note.startswith(f"{fn} uses") and name in note, c["message"]
            assert f"Note: {fn} uses" in feedback or f"(note: {fn} uses" in feedback


FLOAT32_INSIDE = {
    "01-rnn-basics": ("rnn_cell", '''
def rnn_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    # copy {i}: float32 arithmetic, a float64 result
    f = np.float32
    h = np.tanh(x_t.astype(f) @ W_ih.astype(f).T + b_ih.astype(f) + h_prev.astype(f) @ W_hh.astype(f).T + b_hh.astype(f))
    return h.astype(np.float64)
'''),
    "06-optimizers": ("sgd_step", '''
def sgd_step(theta, g, state, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    # copy {i}: float32 arithmetic, a float64 result
    f = np.float32
    theta32, g32 = theta.astype(f), g.astype(f)
    if weight_decay != 0:
        g32 = g32 + f(weight_decay) * theta32
    if momentum != 0:
        b = g32.copy() if "b" not in state else f(momentum) * state["b"].astype(f) + f(1 - dampening) * g32
        state = {**state, "b": b.astype(np.float64)}
        g32 = g32 + f(momentum) * b if nesterov else b
    return (theta32 - f(lr) * g32).astype(np.float64), state
'''),
}


@pytest.mark.parametrize("assignment", sorted(FLOAT32_INSIDE))
def test_float32_arithmetic_gets_the_same_grade_under_every_hidden_seed(tmp_path, assignment):
    """Issue 23, item 4: a function that computes in float32 and returns float64 scored 4 to
    11 of 11 over copies that differed only by a comment (each submission gets its own
    hidden seed). The comparison is float64-grade, so float32 arithmetic fails every time
    (and every exercise says so: test_student_path)."""
    fn, source = FLOAT32_INSIDE[assignment]
    subs = {f"copy{i}": make_submission(assignment, {fn: source.replace("{i}", str(i))}) for i in range(8)}
    scores = grade_class(tmp_path, assignment, subs)
    points = {student: _function_points(s, fn) for student, s in scores.items()}
    assert set(points.values()) == {(0, points["copy0"][1])}, points
