# Every target installs what it needs into .venv first, so each works on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: demo test lint bench bench-service bench-trees fuzz kill9 clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,dev]'
	rm -f $(VENV)/.installed-* && touch $@

demo: $(STAMP)
	$(BIN)/matcher demo --workdir demo-output

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy matcher features models benchmarks
	MATCHER_REQUIRE_POSTGRES=1 $(BIN)/python -m pytest -q -n auto --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy matcher features models benchmarks

bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench_batch

bench-service: $(STAMP)
	$(BIN)/python -m benchmarks.bench_service

bench-trees: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[all,dev,bench]'
	$(BIN)/python -m benchmarks.bench_trees

# Seeded mutation fuzz of every RPC and of the CSV loaders, then a restart on the journal it left (issue 13).
FUZZ_SECONDS ?= 600
fuzz: $(STAMP)
	$(BIN)/python -m benchmarks.fuzz --seconds $(FUZZ_SECONDS) --report fuzz-report.json

# kill -9 at random moments during mixed writes, restart, check every acknowledged write (issue 13).
KILLS ?= 100
kill9: $(STAMP)
	$(BIN)/python -m benchmarks.kill9 --kills $(KILLS) --report kill9-report.json

clean:
	rm -rf $(VENV) demo-output build *.egg-info
