# The two commands: `make` (set up, check, build every edition) and `make test`.
# Needs only Python 3.11+, git and make; everything else is installed into .venv.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PAPER  := $(BIN)/paper
STAMP  := $(VENV)/.installed

.PHONY: all setup check build test html pdf epub summary serve figures screenshots bench clean lock

all: check build

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

check: $(STAMP)
	$(PAPER) check

build: $(STAMP)
	$(PAPER) build

html pdf epub: $(STAMP)
	$(PAPER) build --to $@

summary: $(STAMP)
	$(PAPER) build summary

# Preview the paper on http://127.0.0.1:8000/paper/, rebuilt and reloaded on every save (Ctrl-C stops).
serve: $(STAMP)
	$(PAPER) serve

# The README's pictures of the PDF title page and the HTML page.
screenshots: build
	@sh scripts/system-tools.sh chromium
	$(BIN)/python scripts/screenshots.py

# The build benchmark of issue 7: prints a table, writes bench/results.json (see bench/README.md).
bench: $(STAMP)
	$(BIN)/python bench/run.py

# Redraw the paper's figures from scripts/make_figures.py.
figures: $(STAMP)
	$(BIN)/python scripts/make_figures.py

test: $(STAMP)
	@sh scripts/system-tools.sh java chromium
	$(BIN)/python -m pytest -q

clean:
	@if [ -x $(PAPER) ]; then $(PAPER) clean; else rm -rf build .cache; fi

# Re-pin every package after changing dependencies in pyproject.toml.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -e '.[test]' setuptools==80.9.0
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^-e' > requirements.lock.new
	rm -rf .lock-venv && mv requirements.lock.new requirements.lock
