# Two commands do everything on a fresh machine (Python 3.11, pip, root):
#   make book   builds the HTML book and the student notebooks (exercises/), and the
#               students' wheel of the checks into _build/html/_static/ (book/_ext/student_wheel.py)
#   make test   runs the whole test suite (it builds the book too)
#   make check  runs the fast tier of it (no book, browser, cluster or venv; README, "Tests")
# Each installs what it needs into .venv first.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup system book exercises test check bench clean

# Debian packages: bubblewrap isolates each graded submission; chromium runs the browser
# tests of the built book (tests/test_browser.py), and a CJK and an emoji font let its
# screenshots show the Chinese terms and the execution table's status marks; npm installs
# MathJax, which the book serves itself.
APT_PACKAGES := bubblewrap chromium fonts-noto-cjk fonts-noto-color-emoji npm

# MathJax from the npm registry, pinned in package.json / package-lock.json.
NODE_STAMP := node_modules/.package-lock.json

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt -e .
	touch $@

# The grading sandbox's environment: numpy and IPython's shell, never PyTorch (see
# autograde/grading/sandbox.py). Made afresh (--clear) so it holds exactly the list.
SANDBOX_STAMP := $(VENV)/sandbox/.installed

$(SANDBOX_STAMP): requirements-sandbox.txt
	$(PYTHON) -m venv --clear $(VENV)/sandbox
	$(VENV)/sandbox/bin/pip install --quiet -r requirements-sandbox.txt
	touch $@

# The one assignment that declares it (07-capstone: the student trains a torch model)
# runs in a second sandbox environment that also holds PyTorch; still no course package.
SANDBOX_TORCH_STAMP := $(VENV)/sandbox-torch/.installed

$(SANDBOX_TORCH_STAMP): requirements-sandbox.txt requirements-sandbox-torch.txt
	$(PYTHON) -m venv --clear $(VENV)/sandbox-torch
	$(VENV)/sandbox-torch/bin/pip install --quiet -r requirements-sandbox-torch.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

system:
	@missing=""; \
	command -v bwrap >/dev/null || missing="$$missing bubblewrap"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	fc-list :lang=zh 2>/dev/null | grep -q . || missing="$$missing fonts-noto-cjk"; \
	fc-list 2>/dev/null | grep -qi 'color emoji' || missing="$$missing fonts-noto-color-emoji"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "please install:$$missing (grading refuses to run without a sandbox; the browser tests need chromium)"; fi; \
	fi

setup: system $(STAMP) $(SANDBOX_STAMP) $(SANDBOX_TORCH_STAMP) $(NODE_STAMP)

exercises: setup
	$(BIN)/rnn-course release

book: exercises
	$(BIN)/jupyter-book build . -W -n --keep-going

# Every core, one test file at a time per worker (its module fixtures, such as a graded
# class, made once); tests/conftest.py orders the files so that the book is built while
# the other worker grades.
PYTEST := $(BIN)/python -m pytest -n auto --dist loadfile

test: setup
	$(PYTEST)

check: setup
	$(PYTEST) -m "not slow"

bench: setup
	$(BIN)/python benchmarks/chapter_times.py
	$(BIN)/python benchmarks/build_and_grade.py
	$(BIN)/python benchmarks/grading_throughput.py
	$(BIN)/python benchmarks/diagnosis.py

clean:
	rm -rf _build
