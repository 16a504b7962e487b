"""Chapter 7's exercise: the one assignment whose sandbox may import PyTorch, and a
forecast graded on a series the student never sees, judged against the best simple
forecast by the trusted process. Hostile submissions here are graded by the real `rnn-course grade`."""
import json
import subprocess

import nbformat
import numpy as np
import pytest

from autograde import chapters
from autograde.grading import references, sandbox
from autograde.kernel.adapters import ch07_capstone as adapters
from conftest import ASSIGNMENTS, ROOT, grade_class, make_submission
from kit import notebooks

ASSIGNMENT = "07-capstone"


# --- the design, without a sandbox --------------------------------------------------------

@pytest.mark.parametrize("seed", [5297, 1, 77, 90210, 123456789])
def test_no_hidden_forecast_target_appears_in_anything_the_sandbox_receives(tmp_path, seed):
    """The hidden-inputs file holds the forecast's arguments only: no key but u_train,
    windows and k, and not one target value anywhere in it (exact values: the same
    arrays on the same machine)."""
    path = notebooks.write_hidden_inputs(tmp_path / "hidden.npz", {"forecast": seed})
    cases = references.hidden_inputs("forecast", seed)
    with np.load(path, allow_pickle=False) as data:
        keys = {k.rsplit("/", 1)[1] for k in data.files}
        given = np.concatenate([data[k].ravel().astype(np.float64) for k in data.files])
    assert keys == {"u_train", "windows", "k"}
    for case in cases:
        assert not np.isin(case["targets"], given).any()


def test_the_check_of_the_leak_finder_above_fails_when_a_target_is_given(tmp_path):
    """The test above can fail: a file that does hold the targets is caught."""
    case = references.hidden_inputs("forecast", 5297)[0]
    given = np.concatenate([case["u_train"], case["windows"].ravel(), case["targets"].ravel()])
    assert np.isin(case["targets"], given).all()


def _least_squares_ar(case, w=32):
    """A linear AR on the window's w values, fitted by least squares on u_train alone."""
    z, k = case["u_train"], case["k"]
    X = np.stack([z[i:i + w] for i in range(len(z) - w - k + 1)])
    Y = np.stack([z[i + w:i + w + k] for i in range(len(z) - w - k + 1)])
    A = np.linalg.lstsq(np.c_[X, np.ones(len(X))], Y, rcond=None)[0]
    return np.c_[case["windows"][:, -w:], np.ones(len(case["windows"]))] @ A


def _untrained(case):
    """Forecasts that learn nothing from u_train, as a student might try them (issue 23,
    item 10): extrapolations of the last values, persistence, seasonal naive, means."""
    W, k = case["windows"], case["k"]
    last, h = W[:, -1:], np.arange(1, k + 1)
    P = adapters.season_of(case["u_train"], W.shape[1])
    out = {f"last step x {c}": last + c * (last - W[:, -2:-1]) * h for c in (0.1, 0.3, 0.6, 0.9, 1.5)}
    out.update({
        "mean step over 3": last + (last - W[:, -4:-3]) / 3 * h,
        "drift over the window": last + (last - W[:, :1]) / (W.shape[1] - 1) * h,
        "persistence": np.repeat(last, k, axis=1),
        "seasonal naive": W[:, W.shape[1] - P:W.shape[1] - P + k],
        "seasonal naive, season 20": W[:, -20:-20 + k],
        "training mean": np.full(W[:, :k].shape, case["u_train"].mean()),
        "window mean": np.repeat(W.mean(axis=1, keepdims=True), k, axis=1),
        "mean of last 4": np.repeat(W[:, -4:].mean(axis=1, keepdims=True), k, axis=1),
    })
    return out


@pytest.mark.slow
def test_over_200_hidden_seeds_every_untrained_rule_fails_and_a_fitted_ar_passes():
    """The bar (0.9 x the best simple forecast's RMSE) on both hidden cases of 200 seeds:
    a least-squares AR on the window passes every case, each untrained rule fails every
    case, so none keeps the forecast's points under any seed."""
    spec = chapters.get("forecast").spec()
    passed: dict[str, int] = {}
    ar_failed = []
    for seed in range(200):
        for i, case in enumerate(references.hidden_inputs("forecast", seed)):
            target = [case["targets"]]
            if spec.compare(case, target, _least_squares_ar(case)) is not None:
                ar_failed.append((seed, i))
            for name, forecast in _untrained(case).items():
                if spec.compare(case, target, forecast) is None:
                    passed[name] = passed.get(name, 0) + 1
    assert not ar_failed, f"the fitted AR fails {len(ar_failed)} cases, e.g. {ar_failed[:3]}"
    assert not passed, f"untrained rules pass some hidden cases: {passed}"


def test_the_judge_passes_a_real_forecast_and_fails_the_mean_persistence_and_the_window_mean():
    fn = chapters.get("forecast")
    spec = fn.spec()
    for case in fn.cases(31337, 3):
        targets = case["targets"]
        Y_hat = _least_squares_ar(case)  # a real model
        assert spec.compare(case, [targets], Y_hat) is None
        for key in ("training-mean", "persistence", "window-mean"):
            wrong = chapters.known_mistake("forecast", key).outputs(case)[0]
            mismatch = spec.compare(case, [targets], wrong)
            assert mismatch is not None and "the best simple forecast here" in mismatch.message, key
        # the wrong shape is refused, not judged
        assert spec.compare(case, [targets], Y_hat[:, :1]).kind == "shape"


def test_a_shuffled_split_is_diagnosed_by_its_order_whatever_the_shuffle():
    spec = chapters.get("chronological_split").spec()
    u = np.random.default_rng(4).normal(size=30)
    inputs = {"u": u, "n_val": 5, "n_test": 4}
    for seed in range(5):
        v = np.random.default_rng(seed + 100).permutation(u)
        assert adapters.split_order(inputs, (v[:21], v[21:26], v[26:])) == "shuffled-split"
    # in time order, reversed, or with other values, it is not a shuffle
    assert adapters.split_order(inputs, (u[:21], u[21:26], u[26:])) is None
    r = u[::-1]
    assert adapters.split_order(inputs, (r[:21], r[21:26], r[26:])) is None
    assert adapters.split_order(inputs, (u[:21] + 1, u[21:26], u[26:])) is None
    assert spec.diagnose_with == "split_order"


def test_only_the_capstone_declares_a_sandbox_with_torch():
    declared = {a: chapters.sandbox_imports(a) for a in ASSIGNMENTS}
    assert declared.pop(ASSIGNMENT) == ("torch",)
    assert all(v == () for v in declared.values()), declared


def test_the_torch_sandbox_environment_has_torch_and_the_plain_one_does_not():
    probe = "import importlib.util as u; print(bool(u.find_spec('torch')), bool(u.find_spec('autograde')))"
    plain = subprocess.run([str(sandbox.sandbox_python()), "-I", "-c", probe], capture_output=True, text=True)
    with_torch = subprocess.run([str(sandbox.sandbox_python(torch=True)), "-I", "-c", probe],
                                capture_output=True, text=True)
    assert plain.stdout.split() == ["False", "False"], plain.stderr
    assert with_torch.stdout.split() == ["True", "False"], with_torch.stderr


# --- hostile submissions through the real grading command ------------------------------------

PROBE = ('''
import importlib
for name in ("torch", "autograde.kernel", "autograde.chapters", "autograde.grading",
             "autograde.grading.references", "autograde.chapters.ch07_capstone"):
    try:
        importlib.import_module(name)
        print("PROBE import", name, "ok")
    except Exception as exc:
        print("PROBE import", name, "failed", type(exc).__name__)
import os
for path in ("ROOT/solutions", "ROOT/autograde/chapters", "ROOT/gradebook.db", "/root"):
    print("PROBE exists", path, os.path.exists(path))
print("PROBE env", sorted(k for k in os.environ if k.startswith("AUTOGRADE") or "TARGET" in k
                         or ("SEED" in k and k != "PYTHONHASHSEED")))


def forecast(u_train, windows, k):
    return np.full((len(windows), k), float(np.mean(u_train)))
''').replace("ROOT", str(ROOT))

# Searches every file it can read and the kernel's own memory for the series that
# continues each window, and returns that continuation: full marks if any target
# were reachable. The only continuation it finds is the next window's start (the
# windows array itself), GAP values too late to help.
SEARCH = '''
def forecast(u_train, windows, k):
    import gc
    import os

    found = []

    def consider(a):
        a = np.asarray(a)
        if a.dtype.kind == "f" and a.size >= 8:
            found.append(a.ravel())

    for root, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if os.path.join(root, d) not in ("/proc", "/sys", "/dev", "/usr")
                   and "site-packages" not in d and "site-packages" not in root]
        for f in files:
            try:
                path = os.path.join(root, f)
                if f.endswith(".npz"):
                    with np.load(path) as z:
                        for key in z.files:
                            consider(z[key])
                elif f.endswith(".npy"):
                    consider(np.load(path))
            except Exception:
                pass
    for pid in os.listdir("/proc"):
        try:
            print("SEARCH environ", pid, open(f"/proc/{pid}/environ", "rb").read()[:0])
        except OSError:
            pass
    for o in gc.get_objects():
        if isinstance(o, np.ndarray):
            consider(o)
    print("SEARCH arrays found", len(found))
    Y = np.repeat(windows[:, -1:], k, axis=1)
    for i, row in enumerate(windows):
        for a in found:
            if a is row:
                continue
            for h in np.flatnonzero(a == row[-1]):
                if h + k < len(a) and h >= len(row) - 1 and np.array_equal(a[h - len(row) + 1:h + 1], row):
                    Y[i] = a[h + 1:h + 1 + k]
                    break
    return Y
'''

# Uses the future that is given: for each window, the next window's first values.
NEXT_WINDOW = '''
def forecast(u_train, windows, k):
    Y = np.repeat(windows[:, -1:], k, axis=1)
    Y[:-1] = windows[1:, :k]
    return Y
'''


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    course_dir = tmp_path_factory.mktemp("capstone-hostile")
    subs = {"solution": make_submission(ASSIGNMENT), "probe": make_submission(ASSIGNMENT, {"forecast": PROBE}),
            "search": make_submission(ASSIGNMENT, {"forecast": SEARCH}),
            "nextwindow": make_submission(ASSIGNMENT, {"forecast": NEXT_WINDOW})}
    scores = grade_class(course_dir, ASSIGNMENT, subs)
    return course_dir, scores


def _outputs(course_dir, student):
    nb = nbformat.read(course_dir / "autograded" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def _result(course_dir, student):
    return json.loads((course_dir / "autograded" / student / ASSIGNMENT / "result.json").read_text())


@pytest.mark.slow
def test_the_solution_wins_the_forecast_points_in_the_torch_sandbox(hostile):
    _, scores = hostile
    assert scores["solution"]["test_forecast_hidden"] == (3.0, 3.0)


@pytest.mark.slow
def test_the_capstone_sandbox_imports_torch_but_no_reference_and_sees_no_course(hostile):
    course_dir, _ = hostile
    out = _outputs(course_dir, "probe")
    assert "PROBE import torch ok" in out
    assert "PROBE import autograde.kernel ok" in out
    for name in ("autograde.chapters", "autograde.grading", "autograde.grading.references",
                 "autograde.chapters.ch07_capstone"):
        assert f"PROBE import {name} failed" in out, out
    for path in ("solutions", "autograde/chapters"):
        assert f"PROBE exists {ROOT}/{path} False" in out, out
    assert "PROBE env ['AUTOGRADE_HIDDEN', 'AUTOGRADE_RECORD']" in out  # paths, no seed, no target


@pytest.mark.slow
def test_the_training_mean_loses_the_beats_persistence_points_and_is_told_why(hostile):
    course_dir, scores = hostile
    assert scores["probe"]["test_forecast_hidden"] == (0.0, 3.0)
    cell = next(c for c in _result(course_dir, "probe")["cells"] if c["grade_id"] == "test_forecast_hidden")
    assert cell["diagnosis"] == "training-mean"
    assert "the best simple forecast here" in cell["message"] and "persistence: " in cell["message"]


@pytest.mark.slow
@pytest.mark.parametrize("student", ["search", "nextwindow"])
def test_searching_the_sandbox_or_using_the_next_window_earns_no_forecast_points(hostile, student):
    course_dir, scores = hostile
    assert scores[student]["test_forecast_hidden"] == (0.0, 3.0), _result(course_dir, student)
    if student == "search":
        assert "SEARCH arrays found" in _outputs(course_dir, student)


def test_the_public_forecast_check_is_quick_and_the_hidden_bar_unchanged():
    """Issue 24, item 10: the forecast's public check trains the student's model in the
    notebook, so its series is short (the reference-style GRU's check: about a second of
    CPU on one thread, under 5 s); the hidden cases, which carry the points, keep their
    600 training values and the bar (RMSE below 0.9 x the best simple forecast's)."""
    import time

    import torch

    from autograde.chapters import ch07_capstone as ch
    from autograde.kernel import checks
    from autograde.kernel.adapters import ch07_capstone as adapters
    from autograde.kernel.cases import public_cases
    from conftest import solution_sources

    (case,) = public_cases("forecast")
    assert len(case.inputs["u_train"]) <= 320
    # the shorter public case still rejects the catalogue's forecasts and the next window's
    windows, k = case.inputs["windows"], case.inputs["k"]
    next_window = np.repeat(windows[:, -1:], k, axis=1)
    next_window[:-1] = windows[1:, :k]
    for wrong in [next_window, *case.mistakes.values()]:
        assert adapters.beats_simple_forecasts(case.inputs, case.expected,
                                               wrong[0] if isinstance(wrong, list) else wrong)
    assert all(len(c["u_train"]) == ch.N_TRAIN == 600 for c in references.hidden_inputs("forecast", 5297))
    assert adapters.BEAT_RATIO == 0.9
    ns = {"np": np, "torch": torch}
    sources = solution_sources(ASSIGNMENT)
    for name in ("make_windows", "chronological_split", "scale_splits", "rmse_mae", "forecast"):
        exec(sources[name], ns)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        start = time.process_time()
        checks.check("forecast", ns["forecast"])
        cpu = time.process_time() - start
    finally:
        torch.set_num_threads(threads)
    assert cpu < 5, f"the public forecast check took {cpu:.1f} s of CPU"
