# Two commands for a fresh machine: `make demo` (train on the embedded shapes data) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 3

.PHONY: demo test test-random test-fast bench venv clean

$(STAMP): setup.py pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/vlae-train --preset shapes --out runs/demo --steps 8000 --precision auto --demo

# -p no:randomly: CI runs the suite in file order (pytest-randomly, a test dependency, would shuffle it).
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -p no:randomly --durations=15 tests

# The same suite in a shuffled order with pytest-randomly's reseeding; it prints the seed to replay a
# failure with `-p randomly --randomly-seed=N`. Every test must pass in any order.
test-random: $(STAMP)
	$(BIN)/python -m pytest -n 2 -p randomly tests

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow" tests

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) runs .pytest_cache
