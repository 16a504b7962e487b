"""The test tiers: `make check` (`-m "not slow"`) runs no book build, browser, cluster or
venv. A test is marked from the fixtures it uses, and a test that starts one of those
tools itself without its marker fails (tests/conftest.py)."""
from __future__ import annotations

import subprocess
import sys
import venv

import pytest

import browser_checks as bc
from conftest import BIN, TIER_FIXTURES, TIERS, TierError, tier_of_command


@pytest.mark.parametrize("cmd,tier", [
    ([BIN / "jupyter-book", "build", ".", "-W"], "book"),
    (["sphinx-build", "-b", "html", ".", "_build"], "book"),
    ([sys.executable, "-m", "jupyter_book", "build", "."], "book"),
    ([bc.CHROMIUM, "--headless"], "browser"),
    (["/opt/node", "/x/playwright/driver/package/cli.js", "run-driver"], "browser"),
    ([BIN / "dask", "scheduler", "--port", "0"], "cluster"),
    (["dask-worker", "tcp://127.0.0.1:1"], "cluster"),
    ([sys.executable, "-m", "venv", "/tmp/v"], "venv"),
    ("python3 -m venv /tmp/v", "venv"),
    ([BIN / "rnn-course", "grade", "01-rnn-basics"], None),
    ([sys.executable, "-c", "print('chromium venv jupyter-book')", "/tmp/chromium-profile"], None),
    ([sys.executable, "-m", "pip", "install", "numpy"], None),
    ([BIN / "dask", "--version"], None),
    (["bwrap", "--ro-bind", "/", "/", "true"], None),
])
def test_a_command_line_is_told_its_tier(cmd, tier):
    assert tier_of_command(cmd) == tier


@pytest.mark.parametrize("cmd", [
    [BIN / "jupyter-book", "build", "."],
    [bc.CHROMIUM, "--headless", "--version"],
    [BIN / "dask", "scheduler", "--port", "0"],
    [sys.executable, "-m", "venv", "{tmp}/venv"],
], ids=["book", "browser", "cluster", "venv"])
def test_an_unmarked_test_that_starts_a_heavy_tool_fails_naming_the_marker(cmd, tmp_path):
    cmd = [str(c).replace("{tmp}", str(tmp_path)) for c in cmd]
    with pytest.raises(TierError, match=rf"is not marked `{tier_of_command(cmd)}`"):
        subprocess.run(cmd, cwd=tmp_path, capture_output=True)
    assert not (tmp_path / "venv").exists()
    assert subprocess.run([sys.executable, "-c", "print(1)"], capture_output=True, text=True).stdout == "1\n"


def test_an_unmarked_test_cannot_create_a_venv_in_process_either(tmp_path):
    with pytest.raises(TierError, match="is not marked `venv`"):
        venv.create(tmp_path / "venv")
    assert not (tmp_path / "venv").exists()


@pytest.mark.venv
def test_a_test_marked_venv_may_run_the_venv_module():
    assert subprocess.run([sys.executable, "-m", "venv", "--help"], capture_output=True).returncode == 0


@pytest.mark.cluster
def test_a_test_marked_cluster_may_run_dask_scheduler():
    proc = subprocess.run([BIN / "dask", "scheduler", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "--port" in proc.stdout


def test_every_test_that_uses_a_heavy_fixture_carries_its_marker_and_slow(request):
    heavy = [item for item in request.session.items if set(item.fixturenames) & set(TIER_FIXTURES)]
    for item in heavy:
        for fixture in set(item.fixturenames) & set(TIER_FIXTURES):
            assert item.get_closest_marker(TIER_FIXTURES[fixture]), (item.nodeid, fixture)
    for item in request.session.items:
        if any(item.get_closest_marker(t) for t in TIERS):
            assert item.get_closest_marker("slow"), item.nodeid
