# Two commands do everything on a fresh machine (Python 3.11, pip, root):
#   make book   builds the HTML book and the student notebooks (exercises/)
#   make test   runs the whole test suite (it builds the book too)
# Each installs what it needs into .venv first.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup book exercises test bench clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt -e .
	touch $@

setup: $(STAMP)

exercises: setup
	$(BIN)/rnn-course release

book: exercises
	$(BIN)/jupyter-book build . -W -n --keep-going

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/build_and_grade.py

clean:
	rm -rf _build
